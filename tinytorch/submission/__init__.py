"""The submission format, hand-written and shared by students and instructors.

One concept per module: the vocabulary (names, units, roles), the machine description, paths
into nested JSON, numbers and the checks on them, the significance of a latency change, the JSON
Schema check, the errors, and reading and writing files. What a student writes (building and
validating a submission) lives in the capstone notebook and is built on these.
"""
