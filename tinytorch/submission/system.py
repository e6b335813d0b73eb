"""When and where a measurement ran: the timestamp and the machine description."""

from __future__ import annotations

import datetime as _dt
import os
import platform

import numpy as np

import tinytorch


def utc_timestamp() -> str:
    """Now, as ISO-8601 with an explicit +00:00 offset (Python 3.10's fromisoformat rejects 'Z')."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _blas_info() -> tuple[str, int | None]:
    """Name/version of the BLAS numpy uses and its thread count, as far as can be told."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                name = f"{pool.get('internal_api', 'blas')} {pool.get('version') or ''}".strip()
                return name, int(pool["num_threads"])
    except Exception:  # threadpoolctl missing or unable to inspect this build
        pass
    return "unknown", None


def collect_system_info() -> dict:
    """A description of this machine and software, so results can be compared fairly."""
    blas, blas_threads = _blas_info()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine() or "unknown",
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "cpu_count": os.cpu_count() or 1,
        "blas": blas,
        "blas_threads": blas_threads,
        "tinytorch_version": tinytorch.__version__,
    }
