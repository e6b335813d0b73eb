"""The bubblewrap command line of one jail: what the kernel sees, and the limits it runs under.

The jail is built from these mounts, in this order (bubblewrap applies them in order):

- the operating system read-only: ``/usr`` (and the ``/bin``, ``/lib`` … links into it) and the
  few files of ``/etc`` that the dynamic linker, Python and matplotlib read;
- a private ``/proc``, ``/dev`` (read-only) and ``/tmp`` (a tmpfs of ``write_mib``);
- the Python environment read-only at its own paths (the venv and the installation it was made
  from), so its scripts and ``pyvenv.cfg`` keep working;
- the student package read-only at :data:`STUDENT_MOUNT`, first on ``PYTHONPATH``;
- the kernel's socket folder :data:`SOCKET_DIR`, a tmpfs of :data:`SOCKET_DIR_BYTES` where the
  kernel creates its Unix sockets (the grader reaches them through ``/proc/<pid>/root``, the pid
  bubblewrap reports on ``--info-fd``), and a read-only copy of its connection file at its own
  path;
- a fresh working folder (a tmpfs of ``write_mib``) holding copies of the notebook and the files
  the assignment ships, so nothing the student writes reaches the course's disk;
- last, the jail's root folder remounted read-only: the only places the kernel can write are
  the three sized tmpfs (and its own output, a file of at most ``write_mib``: RLIMIT_FSIZE).

When the grader is root the kernel runs as an unprivileged user id of its own (``setpriv``):
RLIMIT_NPROC is not enforced for root, and an unprivileged id owns none of the files it can see.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import PurePosixPath

from tinytorch_course.grading.jail.settings import JailSettings

#: Where the student package is mounted inside the jail (the folder holding ``tinytorch/``).
STUDENT_MOUNT = "/opt/tinytorch-student"
#: The parent of the working folder inside the jail.
WORK_PARENT = "/home/student"
#: HOME inside the jail: the private /tmp, the only other writable place.
HOME = "/tmp"
#: The kernel's socket folder inside the jail, and the size of its tmpfs: room for a kernel's five
#: sockets, not for files (a folder on the grader's disk took 1.1 GiB of files past write_mib).
SOCKET_DIR = "/run/kernel"
SOCKET_DIR_BYTES = 1 << 20

# The jail's launcher runs on only while the grader that started it ("$1") is its parent: setpriv
# has already asked for SIGKILL at the parent's death, so a grader that dies later takes it along,
# and one that died before that ask is caught here.
_WHILE_GRADER_LIVES = '[ "$PPID" = "$1" ] || exit 125; shift; exec "$@"'

# Top-level links of a merged-/usr system (or real folders on older systems), bound read-only.
_SYSTEM_TOP = ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
# What of /etc the dynamic linker, Python, fontconfig and the alternatives links need; nothing else
# of /etc (credentials, host configuration) is shown.
_ETC = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
    "/etc/ssl/certs",
)


@dataclass(frozen=True)
class JailLayout:
    """The paths and open files one jail is built from (outside paths unless said otherwise)."""

    #: The working folder inside the jail.
    workdir: str
    #: Files of the working folder: (path relative to it, readable descriptor of the content).
    files: tuple[tuple[str, int], ...]
    #: The connection file's path (the same inside) and a readable descriptor of its content.
    connection_file: str
    connection_fd: int
    #: Folders of the Python environment, mounted read-only at the same paths.
    python_roots: tuple[str, ...]
    #: Folder holding the student package (``<student_dir>/tinytorch``).
    student_dir: str
    #: Unprivileged user id the kernel runs as, or None when the grader itself is not root.
    uid: int | None
    #: A writable descriptor on which bubblewrap reports its sandbox's pid (``--info-fd``), or None.
    info_fd: int | None = None


def system_tool(name: str) -> str:
    """Absolute path of a util-linux tool the jail runs (it must live under /usr, which the jail
    mounts); a clear error when it is missing."""
    path = shutil.which(name, path="/usr/bin:/usr/sbin:/bin:/sbin")
    if path is None:
        raise FileNotFoundError(
            f"{name} (util-linux) is needed by the grading jail and was not "
            f"found; install it with: apt-get install util-linux"
        )
    return os.path.realpath(path)


class _Mounts:
    """Accumulates bubblewrap mount arguments, creating each missing parent folder (mode 0755)
    first: bubblewrap would create it mode 0700 as root, out of the jail user's reach."""

    def __init__(self) -> None:
        self.argv: list[str] = []
        self._present: set[str] = {"/"}

    def _parents(self, dest: str) -> None:
        for parent in reversed(PurePosixPath(dest).parents):
            if str(parent) not in self._present:
                self.argv += ["--perms", "0755", "--dir", str(parent)]
                self._present.add(str(parent))

    def add(self, option: str, *args: str, dest: str, perms: str | None = None) -> None:
        self._parents(dest)
        if perms is not None:
            self.argv += ["--perms", perms]
        self.argv += [option, *args, dest]
        self._present.add(dest)


