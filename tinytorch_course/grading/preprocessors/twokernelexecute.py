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

An act ends within its test's time: past it, the student kernel is interrupted and a later answer
is refused (each request carries an id its reply must carry back); a kernel that ignores the
interrupt is stopped. An act's output is counted as it arrives, never kept, and an act that
prints more than ``MAX_ACT_OUTPUT_CHARS`` is interrupted at once, so a flood holds none of the
grader's memory.

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
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader.api import Gradebook

from tinytorch.acts import MAX_REPLY_CHARS, RELAY_VARIABLE, REPLY_MIME, error_reply
from tinytorch_course.grading.jail.manager import JailedKernelManager
from tinytorch_course.grading.preprocessors.jailedexecute import JailedExecute

STUDENT, GIVEN, TEST = "student", "given", "test"
#: The test kernel's wall-clock budget, in multiples of ``JailSettings.budget_s`` (the student
#: kernel's).
TEST_KERNEL_BUDGET_FACTOR = 2
#: Characters of output (prints, displays, tracebacks) an act may send besides its reply; past
#: them it is interrupted and its test fails.
MAX_ACT_OUTPUT_CHARS = 1 << 20
#: Characters of output the grader keeps from the student kernel's cells (given and student cells,
#: the whole notebook); past them a cell's output is dropped as it arrives and the cell says so,
#: once. nbgrader keeps 1,000 lines of a cell's output anyway (``LimitOutput``).
MAX_KEPT_OUTPUT_CHARS = 16 << 20
#: What a cell whose output was dropped shows in its place.
OUTPUT_NOT_KEPT = f"\n[output past the notebook's first {MAX_KEPT_OUTPUT_CHARS} characters was not kept]\n"
#: The student kernel's output messages the grader queues, and the largest it takes (bytes): a
#: reply of ``MAX_REPLY_CHARS`` fits with its escapes (at most twice its size). At most 512 MiB
#: wait, however fast the kernel prints.
OUTPUT_QUEUE_MESSAGES = 16
MAX_OUTPUT_MESSAGE_BYTES = 4 * MAX_REPLY_CHARS
#: Run first in the student kernel (``IPKernelApp.exec_lines``): what its code prints leaves in
#: messages of at most ``tinytorch.acts.STREAM_CHUNK_CHARS``, far below
#: ``MAX_OUTPUT_MESSAGE_BYTES``, so a flood's end is not lost with a dropped message.
BOUND_STREAMS = "--IPKernelApp.exec_lines=__import__('tinytorch.acts', fromlist=['bound_streams']).bound_streams()"
#: Seconds of a test cell's time kept back from its act beyond the interrupt's grace
#: (``iopub_timeout``), so the test can still judge an act that was interrupted.
JUDGE_SECONDS = 2


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


class _BoundedOutputClient(AsyncKernelClient):
    """The student kernel's client: its output channel (IOPub) queues at most
    ``OUTPUT_QUEUE_MESSAGES`` messages of at most ``MAX_OUTPUT_MESSAGE_BYTES`` each (a larger one
    is dropped with its connection, which zmq makes again, and what the kernel sends meanwhile is
    lost), so what the student's code prints waits in the grader's memory within that bound,
    however fast it prints. The kernel's printed text comes in far smaller messages
    (``BOUND_STREAMS``); only code that undoes that, or displays tens of MiB at once, loses
    what follows."""

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> zmq.Socket:
        if channel != "iopub":
            return super()._create_connected_socket(channel, identity=identity)
        sock = self.context.socket(zmq.SUB)
        sock.linger = 1000
        sock.rcvhwm = OUTPUT_QUEUE_MESSAGES  # options set before connect apply to its queue
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_OUTPUT_MESSAGE_BYTES)
        sock.connect(self._make_url(channel))
        return sock


