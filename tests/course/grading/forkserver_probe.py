"""Run by tests/course/grading/test_forkserver.py through the nbgrader server: prints its working folder,
one variable of its environment and its arguments, then exits with code 7."""

import os
import sys

if __name__ == "__main__":
    print(os.getcwd(), os.environ.get("PROBE"), *sys.argv[1:])
    sys.exit(7)
