"""nbgrader's Execute with the tests in a kernel of their own: act, then judge.

A graded notebook runs in two jailed kernels (each a :class:`JailedExecute` client):

- the **student kernel** runs the assignment's given cells (locked, not graded) and the student's
  cells (answer cells, and cells of their own);
- the **test kernel** runs the given cells and the test cells, and never a line the student
  wrote.

Cells run in notebook order, so a test runs once the student kernel has run every cell before
it, as in a notebook run from top to bottom. A test asks for what it judges through
``tinytorch.acts``: ``input()`` with a JSON request, over Jupyter's stdin channel. This
preprocessor runs the act in the student kernel (``tinytorch.acts.serve``, in a cell of its own
that is not part of the notebook), takes the reply it publishes as text only (at most
``tinytorch.acts.MAX_REPLY_CHARS``, within the time the test cell has left) and answers the input
request with it; the test kernel only decodes it. Verdicts, messages and points are the test
kernel's.

The graded notebook holds the outputs of the given and student cells from the student kernel and
those of the test cells from the test kernel. nbgrader grades it as usual: a test cell with an
error output scores 0.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from tinytorch.acts import MAX_REPLY_CHARS, RELAY_VARIABLE, REPLY_MIME, error_reply
from tinytorch_course.grading.jail.manager import JailedKernelManager
from tinytorch_course.grading.preprocessors.jailedexecute import JailedExecute

STUDENT, GIVEN, TEST = "student", "given", "test"
#: The test kernel's wall-clock budget, in multiples of ``JailSettings.budget_s`` (the student
#: kernel's).
TEST_KERNEL_BUDGET_FACTOR = 2


@dataclass(frozen=True)
class LockedCell:
    """A locked cell of the assignment, as the gradebook holds it."""

    source: str
    graded: bool


def locked_cells(resources: Any) -> dict[str, LockedCell] | None:
    """The assignment's locked cells by grade id, from the gradebook nbgrader grades with (None
    when ``resources`` names none: the notebook's own metadata then decides, see :func:`roles`)."""
    info = (resources or {}).get("nbgrader", {})
    if not info.get("db_url"):
        return None
    with Gradebook(info["db_url"]) as gradebook:
        notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
        graded = {cell.name for cell in notebook.grade_cells}
        return {
            cell.name: LockedCell(cell.source, cell.name in graded) for cell in notebook.source_cells if cell.locked
        }


def roles(nb: NotebookNode, known: dict[str, LockedCell] | None) -> list[str]:
    """Which kernel runs each cell: a test cell only the test kernel, a given cell both, any other
    cell only the student kernel. A cell is a test or given cell only as the assignment's locked
    cell of its grade id (graded or not), with that cell's source, once: metadata a student wrote
    on a cell of their own, or a copy of a locked cell, makes no cell run in the test kernel."""
    out, seen = [], set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        name = meta.get("grade_id")
        if known is None:  # not graded by nbgrader: the metadata decides
            locked = cell.cell_type == "code" and meta.get("locked") and not meta.get("solution")
            out.append((TEST if meta.get("grade") else GIVEN) if locked else STUDENT)
            continue
        mine = known.get(name)
        if cell.cell_type != "code" or mine is None or name in seen or cell.source != mine.source:
            out.append(STUDENT)
            continue
        seen.add(name)
        out.append(TEST if mine.graded else GIVEN)
    return out


def _view(nb: NotebookNode, cells: list) -> NotebookNode:
    """``nb`` with only ``cells`` (the same cell objects, so outputs land in ``nb``)."""
    view = copy.copy(nb)
    view.cells = cells
    return view


@run_sync
async def _gather(*steps: Any) -> None:
    await asyncio.gather(*steps)


def _kernel_env(relay: bool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != RELAY_VARIABLE}
    if relay:
        env[RELAY_VARIABLE] = "1"
    return env


class _KernelRun(JailedExecute):
    """One kernel of a graded notebook, run as ``JailedExecute`` runs one, cell by cell as the
    caller asks."""

    def prepare(self, nb: NotebookNode, resources: Any) -> None:
        """Make this client ready for the cells of ``nb``, as ExecutePreprocessor.preprocess does."""
        self._stopped = None
        NotebookClient.__init__(self, nb, None)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)

    @contextmanager
    def kernel(self, relay: bool) -> Iterator[None]:
        """This client's kernel (a new one unless already started, with the act relay switched on
        in its environment when ``relay``), held until the block ends."""
        with self.setup_kernel(env=_kernel_env(relay)):
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            yield

    async def run(self, cell: NotebookNode) -> None:
        """Run one cell of this kernel's notebook."""
        index = next(i for i, mine in enumerate(self.nb.cells) if mine is cell)
        await self.async_preprocess_cell(cell, self.resources, index)