class _ActOutput:
    """What an act's cell sends while it runs, kept within bounds: the first reply's text (at most
    ``MAX_REPLY_CHARS``), how many replies came, the last error, and how many characters of other
    output came (counted, never kept), so a flooding act holds no memory of the grader's."""

    def __init__(self) -> None:
        self.reply: str | None = None
        self.replies = 0
        self.too_long = False
        self.error = ""
        self.other_chars = 0

    def take(self, msg: dict) -> None:
        """Account for one output message of the act's cell."""
        kind, content = msg["msg_type"], msg.get("content") or {}
        raw = content.get("data")
        data: dict = raw if isinstance(raw, dict) else {}
        if kind == "display_data" and REPLY_MIME in data:
            self.replies += 1
            text = data[REPLY_MIME]
            if not isinstance(text, str) or len(text) > MAX_REPLY_CHARS:
                self.too_long = True
            elif self.replies == 1:
                self.reply = text
            return
        if kind == "error":
            self.error = f"{content.get('ename')}: {content.get('evalue')}"[:300]
        self.other_chars += _chars(content)


def _chars(content: dict) -> int:
    """How many characters an output message carries (its text, data, state and traceback)."""
    parts = [content.get("text"), content.get("evalue"), *(content.get("traceback") or [])]
    data = content.get("data")
    if isinstance(data, dict):
        parts += list(data.values())
    return sum(len(part) if isinstance(part, str) else len(str(part)) for part in parts if part is not None)


def _size(msg: dict) -> int:
    """How much of the grader's memory keeping an output message takes: its characters and its
    binary buffers' bytes."""
    return _chars(msg.get("content") or {}) + sum(memoryview(b).nbytes for b in msg.get("buffers") or [])


