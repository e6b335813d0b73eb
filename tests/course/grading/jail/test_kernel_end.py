"""How a graded kernel ends under the course's nbgrader_config.py: killed once its last cell has
run, not asked to shut down (ipykernel's graceful shutdown sometimes deadlocks, and the grader
then waits 2.5 s for nothing; see nbgrader_config.py)."""

from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from tinytorch_course.grading.preprocessors.jailedexecute import JailedExecute
from tinytorch_course.paths import REPO


def _course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def _notebook(marker: Path):
    """One cell that leaves ``marker`` behind if the kernel ends by itself (atexit) or is asked to
    end by a signal it can catch (SIGTERM, jupyter_client's next step when a shutdown stalls);
    a kernel killed with SIGKILL leaves nothing."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import atexit, os, pathlib, signal\n"
            f"marker = pathlib.Path({str(marker)!r})\n"
            "atexit.register(marker.write_text, 'exited')\n"
            "signal.signal(signal.SIGTERM, lambda *_: (marker.write_text('terminated'), os._exit(0)))\n"
            "print('ready')"
        )
    ]
    return nb


@pytest.mark.parametrize(
    "shutdown, ends_by_itself", [(None, False), ("graceful", True)], ids=["course-config", "graceful-control"]
)
def test_a_graded_kernel_is_killed_after_its_last_cell(tmp_path, shutdown, ends_by_itself):
    config = _course_config()
    # Unjailed, so the kernel can leave its marker where the test reads it; the kill itself is
    # jupyter_client's either way (in the jail, SIGKILL to bubblewrap ends its PID namespace).
    config.JailSettings.enabled = False
    if shutdown is not None:
        config.Execute.shutdown_kernel = shutdown
    marker = tmp_path / "ended"
    nb, _ = JailedExecute(config=config).preprocess(_notebook(marker), {"metadata": {"path": str(tmp_path)}})
    assert nb.cells[0].outputs[0]["text"] == "ready\n"  # the cell ran and registered its handlers
    assert marker.exists() is ends_by_itself
