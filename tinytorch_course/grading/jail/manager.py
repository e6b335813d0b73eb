"""The kernel manager nbgrader uses to run students' notebooks: every kernel starts in a jail.

Configured through :class:`~tinytorch_course.grading.preprocessors.jailedexecute.JailedExecute`
(``nbgrader_config.py``), so stock
``nbgrader autograde`` is jailed. Per kernel it prepares a private folder (the connection file
and the kernel's output log), copies the working folder's files into the jail, reaches the
kernel's Unix sockets in the jail's own socket tmpfs, starts the budget
watchdog, interrupts the kernel by message (the jailed kernel leads its own session, out of
reach of a signal to bubblewrap's process group), and logs a grading event whenever the
instructor must know something.
"""

from __future__ import annotations

import compileall
import json
import logging
import os
import select
import shutil
import signal
import stat
import tempfile
import threading
from contextlib import ExitStack
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance, default

from tinytorch.acts import RELAY_VARIABLE
from tinytorch_course.grading.jail import events
from tinytorch_course.grading.jail.bwrap import (
    HOME,
    SOCKET_DIR,
    STUDENT_MOUNT,
    WORK_PARENT,
    JailLayout,
    bwrap_argv,
    tied_to_grader,
)
from tinytorch_course.grading.jail.cgroup import JailCgroup, MemoryWatch, detect, enter_argv, start_reaper
from tinytorch_course.grading.jail.preflight import (
    JailUnavailable,
    check_jail,
    jail_python,
    jail_uid,
    python_roots,
    resolve_bwrap,
)
from tinytorch_course.grading.jail.settings import JailSettings
from tinytorch_course.grading.jail.watchdog import BudgetWatchdog
from tinytorch_course.paths import EVENT_KEY_VARIABLE
from tinytorch_course.student.package import cached_package, package_bytes

# Variables of the grader's environment a kernel may see; everything else (tokens, paths into the
# course) stays outside. *_NUM_THREADS carry the grader's share of the cores; the act relay's switch
# is in the environment given to the test kernel only (preprocessors/twokernelexecute.py).
_PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "MPLBACKEND", "PYTHONHASHSEED", RELAY_VARIABLE)
_LOG_TAIL_CHARS = 400
# The kernel's socket path prefix as the kernel sees it (its connection file says so); the grader
# reaches the same sockets through /proc/<pid>/root of the jail.
_JAIL_SOCKETS = f"{SOCKET_DIR}/k"
# How long bubblewrap may take to report its sandbox's pid on --info-fd.
_INFO_TIMEOUT_S = 30.0

_student_dir: str | None = None
# Whether this grader process has said which mechanism limits its jails' memory.
_limits_announced = False


def student_package_dir(settings: JailSettings) -> str:
    """The folder holding the student package the jail mounts: ``settings.student_package`` when
    set, otherwise a copy of this repository's, made once per grader process and removed when it
    exits."""
    global _student_dir
    if settings.student_package:
        folder = os.path.abspath(settings.student_package)
        if not os.path.isfile(os.path.join(folder, "tinytorch", "__init__.py")):
            raise JailUnavailable(
                f"JailSettings.student_package = {folder!r} holds no tinytorch/__init__.py",
                "point it to the folder that holds the student package's tinytorch/ folder",
            )
        _compile_once(folder)
        return folder
    if _student_dir is None:
        _student_dir = str(cached_package(package_bytes()))
    _compile_once(_student_dir)
    return _student_dir


_compiled: set[str] = set()


def _compile_once(folder: str) -> None:
    """Byte-compile the package once per grader process: the jail mounts it read-only, so each
    kernel would otherwise compile every module again (about 0.4 s per notebook). Tracebacks
    still name the path inside the jail (importlib rewrites co_filename on load)."""
    if folder not in _compiled:
        compileall.compile_dir(folder, quiet=1)
        _compiled.add(folder)


