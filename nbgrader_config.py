"""nbgrader configuration of the course: run nbgrader's own commands from the repo root.

    nbgrader generate_assignment 20_capstone --force    (what `make release` runs)
    nbgrader autograde 20_capstone                      submitted/<student>/20_capstone/capstone.ipynb
    nbgrader generate_feedback 20_capstone              feedback/<student>/20_capstone/capstone.html
    nbgrader export                                     grades.csv

The course root is the directory nbgrader runs in (the repo root); the gradebook is
<root>/gradebook.db. The source and release steps live in the ignored build tree (see
tinytorch_course/paths.py), so the jupytext .py source is never seen or copied by nbgrader.
"""

import atexit
import os
import shutil
import tempfile

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from tinytorch_course.grading.plugins.canonicalnotebookexporter import CanonicalNotebookExporter
from tinytorch_course.grading.preprocessors.failunreadable import FailUnreadable
from tinytorch_course.grading.preprocessors.restorelockedcells import RestoreLockedCells
from tinytorch_course.grading.preprocessors.sanitizehiddentests import SanitizeHiddenTests
from tinytorch_course.grading.preprocessors.sanitizeoutputs import SanitizeOutputs
from tinytorch_course.grading.preprocessors.twokernelexecute import TwoKernelExecute
from tinytorch_course.grading.timestamps import read_timestamps_without_links
from tinytorch_course.paths import RELEASE_DIRECTORY, SOURCE_DIRECTORY

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# nbgrader reads a hand-in's timestamp.txt itself, before any hook: read it without following a
# link, a plain small file only (tinytorch_course/grading/timestamps.py).
read_timestamps_without_links()

c.CourseDirectory.source_directory = SOURCE_DIRECTORY
c.CourseDirectory.release_directory = RELEASE_DIRECTORY

# Students are whoever appears in submitted/; no roster to maintain.
c.Autograde.create_student = True

# What is graded is the canonical notebook of each hand-in: the assignment's source notebook with
# only the text of the student's answer cells and added code cells (tinytorch_course/grading/
# canonical.py). The exporter reads the hand-in safely (no link followed, size, depth, UTF-8 and
# structure checked); an unreadable one scores 0 with its reason instead of stopping the student.
c.Autograde.exporter_class = CanonicalNotebookExporter

# Only the notebook is graded: stock nbgrader copies every other file of a folder it converts
# (BaseConverter.init_assignment, before any preprocessor or hook runs, following links), so
# autograde would copy the files beside a hand-in into autograded/ and from there into the jail's
# working folder, where a numpy.py shadows numpy and a link reads whatever it points at. No name is
# copied, in any command: the capstone ships no file besides its notebook, and the course collects
# by copying notebooks into submitted/ (nbgrader's exchange commands would copy nothing).
c.CourseDirectory.ignore = ["*", ".*"]

# Per-cell timeout: an infinite loop is interrupted and costs only the cell it is in; the kernel
# stays alive and the rest of the notebook runs. The slowest honest cell (training) takes a few
# seconds, so 60 s leaves a wide margin on a loaded machine.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A graded kernel is killed once its last cell has run, not asked to shut down: its outputs are
# all in the notebook by then. ipykernel 7's graceful shutdown sometimes deadlocks (its control
# thread waits for an output flush from the I/O thread the closing kernel has already stopped),
# and jupyter_client then waits 2.5 s before it terminates the kernel: one notebook in twenty to
# forty on busy cores. The kill is SIGKILL to the jail, whose PID namespace ends with it.
c.Execute.shutdown_kernel = "immediate"

# Kernels talk over Unix sockets in a folder private to this nbgrader process. With TCP, a port
# picked as free can be taken by another process before the kernel binds it ("Address already in
# use"), which fails a submission at random when several graders run at once.
_KERNEL_DIR = tempfile.mkdtemp(prefix="nbg-")
atexit.register(shutil.rmtree, _KERNEL_DIR, True)
c.KernelManager.transport = "ipc"
c.KernelManager.ip = os.path.join(_KERNEL_DIR, "kernel")

# Every graded kernel runs in the grading jail (tinytorch_course/grading/jail, bubblewrap): stock
# autograding with Execute replaced by TwoKernelExecute, a JailedExecute (whose kernel manager
# starts each kernel jailed, and whose notebook is still graded when the kernel dies or runs out of
# its budget) that runs each notebook in two kernels: the student's code in one, the tests in the
# other, which receives from the first only the data its tests ask for ("act, then judge").
# SANDBOX=0 in the environment grades unjailed (logged).
# FailUnreadable, right after it, fails every cell of a hand-in that could not be read (a 0);
# SanitizeOutputs drops or cleans active content (scripts, raw HTML) the student's kernel displayed.
c.Autograde.autograde_preprocessors = [
    TwoKernelExecute,
    FailUnreadable,
    SanitizeOutputs,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# The jail's limits are settings of tinytorch_course/grading/jail/settings.py (defaults and reasons there), e.g.:
#   c.JailSettings.budget_s = 300        wall-clock seconds of the student's kernel (the tests': twice)
#   c.JailSettings.memory_mib = 4096     address space of each process in the jail
#   c.JailSettings.max_processes = 256   processes and threads at once
#   c.JailSettings.write_mib = 512       the jail's /tmp and working folder; the largest file

# Stock sanitizing, with OverwriteCells replaced by its subclass RestoreLockedCells: a deleted or
# moved locked cell (test or fixture) is put back in its source position and graded, where stock
# add_missing_cells crashes with a KeyError when a deleted test cell follows a read-only cell.
# An edited locked cell is restored from the gradebook whatever the flag says.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    RestoreLockedCells,
    CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True

# Feedback is what students receive: strip hidden tests from sources and from tracebacks.
c.GenerateFeedback.preprocessors = [GetGrades, SanitizeHiddenTests, CSSHTMLHeaderPreprocessor]
c.SanitizeHiddenTests.enforce_metadata = False
