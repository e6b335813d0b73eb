"""Grading many submissions with stock ``nbgrader autograde``, on one machine or a Dask cluster.

One concept per module: ``gradebook`` (copying, seeding and merging gradebook rows through
nbgrader's Gradebook API), ``task`` (one grading task: a scratch course built from bytes, stock
nbgrader in it, rows and autograded files returned), ``launch`` (how a task starts nbgrader: forked
from a server that imported it once, per host on a LocalCluster), ``cluster`` (where the tasks run: a Dask
``LocalCluster`` or an existing scheduler) and ``report`` (one line per submission, with the
reason for anything not graded normally).
"""