def kernel_env(grader_env: dict[str, str] | None) -> dict[str, str]:
    """The environment of a jailed kernel: a fixed PATH, HOME and PYTHONPATH (the student package
    first) and only the listed variables of the grader's environment."""
    source = grader_env if grader_env is not None else dict(os.environ)
    env = {name: source[name] for name in _PASSED_ENV if name in source}
    env.update({name: value for name, value in source.items() if name.endswith("_NUM_THREADS")})
    env.update(
        {
            "PATH": os.pathsep.join([os.path.dirname(jail_python()), "/usr/bin", "/bin"]),
            "HOME": HOME,
            "PYTHONPATH": STUDENT_MOUNT,
            "IPYTHONDIR": f"{HOME}/.ipython",
            "MPLCONFIGDIR": f"{HOME}/.matplotlib",
            "JUPYTER_RUNTIME_DIR": f"{HOME}/.jupyter-runtime",
        }
    )
    return env


def working_files(folder: str, limit_bytes: int) -> list[tuple[str, str]]:
    """(relative path, absolute path) of every regular file under ``folder``: what the jail's
    working folder starts with. Links are skipped (they could point anywhere); more than
    ``limit_bytes`` in all is refused, as it would not fit in the working folder."""
    found, total = [], 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue
            total += info.st_size
            found.append((os.path.relpath(path, folder), path))
    if total > limit_bytes:
        raise JailUnavailable(
            f"the working folder {folder} holds {total} bytes, more than the "
            f"jail's working folder takes ({limit_bytes} bytes)",
            "raise c.JailSettings.write_mib in nbgrader_config.py",
        )
    return sorted(found)


class JailedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels run inside bubblewrap (unless SANDBOX=0)."""

    jail_settings = Instance(JailSettings)

    @default("jail_settings")
    def _jail_settings_default(self) -> JailSettings:
        return JailSettings(parent=self)

    _state_dir: str | None = None
    _socket_base: str | None = None
    _watchdog: BudgetWatchdog | None = None
    _work_cwd: str = ""
    _death_reported = False
    _cgroup: JailCgroup | None = None
    _memory_watch: MemoryWatch | None = None
    _oom_killed = False
    _report_lock = threading.Lock()

    # -- starting -------------------------------------------------------------------------------

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        self._work_cwd = os.path.abspath(kw.get("cwd") or os.getcwd())
        self._death_reported = False
        self._oom_killed = False
        if self.jail_settings.enabled:
            self._prepare_jail()
        return await super()._async_pre_start_kernel(**kw)

    def _refuse(self, error: JailUnavailable) -> JailUnavailable:
        self.log.error(
            events.format_event(events.JAIL_REFUSED, self._work_cwd, str(error), cause=error.cause, fix=error.fix)
        )
        return error

    def _prepare_jail(self) -> None:
        """Check the jail can be made and give this kernel its private folder (connection file,
        output log); its sockets live in the jail's own socket tmpfs."""
        try:
            if self.transport != "ipc":
                raise JailUnavailable(
                    f"the kernel transport is {self.transport!r}; a jailed kernel has no network",
                    'set c.KernelManager.transport = "ipc" in nbgrader_config.py',
                )
            check_jail(self.jail_settings)
        except JailUnavailable as error:
            raise self._refuse(error) from None
        self._cleanup_state()
        if self._socket_base is None:  # the configured folder; self.ip names a jail's from now on
            self._socket_base = os.path.dirname(self.ip) or tempfile.gettempdir()
        self._state_dir = tempfile.mkdtemp(prefix="jail-", dir=self._socket_base)
        # the connection file written next names the sockets as the kernel sees them; once the
        # jail runs, self.ip names them as the grader reaches them (_async_launch_kernel)
        self.ip = _JAIL_SOCKETS
        # The jailed kernel leads its own session: interrupt it by message, not by a signal to
        # bubblewrap's process group (which would kill the jail).
        spec = self.kernel_spec
        if spec is not None:  # None only without a kernel name, and then no kernel starts at all
            spec.interrupt_mode = "message"

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        settings = self.jail_settings
        if not settings.enabled:
            self.log.warning(
                events.format_event(
                    events.UNSAFE_NO_SANDBOX,
                    self._work_cwd,
                    "SANDBOX=0: this notebook ran without the grading jail, with the grader's powers",
                )
            )
            # unjailed, the kernel has the grader's powers anyway; still, it is not handed the key
            kw["env"] = {k: v for k, v in (kw.get("env") or os.environ).items() if k != EVENT_KEY_VARIABLE}
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        info_read, info_write = os.pipe()
        try:
            with ExitStack() as opened:
                opened.callback(os.close, info_write)  # bubblewrap has its own copy: EOF when it closes it
                await self._launch_jailed(kernel_cmd, kw, opened, info_write)
            self.ip = f"/proc/{self._sandbox_pid(info_read)}/root{_JAIL_SOCKETS}"
        finally:
            os.close(info_read)
        self._watchdog = BudgetWatchdog(settings.budget_s, self._budget_expired)
        self._watchdog.start()
        if self._cgroup is not None:
            self._memory_watch = MemoryWatch(self._cgroup, self._memory_exceeded)

    async def _launch_jailed(self, kernel_cmd: list[str], kw: dict[str, Any], opened: ExitStack, info_fd: int) -> None:
        """Start bubblewrap (in the jail's cgroup) around ``kernel_cmd``; the descriptors it needs
        stay open in ``opened`` until it has started."""
        settings = self.jail_settings
        layout = self._layout(opened, info_fd)
        argv = bwrap_argv(settings, layout, [jail_python(kernel_cmd[0]), *kernel_cmd[1:]])
        argv[0] = resolve_bwrap(settings)
        self._cgroup = self._jail_cgroup()
        if self._cgroup is not None:
            argv = enter_argv(self._cgroup, argv)
        argv = tied_to_grader(argv, os.getpid())
        log = opened.enter_context(open(self._log_path(), "wb"))
        kw.update(
            env=kernel_env(kw.get("env")),
            stdout=log,
            stderr=log,
            pass_fds=(layout.connection_fd, info_fd, *(fd for _, fd in layout.files)),
        )
        await super()._async_launch_kernel(argv, **kw)

    def _sandbox_pid(self, info: int) -> int:
        """The pid of the jail's first process, as bubblewrap reports it on ``--info-fd``; the
        jail refused (logged) when it reports none."""
        text = b""
        while select.select([info], [], [], _INFO_TIMEOUT_S)[0]:
            chunk = os.read(info, 4096)
            if not chunk:
                break
            text += chunk
        try:
            return int(json.loads(text)["child-pid"])
        except (ValueError, KeyError, TypeError):
            self._kill_jail()
            raise self._refuse(
                JailUnavailable(
                    f"bubblewrap reported no sandbox process on --info-fd (got {text[:200]!r}); "
                    f"its output: {self._log_tail()!r}",
                    "check that `bwrap --version` is 0.5 or later and that the jail's cgroup can be entered",
                )
            ) from None

    def cleanup_ipc_files(self) -> None:
        """Nothing to remove: a jailed kernel's sockets live in its jail's tmpfs, gone with it."""
        if not self.jail_settings.enabled:
            super().cleanup_ipc_files()

    def _jail_cgroup(self) -> JailCgroup | None:
        """A new cgroup for this jail where the grader can create one (None otherwise); the
        mechanism that limits memory is logged once per grader process."""
        global _limits_announced
        layout, sentence = detect(self.jail_settings)
        if not _limits_announced:
            _limits_announced = True
            # the fallback is weaker than the settings promise: a warning, not news
            level = logging.INFO if layout is not None else logging.WARNING
            self.log.log(level, "grading jail limits: %s", sentence.format(memory=self.jail_settings.memory_mib))
        if layout is None:
            return None
        start_reaper(layout)
        try:
            return JailCgroup(layout, self.jail_settings)
        except OSError as error:
            raise self._refuse(
                JailUnavailable(
                    f"the jail's cgroup could not be created under {layout.describe()}: {error}",
                    "check that the grader may create cgroups there, or set "
                    "c.JailSettings.cgroups = False to rely on per-process limits",
                )
            ) from None

    def _layout(self, opened: ExitStack, info_fd: int) -> JailLayout:
        """The jail of this kernel, reporting its pid on ``info_fd``; the descriptors it opens
        stay open until bubblewrap started."""

        def readable(path: str) -> int:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            opened.callback(os.close, fd)
            return fd

        try:
            files = working_files(self._work_cwd, self.jail_settings.write_bytes)
            student_dir = student_package_dir(self.jail_settings)
        except JailUnavailable as error:
            raise self._refuse(error) from None
        return JailLayout(
            workdir=f"{WORK_PARENT}/{os.path.basename(self._work_cwd) or 'work'}",
            files=tuple((relative, readable(path)) for relative, path in files),
            connection_file=self.connection_file,
            connection_fd=readable(self.connection_file),
            python_roots=python_roots(),
            student_dir=student_dir,
            uid=jail_uid(self.jail_settings),
            info_fd=info_fd,
        )

    def _state_path(self, name: str) -> str:
        """A path in this kernel's private folder, which ``_prepare_jail`` makes before any launch."""
        if self._state_dir is None:
            raise RuntimeError("the jail's private folder is made before its kernel is launched")
        return os.path.join(self._state_dir, name)

    def _log_path(self) -> str:
        return self._state_path("kernel.log")

    # -- the budget and the kernel's end --------------------------------------------------------

    @property
    def budget_exceeded(self) -> bool:
        """Whether this kernel's jail was killed at the end of its budget."""
        return self._watchdog is not None and self._watchdog.expired

    def _budget_expired(self) -> None:
        budget = self.jail_settings.budget_s
        self.log.error(
            events.format_event(
                events.BUDGET_EXCEEDED,
                self._work_cwd,
                f"the notebook ran past its wall-clock budget of {budget:g} s; its jail was killed "
                "and the cells that had not finished fail",
                budget_s=budget,
            )
        )
        self._death_reported = True
        self._kill_jail()

    def _claim_report(self) -> bool:
        """True the first time the kernel's end is reported (the watch threads and nbclient may
        both notice it)."""
        with self._report_lock:
            first, self._death_reported = not self._death_reported, True
            return first

    def _memory_exceeded(self) -> None:
        """The memory cgroup's OOM killer killed a process of the jail: stop the whole jail (a
        notebook over its limit ends the same way whichever process was chosen) and say so."""
        self._oom_killed = True
        self._kill_jail()
        if self._claim_report():
            memory = self.jail_settings.memory_mib
            self.log.error(
                events.format_event(
                    events.KERNEL_DIED,
                    self._work_cwd,
                    f"the notebook's processes together went over the jail's memory limit of "
                    f"{memory} MiB; the memory cgroup's OOM killer stopped it and the cells that had "
                    "not finished fail",
                    memory_mib=memory,
                )
            )

    def _kill_jail(self) -> None:
        """SIGKILL bubblewrap; --die-with-parent and the end of the jail's PID namespace take
        every process inside with it."""
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def report_death(self) -> str:
        """Log that the kernel died while a notebook was graded (once; a budget kill is already
        logged) and return a reason a student may read."""
        if self.budget_exceeded:
            return f"the notebook used up its wall-clock budget of {self.jail_settings.budget_s:g} s and was stopped"
        if self._oom_killed or (self._cgroup is not None and self._cgroup.oom_kills() > 0):
            self._memory_exceeded()
            return f"the notebook went over its memory limit of {self.jail_settings.memory_mib} MiB and was stopped"
        if self._claim_report():
            process = getattr(self.provisioner, "process", None)
            code = process.poll() if process is not None else None
            self.log.error(
                events.format_event(
                    events.KERNEL_DIED,
                    self._work_cwd,
                    f"the kernel ended while the notebook was graded (exit status {code}); "
                    f"its last output: {self._log_tail()!r}",
                    exit_status=code,
                )
            )
        return "the kernel died while this cell ran"

    def stop_stuck_kernel(self, timeout_s: float) -> str:
        """Kill a kernel that ignored the interrupt sent at a cell's timeout (a loop that blocks
        or swallows SIGINT would otherwise hold the grader until the budget), log it once, and
        return a reason a student may read."""
        self._kill_jail()
        if self.budget_exceeded:
            return self.report_death()
        if self._claim_report():
            self.log.error(
                events.format_event(
                    events.KERNEL_DIED,
                    self._work_cwd,
                    f"a cell ran past its {timeout_s:g} s timeout and ignored the interrupt; the "
                    "kernel was stopped and the cells after it fail",
                    timeout_s=timeout_s,
                )
            )
        return f"this cell ran past its {timeout_s:g} s timeout and ignored the interrupt, so the kernel was stopped"

    def stop_flooding_kernel(self, chars: int, grace_s: float) -> str:
        """Kill a kernel whose act printed more than ``chars`` characters and went on for
        ``grace_s`` seconds after it was interrupted (its output would otherwise keep the grader
        busy), log it once, and return a reason a student may read."""
        self._kill_jail()
        if self._claim_report():
            self.log.error(
                events.format_event(
                    events.KERNEL_DIED,
                    self._work_cwd,
                    f"an act printed more than {chars} characters and went on {grace_s:g} s after the "
                    "interrupt; the kernel was stopped and the cells after it fail",
                    chars=chars,
                )
            )
        return (
            f"your code printed more than {chars} characters during a test and went on after the "
            "interrupt, so the kernel was stopped"
        )

    def report_start_failure(self) -> None:
        """Log that the kernel never became ready inside its jail (a budget kill is already
        logged)."""
        if self.jail_settings.enabled and not self.budget_exceeded:
            self._refuse(
                JailUnavailable(
                    f"the kernel did not start inside the jail; its output: {self._log_tail()!r}",
                    "run the notebook unjailed once (SANDBOX=0) to see whether the kernel itself "
                    "fails, and check the jail's settings (c.JailSettings) in nbgrader_config.py",
                )
            )

    def _log_tail(self) -> str:
        if self._state_dir is None or not os.path.exists(self._log_path()):
            return ""
        with open(self._log_path(), "rb") as log:
            log.seek(max(0, os.path.getsize(self._log_path()) - _LOG_TAIL_CHARS))
            return log.read().decode("utf-8", "replace").strip()

    # -- cleaning up ----------------------------------------------------------------------------

    def _release_cgroup(self) -> None:
        """Stop watching the jail's memory and remove its cgroup (killing what is left in it)."""
        if self._memory_watch is not None:
            self._memory_watch.stop()
            self._memory_watch = None
        if self._cgroup is not None:
            self._oom_killed = self._oom_killed or self._cgroup.oom_kills() > 0
            cgroup, self._cgroup = self._cgroup, None
            try:
                cgroup.remove()
            except OSError as error:
                self.log.error("grading jail: %s", error)

    def _cleanup_state(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        self._release_cgroup()
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Stop the budget and remove the jail's cgroup. The private folder stays until the
        next kernel or the end of the process: the kernel's log is read after nbclient cleaned up
        a kernel that failed."""
        await super()._async_cleanup_resources(restart=restart)
        if self._watchdog is not None:
            self._watchdog.stop()
        self._release_cgroup()

    # AsyncKernelManager binds the base coroutine directly; nbclient calls this name.
    cleanup_resources = _async_cleanup_resources

    def __del__(self) -> None:
        self._cleanup_state()