class _StudentKernel(_KernelRun):
    """The student kernel: between its cells, it performs the acts the tests ask for. An act that
    runs past its time is interrupted (its answer, should one come after, is not taken); one that
    ignores the interrupt stops the kernel; one that prints more than ``MAX_ACT_OUTPUT_CHARS`` is
    interrupted as soon as it has."""

    _act_cell: NotebookNode | None = None
    _act_output: _ActOutput | None = None
    _kept_chars = 0  # of the output of given and student cells (MAX_KEPT_OUTPUT_CHARS)
    _cut_cell: NotebookNode | None = None  # the last cell whose output was dropped
    _act_timed_out = False
    _act_flooded: float | None = None  # when the act was interrupted for its output

    async def perform(self, request: str, seconds: float) -> str:
        """The reply of the act ``request`` asks for, run in this kernel within ``seconds``: the
        text ``tinytorch.acts.serve`` published, or an error reply saying why there is none."""
        if self._stopped is not None:
            return error_reply(f"the kernel running your code had stopped ({self._stopped})", request)
        cell = new_code_cell(f"__import__('tinytorch.acts', fromlist=['serve']).serve({request!r})")
        index, limit = len(self.nb.cells), max(1, int(seconds))
        self.nb.cells.append(cell)
        self._act_cell, self._act_output = cell, _ActOutput()
        self._act_timed_out, self._act_flooded = False, None
        saved = self.timeout_func  # type: ignore[has-type]  # a traitlet mypy cannot type through nbclient
        self.timeout_func = lambda _cell: limit  # this act's time, not the cell timeout
        try:
            await self.async_execute_cell(cell, index, store_history=False)
        except (DeadKernelError, CellTimeoutError) as error:
            if self._stopped is None:  # else a flood stopped it, and said why
                self.stop(error, limit)
        finally:
            self.timeout_func = saved
            self._act_cell = None
            del self.nb.cells[index]
        return self._reply(self._act_output, request, limit)

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """An act's output is accounted for as it arrives (:class:`_ActOutput`), never stored in
        the cell. Past ``MAX_ACT_OUTPUT_CHARS`` of it the act is interrupted at once; if it still
        prints ``iopub_timeout`` seconds later (it ignored the interrupt) its kernel is stopped."""
        if msg["msg_type"] in ("status", "execute_input", "clear_output"):
            return super().process_message(msg, cell, cell_index)
        if cell is not self._act_cell or self._act_output is None:
            return self._keep_within_bound(msg, cell, cell_index)
        if "execution_count" in msg.get("content", {}):
            cell["execution_count"] = msg["content"]["execution_count"]
        self._act_output.take(msg)
        if self._act_output.other_chars > MAX_ACT_OUTPUT_CHARS and self._act_flooded is None:
            self._act_flooded = time.monotonic()
            self._interrupt_now()
        elif self._act_flooded is not None and time.monotonic() > self._act_flooded + self.iopub_timeout:
            if self._stopped is None and isinstance(self.km, JailedKernelManager):  # the kind JailedExecute starts
                self._stopped = self.km.stop_flooding_kernel(MAX_ACT_OUTPUT_CHARS, self.iopub_timeout)
        return None

    def _keep_within_bound(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """A notebook cell's output message, kept as nbclient keeps it while the notebook's output
        stays within ``MAX_KEPT_OUTPUT_CHARS``; past that dropped, the cell saying so once."""
        self._kept_chars += _size(msg)
        if self._kept_chars <= MAX_KEPT_OUTPUT_CHARS:
            return super().process_message(msg, cell, cell_index)
        if "execution_count" in msg.get("content", {}):
            cell["execution_count"] = msg["content"]["execution_count"]
        if cell is not self._cut_cell:
            self._cut_cell = cell
            cell.outputs.append(new_output("stream", name="stderr", text=OUTPUT_NOT_KEPT))
        return None

    def _interrupt_now(self) -> None:
        """Send the kernel an interrupt request on its control channel, without waiting: called
        while its output is read, which may not leave nbclient's loop time for another task."""
        if self.kc is not None:
            self.kc.control_channel.send(self.kc.session.msg("interrupt_request", content={}))

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict | None:
        if cell is not None and cell is self._act_cell:
            self._act_timed_out = True  # nbclient interrupts the kernel; whatever comes later is late
        return await super()._async_handle_timeout(timeout, cell)

    def _reply(self, out: _ActOutput, request: str, seconds: int) -> str:
        if self._stopped is not None:
            return error_reply(f"the kernel running your code stopped during this test ({self._stopped})", request)
        if self._act_flooded is not None:
            return error_reply(
                f"your code printed more than {MAX_ACT_OUTPUT_CHARS} characters during this test; it was stopped",
                request,
            )
        if self._act_timed_out:
            return error_reply(
                f"your code ran past the {seconds} s this test had left for it and was interrupted", request
            )
        if out.replies > 1:
            return error_reply(f"your code's kernel gave {out.replies} answers instead of one", request)
        if out.too_long:
            return error_reply(f"your code's kernel answered with more than {MAX_REPLY_CHARS} characters", request)
        if out.reply is None:
            why = f": {out.error}" if out.error else ""
            return error_reply(f"your code's kernel gave no answer within {seconds} s{why}", request)
        return out.reply


class TwoKernelExecute(_KernelRun):
    """``JailedExecute`` with the tests apart from the student's code (see the module's
    docstring); this client runs the test kernel, a second one the student kernel."""

    _act: asyncio.Future | None = None

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
        self._student.km.client_factory = _BoundedOutputClient
        self._student.extra_arguments = [*self._student.extra_arguments, BOUND_STREAMS]
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
        await self._drop_stale_requests()
        timeout = self._get_timeout(cell)
        relay = asyncio.ensure_future(self._relay_acts(time.monotonic() + (timeout or 3600)))
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            relay.cancel()
            await self._finish_act()

    async def _drop_stale_requests(self) -> None:
        """Drop input requests an earlier cell left unanswered: only the running cell's are
        answered."""
        while True:
            try:
                await ensure_async(self.kc.stdin_channel.get_msg(timeout=0))
            except Empty:
                return

    async def _finish_act(self) -> None:
        """Let an act still running when its test ended run to its own end (its time is shorter
        than the test's: it is interrupted, or its kernel stopped) before the next cell, so no act
        runs on behind a later test's."""
        act, self._act = self._act, None
        if act is not None:
            await asyncio.wait([act])

    async def _relay_acts(self, deadline: float) -> None:
        """Answer each input request of the running test cell with the act's reply, performed in
        the student kernel within the time the cell has left, less the interrupt's grace
        (``iopub_timeout``) and ``JUDGE_SECONDS`` for the test to judge."""
        while True:
            msg = await ensure_async(self.kc.stdin_channel.get_msg(timeout=None))
            if msg["header"]["msg_type"] != "input_request":
                continue
            request = str(msg["content"].get("prompt", ""))
            seconds = deadline - time.monotonic() - self._student.iopub_timeout - JUDGE_SECONDS
            if seconds < 1:
                reply = error_reply("no time was left in this test for the act", request)
            else:
                # shielded: a test that ends while its act runs leaves the act to _finish_act
                self._act = asyncio.ensure_future(self._student.perform(request, seconds))
                reply = await asyncio.shield(self._act)
                self._act = None
            self.kc.input(reply)