class _StudentKernel(_KernelRun):
    """The student kernel: between its cells, it performs the acts the tests ask for."""

    async def perform(self, request: str, seconds: float) -> str:
        """The reply of the act ``request`` asks for, run in this kernel within ``seconds``: the
        text ``tinytorch.acts.serve`` published, or an error reply saying why there is none."""
        if self._stopped is not None:
            return error_reply(f"the kernel running your code had stopped ({self._stopped})")
        cell = new_code_cell(f"__import__('tinytorch.acts', fromlist=['serve']).serve({request!r})")
        index, limit = len(self.nb.cells), max(1, int(seconds))
        self.nb.cells.append(cell)
        saved = self.timeout_func  # type: ignore[has-type]  # a traitlet mypy cannot type through nbclient
        self.timeout_func = lambda _cell: limit  # this act's time, not the cell timeout
        try:
            await self.async_execute_cell(cell, index, store_history=False)
        except (DeadKernelError, CellTimeoutError) as error:
            self.stop(error)
        finally:
            self.timeout_func = saved
            del self.nb.cells[index]
        return self._reply(cell, seconds)

    def _reply(self, cell: NotebookNode, seconds: float) -> str:
        replies = [
            out.data[REPLY_MIME]
            for out in cell.outputs
            if out.output_type == "display_data" and REPLY_MIME in out.get("data", {})
        ]
        errors = [f"{out.ename}: {out.evalue}"[:300] for out in cell.outputs if out.output_type == "error"]
        if self._stopped is not None:
            return error_reply(f"the kernel running your code stopped during this test ({self._stopped})")
        if len(replies) > 1:
            return error_reply(f"your code's kernel gave {len(replies)} answers instead of one")
        if not replies:
            why = f": {errors[-1]}" if errors else ""
            return error_reply(f"your code's kernel gave no answer within {seconds:.0f} s{why}")
        if not isinstance(replies[0], str) or len(replies[0]) > MAX_REPLY_CHARS:
            return error_reply(f"your code's kernel answered with more than {MAX_REPLY_CHARS} characters")
        return replies[0]


class TwoKernelExecute(_KernelRun):
    """``JailedExecute`` with the tests apart from the student's code (see the module's
    docstring); this client runs the test kernel, a second one the student kernel."""

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        """Run ``nb`` in its two kernels, in notebook order: a test cell runs when the student
        kernel has run every cell before it, as in a notebook run from top to bottom."""
        kinds = roles(nb, locked_cells(resources))
        # the test kernel runs copies of the given cells: their outputs are the student kernel's
        test_cells = [copy.deepcopy(c) if role == GIVEN else c for c, role in zip(nb.cells, kinds, strict=True)]
        student_view = _view(nb, [c for c, role in zip(nb.cells, kinds, strict=True) if role != TEST])
        test_view = _view(nb, [c for c, role in zip(test_cells, kinds, strict=True) if role != STUDENT])
        self._student = _StudentKernel(parent=self)
        self._student.prepare(student_view, resources)
        self.prepare(test_view, resources)
        self._start_kernels()
        with self._student.kernel(relay=False), self.kernel(relay=True):
            for cell, test_cell, role in zip(nb.cells, test_cells, kinds, strict=True):
                # a given cell runs in both kernels at once
                runs = ([self._student.run(cell)] if role != TEST else []) + (
                    [self.run(test_cell)] if role != STUDENT else []
                )
                _gather(*runs)
        self.nb = nb
        return nb, self.resources

    async def _async_start_kernels(self) -> None:
        """Start both kernels and their clients at once (each jail takes a second or two to come
        up); when either fails, stop both and raise the first failure."""
        clients = (self._student, self)
        for client in clients:
            client.km = client.create_kernel_manager()
        # Socket names are picked when a kernel starts, before it binds them: two kernels started
        # at once under one prefix could pick the same (a jail gives each kernel its own folder,
        # an unjailed kernel, SANDBOX=0, has only this prefix).
        self.km.ip = f"{self.km.ip}-tests"
        if isinstance(self.km, JailedKernelManager):
            # The test kernel runs no student code; its time is mostly waiting for the student
            # kernel's acts, which that kernel's budget bounds, so a student kernel stopped at its
            # budget never takes the test kernel with it.
            self.km.jail_settings.budget_s = TEST_KERNEL_BUDGET_FACTOR * self.km.jail_settings.budget_s
        steps = (
            lambda client, relay: client.async_start_new_kernel(env=_kernel_env(relay)),
            lambda client, relay: client.async_start_new_kernel_client(),
        )
        for step in steps:
            results = await asyncio.gather(
                *(step(client, relay) for client, relay in zip(clients, (False, True), strict=True)),
                return_exceptions=True,
            )
            failed = [result for result in results if isinstance(result, BaseException)]
            if failed:
                for client in clients:
                    if client.km is not None:  # nbclient cleans up a client that failed to connect
                        await client._async_cleanup_kernel()
                raise failed[0]

    _start_kernels = run_sync(_async_start_kernels)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        kc.allow_stdin = True  # the tests ask for acts with input()
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def async_execute_cell(
        self, cell: NotebookNode, cell_index: int, execution_count: int | None = None, store_history: bool = True
    ) -> NotebookNode:
        relay = asyncio.ensure_future(self._relay_acts(time.monotonic() + (self.timeout or 3600)))
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            relay.cancel()

    async def _relay_acts(self, deadline: float) -> None:
        """Answer each input request of the running test cell with the act's reply, performed in
        the student kernel within the time the cell has left (two seconds kept for the test)."""
        while True:
            msg = await ensure_async(self.kc.stdin_channel.get_msg(timeout=None))
            if msg["header"]["msg_type"] != "input_request":
                continue
            seconds = deadline - time.monotonic() - 2
            if seconds < 1:
                reply = error_reply("no time was left in this test for the act")
            else:
                reply = await self._student.perform(str(msg["content"].get("prompt", "")), seconds)
            self.kc.input(reply)
