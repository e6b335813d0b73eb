"""Grading the notebooks students hand in (their *hand-ins*; "submission" is the benchmark JSON
the capstone writes) with stock ``nbgrader autograde``, on one machine or a Dask cluster.

One concept per module: ``coordinator`` (the batch: tasks, merges, the report; and its command
line), ``task`` (one grading task: a scratch course built from bytes, stock nbgrader in it, rows
and autograded files returned), ``forkserver`` (how a task starts nbgrader: forked from a server
that imported it once, per host on a LocalCluster), ``cluster`` (where the tasks run: a Dask
``LocalCluster`` or an existing scheduler), ``gradebook`` (copying, seeding and merging gradebook
rows through nbgrader's Gradebook API), ``report`` (one line per hand-in, with the reason for
anything not graded normally), ``tamper_signs`` (what in a hand-in's own cells looks like kernel
tampering), ``preprocessors`` and ``plugins`` (nbgrader's extension points) and ``jail`` (the
sandbox every graded kernel runs in).
"""
