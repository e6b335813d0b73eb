"""How a batch becomes grading tasks and in which order workers take them: groups that shrink to
one student as the batch drains, started in the students' order on a real Dask LocalCluster."""

from __future__ import annotations

import os
import time

import pytest

from tinytorch_course.grading import coordinator, forkserver
from tinytorch_course.grading.cluster import LOCAL_CONFIG, SCHEDULER_HTTP, dask_client, run_in_order, tasks_per_host
from tinytorch_course.grading.task import HandInFiles
from tinytorch_course.paths import THREAD_VARIABLES


def test_fixed_groups_keep_the_students_order():
    students = [f"s{k}" for k in range(5)]
    assert coordinator.groups(students, 2, per_task=1) == [[s] for s in students]
    assert coordinator.groups(students, 2, per_task=2) == [["s0", "s1"], ["s2", "s3"], ["s4"]]
    assert coordinator.groups(students, 2, per_task=9) == [students]


def test_default_groups_shrink_to_one_student():
    assert coordinator.task_sizes(17, 2) == [3, 2, 2, 2] + [1] * 8
    assert coordinator.task_sizes(12, 2) == [2, 2] + [1] * 8
    assert coordinator.task_sizes(4, 2) == [1] * 4
    assert coordinator.task_sizes(0, 2) == []
    big = coordinator.task_sizes(5000, 40)
    assert big[0] == 32 and big[-12:] == [1] * 12
    assert sum(big) == 5000 and big == sorted(big, reverse=True)
    assert len(big) < 5000 / 5, "a big batch shares nbgrader start-ups among several students"
    students = [f"s{k:02d}" for k in range(17)]
    grouped = coordinator.groups(students, 2)
    assert [len(g) for g in grouped] == coordinator.task_sizes(17, 2)
    assert [s for g in grouped for s in g] == students


def _stand_in(slow_s: float, group: list[HandInFiles]) -> tuple[str, float, float, int]:
    """A stand-in task: which group it was, when a worker started it and when it ended, and the
    worker's process. The group named ``slow`` takes ``slow_s`` seconds, as a student looping
    until the budget would."""
    started = time.time()
    time.sleep(slow_s if group[0].student_id == "slow" else 0.2)
    return group[0].student_id, started, time.time(), os.getpid()


def _run(workers: int, students: list[str], slow_s: float) -> dict[str, tuple[float, float, int]]:
    """Run the stand-in tasks through :func:`run_in_order` on a real LocalCluster; when each
    started and ended, and in which worker process, by student."""
    ran: dict[str, tuple[float, float, int]] = {}

    def done(future, group) -> None:
        student, started, ended, pid = future.result()
        assert [s.student_id for s in group] == [student]
        ran[student] = (started, ended, pid)

    with dask_client(None, workers) as client:
        run_in_order(client, _stand_in, slow_s, [[HandInFiles(s, {})] for s in students], 0, done)
    return ran


def test_workers_start_the_tasks_in_the_students_order():
    students = [f"s{k:02d}" for k in range(8)]
    ran = _run(1, students, 0.0)
    assert sorted(ran, key=lambda s: ran[s][0]) == students


def test_a_slow_task_holds_one_worker_while_the_other_takes_the_rest():
    students = ["s00", "s01", "slow", "s03", "s04", "s05", "s06", "s07", "s08"]
    ran = _run(2, students, 4.0)
    _, slow_end, slow_worker = ran.pop("slow")
    later = students[3:]
    # (when the first two end together, the slow task and the next may start in either order by
    # a few milliseconds: the order of the starts is checked with one worker, above)
    assert all(ran[s][2] != slow_worker for s in later), "no later task waited behind the slow one"
    assert all(ran[s][1] <= slow_end for s in later), (
        "every later task ran on the other worker while the slow one held its own"
    )


def test_a_freed_worker_starts_its_next_task_while_a_result_is_still_handled():
    """Results are handled in one thread (the one writer), off the loop that starts tasks: a
    merge taking long (the first one imports nbgrader) holds up no worker."""
    students = [f"s{k:02d}" for k in range(6)]
    ran: dict[str, tuple[float, float]] = {}
    handled: list[str] = []

    def done(future, group) -> None:
        student, started, ended, _ = future.result()
        ran[student] = (started, ended)
        if not handled:
            time.sleep(1.0)  # a slow first merge
        handled.append(student)

    with dask_client(None, 1) as client:
        run_in_order(client, _stand_in, 0.0, [[HandInFiles(s, {})] for s in students], 0, done)
    assert handled == students, "results are handled one at a time, in the order they end"
    first_end = ran["s00"][1]
    assert ran["s02"][0] < first_end + 1.0, "the worker went on while the first result was handled"


def test_an_error_handling_a_result_stops_the_run_and_is_raised():
    def done(future, group) -> None:
        raise RuntimeError(f"gradebook locked while merging {group[0].student_id}")

    with dask_client(None, 1) as client, pytest.raises(RuntimeError, match="merging s00"):
        run_in_order(client, _stand_in, 0.0, [[HandInFiles("s00", {})]], 0, done)


def test_the_local_workers_share_one_nbgrader_server_started_before_them():
    """The LocalCluster's workers run nbgrader from one server that this process started: nbgrader
    is imported once for the host, while the workers start, not once per worker or per task."""
    import psutil

    with dask_client(None, 2) as client:
        statuses = client.run(forkserver.server_status)
        server = psutil.Process(next(iter(statuses.values()))["pid"])
        assert server.ppid() == os.getpid()
    assert len(statuses) == 2
    assert all(s == {"pid": server.pid, "preloaded": forkserver.preload_names()} for s in statuses.values()), statuses
    assert not server.is_running(), "the server ends with the cluster"


def test_a_local_cluster_leaves_the_thread_variables_to_the_tasks(monkeypatch):
    """Dask's nanny sets the math libraries' thread variables to 1 in the process that starts a
    LocalCluster, where they would stay: the coordinator's bundle would forward them as the
    instructor's, and each task's share of the cores would be 1 on any host. Neither the
    coordinator nor its workers get them."""
    for name in (*THREAD_VARIABLES, "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)

    def thread_variables() -> dict[str, str | None]:
        return {name: os.environ.get(name) for name in (*THREAD_VARIABLES, "MALLOC_TRIM_THRESHOLD_")}

    with dask_client(None, 1) as client:
        workers = client.run(thread_variables)
        here = thread_variables()
    assert here == dict.fromkeys(here) and list(workers.values()) == [here]


def test_a_worker_with_several_threads_counts_as_that_many_task_slots():
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set(LOCAL_CONFIG),  # as the coordinator starts it: this process's environment kept
        LocalCluster(
            n_workers=1,
            threads_per_worker=3,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs=SCHEDULER_HTTP,
        ) as cluster,
        Client(cluster) as client,
    ):
        assert tasks_per_host(client) == {"127.0.0.1": 3}
