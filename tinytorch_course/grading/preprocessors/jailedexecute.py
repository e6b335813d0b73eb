"""nbgrader's Execute preprocessor, with jailed kernels and a notebook that survives its kernel.

Stock nbclient raises DeadKernelError when the kernel dies, and CellTimeoutError when a cell
ignores the interrupt sent at its timeout; nbgrader then drops the whole submission (no
autograded notebook, no gradebook rows). Here a kernel that ignored its interrupt is killed, the
cell that was running gets an error output saying why, every later code cell fails at once with
an error output (it is never sent anywhere, so it costs no time), and the notebook goes on to be
graded: the cells that finished keep their points, the rest score 0.
"""

from __future__ import annotations

from typing import Any

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from tinytorch_course.grading.jail.manager import JailedKernelManager


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class JailedExecute(Execute):
    """Execute with :class:`JailedKernelManager` kernels; a dead or stuck kernel fails the
    remaining cells instead of the submission."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", JailedKernelManager)
        super().__init__(*args, **kwargs)
        self._stopped: str | None = None

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        self._stopped = None
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel_client(self):
        manager = self.km
        try:
            return await super().async_start_new_kernel_client()
        except Exception:
            if isinstance(manager, JailedKernelManager):
                manager.report_start_failure()
            raise

    # NotebookClient binds the base coroutine; the synchronous setup_kernel calls this name.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def stop(self, error: DeadKernelError | CellTimeoutError, timeout_s: float | None = None) -> str:
        """Record that the kernel stopped (it died, or ignored the interrupt sent at a cell's
        timeout of ``timeout_s``, default ``self.timeout``, and was killed) and return the reason
        a student may read; the kernel manager logs the event once."""
        jailed = isinstance(self.km, JailedKernelManager)
        timeout_s = self.timeout if timeout_s is None else timeout_s
        if isinstance(error, DeadKernelError):
            self._stopped = self.km.report_death() if jailed else "the kernel died"
        else:
            self._stopped = (
                self.km.stop_stuck_kernel(timeout_s) if jailed else "the cell ignored the interrupt sent at its timeout"
            )
        return self._stopped

    async def async_preprocess_cell(self, cell: NotebookNode, resources: Any, index: int):
        """Run one cell, or fail it at once when the kernel has stopped (see the module's
        docstring)."""
        self._check_assign_resources(resources)
        if self._stopped is not None:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [_error_output("NotRun", f"not run: the kernel had stopped ({self._stopped})")]
                cell.execution_count = None
            return cell, self.resources
        try:
            await self.async_execute_cell(cell, index, store_history=True)
        except (DeadKernelError, CellTimeoutError) as error:
            cell.outputs.append(_error_output("KernelStopped", self.stop(error)))
        return cell, self.resources

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int):
        return run_sync(self.async_preprocess_cell)(cell, resources, index)
