"""The course machinery of TinyTorch Module 20: how the capstone is authored, published to
students and graded. It is instructor code; none of it is in the student package.

Laid out by pipeline stage; what may import what goes down this list, never up:

- ``paths``: every course path and name (folders, gradebook, reports, notebook ids, the
  repository root), defined once;
- ``authoring``: the source markers, the package export, the release and the reference solution;
- ``student``: the student package, the student edition and its venv;
- ``grading``: the coordinator and its command line, the grading task, the cluster, the nbgrader
  fork server, the gradebook merge, the report, the tamper-sign review, nbgrader preprocessors
  and plugins (one per file, named after its class), and ``grading.jail``.

Each stage may import ``paths`` and the stages above it; ``grading`` may import ``student`` (the
jail mounts the student package) and ``authoring.markers``.
"""