def _system_mounts(mounts: _Mounts) -> None:
    mounts.add("--ro-bind", "/usr", dest="/usr")
    for top in _SYSTEM_TOP:
        if os.path.islink(top):
            mounts.add("--symlink", os.readlink(top), dest=top)
        elif os.path.isdir(top):
            mounts.add("--ro-bind", top, dest=top)
    for path in _ETC:
        mounts.add("--ro-bind-try", path, dest=path)
    mounts.add("--proc", dest="/proc")
    mounts.add("--dev", dest="/dev")
    mounts.argv += ["--remount-ro", "/dev"]


def _limits(settings: JailSettings) -> list[str]:
    """prlimit arguments: hard and soft limits alike, so the student's code cannot raise them."""
    return [
        system_tool("prlimit"),
        f"--as={settings.memory_mib * 1024 * 1024}",
        f"--nproc={settings.max_processes}",
        f"--fsize={settings.write_bytes}",
        "--core=0",
        "--",
    ]


def _drop_privileges(uid: int) -> list[str]:
    return [
        system_tool("setpriv"),
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def tied_to_grader(argv: list[str], grader_pid: int) -> list[str]:
    """``argv`` launched so that it dies with the grader process ``grader_pid``, its parent, from
    its first instruction: ``setpriv --pdeathsig KILL``, then a shell that goes on only while the
    grader is still its parent, then ``argv`` (each step an exec: the same pid). bubblewrap's own
    ``--die-with-parent`` asks for the same only once it has cloned the jail, so a grader killed
    while a kernel was being launched left part of that jail running (its first process, waiting
    for a setup that never came), re-parented to init."""
    return [
        system_tool("setpriv"),
        "--pdeathsig",
        "KILL",
        "--",
        "/bin/sh",
        "-c",
        _WHILE_GRADER_LIVES,
        "tinytorch-jail-launch",
        str(grader_pid),
        *argv,
    ]


def bwrap_argv(settings: JailSettings, layout: JailLayout, kernel_cmd: list[str]) -> list[str]:
    """The full command line that runs ``kernel_cmd`` inside the jail described by ``layout``."""
    argv = [
        settings.bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "grading",
        "--die-with-parent",
        "--new-session",
    ]
    if layout.uid is None:
        # An unprivileged grader: bubblewrap needs a user namespace; forbid nested ones.
        argv += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    else:
        # A root grader: keep only what setpriv needs to switch to the jail's own user id.
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    mounts = _Mounts()
    _system_mounts(mounts)
    size = str(settings.write_bytes)
    mounts.add("--size", size, "--tmpfs", dest="/tmp", perms="1777")
    for root in layout.python_roots:
        mounts.add("--ro-bind", root, dest=root)
    mounts.add("--ro-bind", layout.student_dir, dest=STUDENT_MOUNT)
    mounts.add("--size", str(SOCKET_DIR_BYTES), "--tmpfs", dest=SOCKET_DIR, perms="1777")
    mounts.add("--ro-bind-data", str(layout.connection_fd), dest=layout.connection_file, perms="0444")
    mounts.add("--size", size, "--tmpfs", dest=layout.workdir, perms="0777")
    for relative, fd in layout.files:
        target = str(PurePosixPath(layout.workdir) / relative)
        for parent in reversed(PurePosixPath(relative).parents[:-1]):
            mounts.add("--dir", dest=str(PurePosixPath(layout.workdir) / parent), perms="0777")
        mounts.add("--file", str(fd), dest=target, perms="0666")
    # Last: nothing more is created in the root tmpfs, which an unprivileged grader's jail owns.
    mounts.argv += ["--remount-ro", "/"]
    if layout.info_fd is not None:
        argv += ["--info-fd", str(layout.info_fd)]
    # jupyter_client adds JPY_PARENT_PID after the environment is chosen; inside the PID
    # namespace the kernel's parent is PID 1, which ipykernel would take for an orphaned kernel.
    argv += mounts.argv + ["--unsetenv", "JPY_PARENT_PID", "--chdir", layout.workdir, "--"]
    if layout.uid is not None:
        argv += _drop_privileges(layout.uid)
    return argv + _limits(settings) + list(kernel_cmd)
