"""Where grading tasks run: a Dask ``LocalCluster`` of worker processes on this machine, or an
existing Dask cluster reached through its scheduler's address. The tasks are the same either
way; only the scheduler differs.

A worker that dies mid-task is noticed by the scheduler, which runs the task again on another
worker, up to ``distributed.scheduler.allowed-failures`` times more; a task that fails every
try comes back as a :class:`TaskFailure` naming its students and the number of tries.
"""

from __future__ import annotations

import socket
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from tinytorch_course.grading import forkserver
from tinytorch_course.grading.task import CourseBundle, HandInFiles, TaskResult, grade_task

#: Tries of a task whose worker dies (the scheduler's allowed failures + 1) on the LocalCluster.
#: An existing cluster keeps its own setting; the report states the number it used.
LOCAL_TRIES = 3

#: The LocalCluster's own bookkeeping, made sparser. Its defaults sample each worker's task thread
#: every 10 ms (the profiler), check the event loops every 20 ms and memory every 100 ms: about a
#: tenth of a core when idle, taken from the kernels being graded. A grading task is seconds long
#: and its thread only waits for nbgrader; tasks never wait on a worker, so there is nothing to
#: steal.
LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,
    # Dask's default sets the math libraries' thread variables to 1 (and a malloc setting) in the
    # coordinator's own environment before it spawns each worker, where they stay: the bundle
    # would forward them as the instructor's, and every task's share of the cores (task.task_env)
    # would be 1 whatever the host. The instructor's own settings still reach the tasks.
    "distributed.nanny.pre-spawn-environ": {},
}


#: The LocalCluster scheduler's HTTP endpoints (health and metrics; no dashboard) on a free port of
#: 127.0.0.1: its default, 8787, is taken by any other grading run on the host.
SCHEDULER_HTTP = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}


@dataclass(frozen=True)
class TaskFailure:
    """A task that returned no result: its students and why."""

    students: tuple[str, ...]
    reason: str


def _warm_workers(client) -> None:
    """Have every worker of an existing cluster, and every worker that joins later (one restarted
    after dying), start its nbgrader server as soon as it is up (tinytorch_course/grading/forkserver.py)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmNbgrader(WorkerPlugin):
        name = "tinytorch-warm-nbgrader"

        def setup(self, worker) -> None:
            forkserver.warm()

    client.register_plugin(WarmNbgrader())


@contextmanager
def dask_client(scheduler: str | None, jobs: int) -> Iterator:
    """A Dask client: of a new ``LocalCluster`` of ``jobs`` single-threaded worker processes on
    127.0.0.1 when ``scheduler`` is None, else of the cluster whose scheduler is at that address.
    An unreachable scheduler is a ConnectionError naming the address."""
    if scheduler is None:
        # One nbgrader server for the host, started first: it imports nbgrader while this process
        # imports Dask and the workers start.
        with forkserver.NbgraderServer() as server:
            import dask
            from distributed import Client, LocalCluster

            with (
                dask.config.set({"distributed.scheduler.allowed-failures": LOCAL_TRIES - 1, **LOCAL_CONFIG}),
                LocalCluster(
                    n_workers=jobs,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    scheduler_kwargs=SCHEDULER_HTTP,
                    env={forkserver.SERVER_VARIABLE: server.address},
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client
        return
    from distributed import Client

    try:
        _probe(scheduler)
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler!r}: {err}") from None
    with client:
        _warm_workers(client)
        yield client


def _probe(address: str) -> None:
    """Fail at once on a ``tcp://`` address that refuses connections (Dask's client would keep
    retrying until its timeout); other schemes are left to Dask."""
    if not address.startswith("tcp://"):
        return
    host, _, port = address[len("tcp://") :].rpartition(":")
    if not port.isdigit():
        raise OSError(f"no port in {address!r}")
    with socket.create_connection((host.strip("[]"), int(port)), timeout=10):
        pass


def tries(client) -> int:
    """How many times the cluster runs a task whose worker dies before giving it up."""
    import dask

    return 1 + int(client.run_on_scheduler(lambda: dask.config.get("distributed.scheduler.allowed-failures")))


def tasks_per_host(client) -> dict[str, int]:
    """How many tasks the cluster runs at once on each host, one per worker thread (each task's
    share of its host's cores)."""
    counts: dict[str, int] = {}
    for info in client.scheduler_info(n_workers=-1)["workers"].values():
        counts[info["host"]] = counts.get(info["host"], 0) + info["nthreads"]
    return counts


def run_in_order(
    client, function: Callable, common, groups: list, retries: int, on_done: Callable[[object, list], None]
) -> None:
    """Run ``function(common, group)`` for each group on ``client``'s cluster, started in the
    groups' order and never more at once than the cluster has threads; ``on_done(future, group)``
    gets each future, finished or failed, in this process as it ends, in one thread (one writer),
    in the order they end. An error raised by ``on_done`` stops the run and is raised here.

    The tasks wait here, not on the scheduler: a task the scheduler hands to a worker early waits
    there behind that worker's current one, perhaps a student looping until the budget, while
    another worker idles; and among the tasks it holds back it picks in no particular order.
    ``common`` travels with each task rather than as data held on some workers, since the
    scheduler sends a task only to workers that hold its data (so at the start, only to the one
    that has it, while the others wait to steal); a few tasks in flight keep that cheap.
    A freed thread gets its next task before the finished one's result is handled, so no worker
    waits for a merge (a tenth of a second each)."""
    from distributed import as_completed

    waiting = deque(groups)
    started: dict = {}
    running = as_completed()

    def start_more() -> None:
        slots = max(1, sum(client.nthreads().values()))
        while waiting and running.count() < slots:
            group = waiting.popleft()
            future = client.submit(
                function,
                common,
                group,
                pure=False,
                retries=retries,
                key=f"grade-{group[0].student_id}-{uuid.uuid4().hex[:8]}",
            )
            started[future] = group
            running.add(future)

    def handle(future, group: list) -> None:
        on_done(future, group)
        future.release()

    handled = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="task-results") as writer:
        start_more()
        for future in running:
            group = started.pop(future)
            start_more()
            handled.append(writer.submit(handle, future, group))
            for earlier in (h for h in handled if h.done()):
                earlier.result()  # raises on_done's error now, not after the whole batch
            handled = [h for h in handled if not h.done()]
        for pending in handled:
            pending.result()


def run_tasks(
    client, bundle: CourseBundle, groups: list[list[HandInFiles]], on_result: Callable[[TaskResult], None]
) -> list[TaskFailure]:
    """Grade each group of hand-ins as one task on ``client``'s cluster. ``on_result`` gets
    each result as it arrives, in this process (the one writer of the course gradebook); the
    tasks that failed every try, or whose result ``on_result`` could not record, are returned."""
    from distributed.scheduler import KilledWorker

    attempts = tries(client)
    failures = []

    def done(future, group: list[HandInFiles]) -> None:
        if future.status == "finished":
            try:
                on_result(future.result())
            except Exception as failed:  # noqa: BLE001 (one task's results must not stop the batch)
                reason = f"its results could not be recorded: {type(failed).__name__}: {failed}"
                failures.append(TaskFailure(tuple(s.student_id for s in group), reason))
            return
        error = future.exception()
        if isinstance(error, KilledWorker):
            reason = f"task failed after {attempts} tries: the worker grading it died each time"
        else:
            reason = f"task failed after {attempts} tries: {type(error).__name__}: {error}"
        failures.append(TaskFailure(tuple(s.student_id for s in group), reason))

    run_in_order(client, grade_task, bundle, groups, attempts - 1, done)
    return failures
