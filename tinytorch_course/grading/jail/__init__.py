"""The grading jail: every kernel that runs a student's notebook starts inside bubblewrap.

One concept per module: ``events`` (the lines the jail logs for the grading report),
``settings`` (the limits and paths, as configurable traits), ``bwrap`` (the bubblewrap command
line), ``cgroup`` (the jail's total memory and pids limits, where cgroups can be created),
``watchdog`` (the wall-clock budget), ``manager`` (the kernel manager nbgrader uses) and
``preflight`` (whether a jail can be created here, and what to do when it cannot).
"""
