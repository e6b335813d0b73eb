"""log-mlflow: two runs in a real local MLflow store (SQLite), read back with MLflow's own client."""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow  # the [mlflow] extra is part of `make install`: its absence fails, never skips
import pytest

from tests.olympics.submissions import write
from tinytorch.olympics import load_submission
from tinytorch.olympics.mlflow_export import (
    INSTALL_HINT,
    MlflowUnavailable,
    default_artifact_location,
    import_mlflow,
    log_submission,
)


def test_baseline_and_optimized_become_two_runs(measured_submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written to the current folder would show up here
    path = write(tmp_path / "submission.json", measured_submission)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    run_ids = log_submission(load_submission(path), path, tracking_uri=uri, experiment="capstone-test")
    assert set(run_ids) == {"baseline", "optimized"}

    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("capstone-test")
    runs = {r.data.params["role"]: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"baseline", "optimized"}
    for role, run in runs.items():
        entry = measured_submission[role]
        assert run.info.status == "FINISHED"
        assert run.data.params["model_name"] == entry["model_name"]
        assert run.data.params["system.cpu_count"] == str(measured_submission["system_info"]["cpu_count"])
        assert run.data.params["system.blas"] == measured_submission["system_info"]["blas"]
        for key, value in entry["metrics"].items():
            assert run.data.metrics[key] == pytest.approx(value), f"{role}.{key}"
        artifacts = [a.path for a in client.list_artifacts(run.info.run_id)]
        assert artifacts == ["submission.json"]
        local = client.download_artifacts(run.info.run_id, "submission.json", str(tmp_path / f"dl_{role}"))
        assert json.loads(open(local).read()) == measured_submission
    assert runs["optimized"].data.params["techniques"] == "int8_quantization"
    assert runs["baseline"].data.params["techniques"] == "none"
    speedup = measured_submission["improvements"]["speedup"]
    assert runs["optimized"].data.metrics["improvements.speedup"] == pytest.approx(speedup)
    assert (tmp_path / "store" / "mlartifacts").is_dir(), "artifacts belong beside the store"
    assert not (tmp_path / "mlruns").exists(), "nothing may land in the current folder"

    again = log_submission(load_submission(path), path, tracking_uri=uri, experiment="capstone-test")
    assert len(client.search_runs([experiment.experiment_id])) == 4 and again != run_ids


@pytest.mark.parametrize("database", ["mlflow.db", "store/mlflow.db", "ABSOLUTE/store/mlflow.db"])
def test_artifacts_go_beside_the_database_file(tmp_path, monkeypatch, database):
    """sqlite:///mlflow.db is relative to the current folder (SQLAlchemy's reading), and
    sqlite:////abs/mlflow.db absolute: either way the artifacts sit beside the file."""
    monkeypatch.chdir(tmp_path)
    database = database.replace("ABSOLUTE", str(tmp_path))
    expected = (tmp_path / database).parent / "mlartifacts"
    assert default_artifact_location(f"sqlite:///{database}") == expected.as_uri()
    assert default_artifact_location("http://127.0.0.1:5000") is None


def test_missing_mlflow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(MlflowUnavailable, match=r"pip install -e \.\[mlflow\]"):
        import_mlflow()


def test_cli_without_mlflow_says_how_to_install(measured_submission, tmp_path):
    path = write(tmp_path / "submission.json", measured_submission)
    code = (
        "import sys; sys.modules['mlflow'] = None\n"
        "from tinytorch.olympics.cli import main\n"
        f"sys.exit(main(['olympics', 'log-mlflow', {str(path)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert INSTALL_HINT in result.stderr
