"""The jail's parts that need no kernel: the opt-out switch, the mounted student package, the
working-folder copy, and what the bubblewrap command line mounts."""

from pathlib import Path

import pytest

from tinytorch_course.grading.jail.bwrap import STUDENT_MOUNT, JailLayout, bwrap_argv
from tinytorch_course.grading.jail.manager import kernel_env, student_package_dir, working_files
from tinytorch_course.grading.jail.preflight import JailUnavailable, python_roots
from tinytorch_course.grading.jail.settings import JailSettings, sandbox_requested
from tinytorch_course.paths import REPO
from tinytorch_course.student.package import cached_package, package_bytes


@pytest.mark.parametrize(
    "environ, jailed",
    [
        ({}, True),
        ({"SANDBOX": "1"}, True),
        ({"SANDBOX": "0"}, False),
        ({"SANDBOX": " 0 "}, False),
        ({"SANDBOX": "no"}, True),
    ],
)
def test_only_sandbox_0_turns_the_jail_off(environ, jailed):
    assert sandbox_requested(environ) is jailed


def test_a_student_package_folder_without_tinytorch_is_refused_naming_the_setting(tmp_path):
    with pytest.raises(JailUnavailable, match="JailSettings.student_package"):
        student_package_dir(JailSettings(student_package=str(tmp_path)))
    (tmp_path / "tinytorch").mkdir()
    (tmp_path / "tinytorch" / "__init__.py").write_text("")
    assert student_package_dir(JailSettings(student_package=str(tmp_path))) == str(tmp_path)


def test_the_default_student_package_has_no_solutions():
    folder = Path(student_package_dir(JailSettings()))
    assert (folder / "tinytorch" / "core").is_dir()
    assert not (folder / "tinytorch" / "olympics").exists()


def test_working_files_are_regular_files_only_and_bounded(tmp_path):
    (tmp_path / "nb.ipynb").write_text("{}")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("1,2")
    (tmp_path / "secret").symlink_to(REPO / "nbgrader_config.py")
    (tmp_path / "linked").symlink_to(REPO / "src", target_is_directory=True)
    assert [rel for rel, _ in working_files(str(tmp_path), 1000)] == ["data/x.csv", "nb.ipynb"]
    with pytest.raises(JailUnavailable, match="write_mib"):
        working_files(str(tmp_path), 4)


def test_the_kernel_environment_keeps_nothing_but_the_listed_variables():
    env = kernel_env(
        {
            "NBGRADER_EXECUTION": "autograde",
            "OMP_NUM_THREADS": "1",
            "AWS_SECRET_ACCESS_KEY": "x",
            "PYTHONPATH": str(REPO),
            "HOME": "/root",
        }
    )
    assert env["NBGRADER_EXECUTION"] == "autograde" and env["OMP_NUM_THREADS"] == "1"
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["PYTHONPATH"] == STUDENT_MOUNT and env["HOME"] == "/tmp"


def test_nothing_of_the_course_root_is_mounted_but_the_venv(tmp_path):
    layout = JailLayout(
        workdir="/home/student/a",
        files=(("nb.ipynb", 7),),
        connection_file=str(tmp_path / "c.json"),
        connection_fd=8,
        python_roots=python_roots(),
        student_dir=str(tmp_path / "pkg"),
        uid=None,
    )
    argv = bwrap_argv(JailSettings(), layout, ["python", "-m", "ipykernel_launcher"])
    sources = [argv[i + 1] for i, arg in enumerate(argv) if arg in ("--bind", "--ro-bind", "--ro-bind-try")]
    inside_repo = [s for s in sources if Path(s).resolve().is_relative_to(REPO)]
    assert all(Path(s).resolve().is_relative_to(REPO / ".venv") for s in inside_repo), inside_repo
    assert {"--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session"} <= set(argv)
    assert argv[-3:] == ["python", "-m", "ipykernel_launcher"]


def test_the_jail_and_grading_tasks_share_one_student_package_cache():
    files = package_bytes()
    cached = cached_package(files)
    assert cached_package(dict(files)) == cached, "the same content is written once per process"
    assert (cached / "tinytorch" / "core" / "tensor.py").read_bytes() == files["tinytorch/core/tensor.py"]
    assert cached_package({**files, "tinytorch/extra.py": b""}) != cached, "other content, other folder"
    assert student_package_dir(JailSettings()) == str(cached), "the grader's own jail mounts the same copy"
