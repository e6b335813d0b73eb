"""Log a submission to MLflow: the baseline and the optimized model as two runs.

Each run gets params (model name, role, techniques, student, every system_info field), every
metric, the improvements (on the optimized run) and the submission file as an artifact.
mlflow is an optional dependency, imported only here and only when used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tinytorch.submission.vocabulary import MODEL_ROLES, OPTIMIZED

DEFAULT_EXPERIMENT = "tinytorch-olympics"
SQLITE_PREFIX = "sqlite:///"
INSTALL_HINT = "mlflow is not installed; install the optional extra with: pip install -e .[mlflow]"


class MlflowUnavailable(RuntimeError):
    """mlflow cannot be imported."""


def import_mlflow() -> Any:
    """The mlflow module, or MlflowUnavailable naming the extra to install."""
    try:
        import mlflow
    except ImportError as error:
        raise MlflowUnavailable(f"{INSTALL_HINT} ({error})") from None
    return mlflow


def default_artifact_location(tracking_uri: str | None) -> str | None:
    """For a sqlite:/// store, an `mlartifacts` folder beside the database file.

    Without this, MLflow puts artifacts of a database store in ./mlruns under the current
    directory, far from the store the user named.
    """
    if not tracking_uri or not tracking_uri.startswith(SQLITE_PREFIX):
        return None
    # What follows the prefix is the database path as SQLAlchemy reads it: absolute when it
    # starts with "/" (sqlite:////abs/mlflow.db), else relative to the current folder
    # (sqlite:///mlflow.db), which a URL parser would wrongly read as /mlflow.db.
    database = Path(unquote(tracking_uri[len(SQLITE_PREFIX) :].split("?", 1)[0]))
    return (database.parent / "mlartifacts").resolve().as_uri()


def _experiment_id(client: Any, name: str, tracking_uri: str | None) -> str:
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return client.create_experiment(name, artifact_location=default_artifact_location(tracking_uri))


def run_params(submission: dict, role: str) -> dict:
    """Params of one model's run: model, role, techniques, student, settings and system info."""
    entry = submission[role]
    params = {
        "role": role,
        "model_name": entry["model_name"],
        "techniques": ",".join(entry.get("techniques_applied", [])) or "none",
        "student_name": submission.get("student_name", ""),
        "schema_version": submission["schema_version"],
        "tinytorch_version": submission["tinytorch_version"],
        "timestamp": submission["timestamp"],
        "latency_samples": len(entry.get("latency_samples_ms", [])),
    }
    params.update({f"measurement.{k}": v for k, v in (entry.get("measurement") or {}).items()})
    params.update({f"system.{k}": v for k, v in submission["system_info"].items()})
    return {k: "" if v is None else str(v) for k, v in params.items()}


def run_metrics(submission: dict, role: str) -> dict:
    """Every metric of one model; the optimized run also gets the numeric improvements."""
    metrics = {k: float(v) for k, v in submission[role]["metrics"].items()}
    if role == OPTIMIZED:
        for key, value in submission["improvements"].items():
            if isinstance(value, (int, float)):  # bools are ints (0/1); None and text are skipped
                metrics[f"improvements.{key}"] = float(value)
    return metrics


def log_submission(
    submission: dict, path: str | os.PathLike, tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT
) -> dict:
    """Log a submission to MLflow; return {role: run_id}.

    Args:
        submission: the submission as returned by `olympics.load_submission(path)` (validated).
        path: the file it was loaded from, logged as the runs' artifact.
        tracking_uri: where to log, e.g. `sqlite:///mlflow.db` or `http://host:5000`;
            None uses MLflow's own default (MLFLOW_TRACKING_URI or its built-in store).
        experiment: the experiment name, created when missing.
    """
    import_mlflow()
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment_id = _experiment_id(client, experiment, tracking_uri)
    run_ids = {}
    for role in MODEL_ROLES:
        if role not in submission:
            continue
        run = client.create_run(
            experiment_id,
            run_name=f"{role}:{submission[role]['model_name']}",
            tags={"tinytorch.role": role, "tinytorch.submission": Path(path).name},
        )
        run_id = run.info.run_id
        try:
            stamp = int(run.info.start_time or 0)
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, stamp, 0) for k, v in run_metrics(submission, role).items()],
                params=[Param(k, v) for k, v in run_params(submission, role).items()],
                tags=[RunTag("mlflow.note.content", f"TinyTorch olympics submission {Path(path).name} ({role})")],
            )
            client.log_artifact(run_id, str(path))
        except Exception:
            client.set_terminated(run_id, status="FAILED")
            raise
        client.set_terminated(run_id, status="FINISHED")
        run_ids[role] = run_id
    return run_ids
