"""Submission files: written atomically, read with every way a file can be unusable named,
and upgraded from older schema versions. Validation is the caller's (the capstone's
`save_submission` and `load_submission` put the two together)."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinytorch.submission.errors import SubmissionFileError
from tinytorch.submission.paths import MAX_NESTING, lookup, nesting_depth
from tinytorch.submission.significance import speedup_significance
from tinytorch.submission.vocabulary import MAX_SUBMISSION_BYTES, MIB, MODEL_ROLES, SUBMISSION_SCHEMA_VERSION


def write_json_atomically(data: Any, filepath: str | os.PathLike) -> str:
    """Write `data` as indented JSON to `filepath` through a temporary file in the same folder and
    `os.replace`, so a crash half-way leaves the old file as it was; return the path written."""
    return write_text_atomically(json.dumps(data, indent=2, allow_nan=False) + "\n", filepath)


def write_text_atomically(text: str, filepath: str | os.PathLike) -> str:
    """Write `text` as UTF-8 to `filepath` through a temporary file in the same folder and
    `os.replace`: readers see the old file or the whole new one, never a part; return the path
    written. The file is readable by all and writable by its owner (0644), like a report or a
    submission written with ``open``."""
    path = Path(filepath)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(path)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def read_submission_file(filepath: str | os.PathLike) -> Any:
    """The parsed JSON of a submission file, unvalidated; SubmissionFileError when unreadable."""
    path = Path(filepath)
    source = str(filepath)
    try:
        if not path.is_file():
            raise SubmissionFileError(source, "no such file")
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionFileError(
                source,
                f"{size / MIB:.1f} MiB is over the {MAX_SUBMISSION_BYTES / MIB:.0f} MiB limit for a submission file",
            )
        data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_reject_constant)
    except OSError as error:
        raise SubmissionFileError(source, f"cannot be read ({error.strerror or error})") from None
    except RecursionError:
        raise SubmissionFileError(source, "nested too deeply to be a submission") from None
    except UnicodeDecodeError as error:
        raise SubmissionFileError(source, f"not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise SubmissionFileError(
            source, f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except SubmissionFileError:
        raise
    except ValueError as error:
        raise SubmissionFileError(source, str(error)) from None
    if nesting_depth(data) > MAX_NESTING:
        raise SubmissionFileError(source, f"nested more than {MAX_NESTING} levels deep: not a submission")
    return data


def upgrade_submission(submission: Any) -> Any:
    """A copy of a schema-version-1 submission in the current shape; others are returned as they are.

    Version 1 had no raw latency samples and no significance fields. The samples become empty
    lists, and significance is judged by range overlap, the only test the stored numbers allow.
    """
    version = submission.get("schema_version") if isinstance(submission, dict) else None
    if type(version) is not int or version != 1:  # missing, 1.0 or true are errors, not version 1
        return submission
    upgraded = copy.deepcopy(submission)
    upgraded["schema_version"] = SUBMISSION_SCHEMA_VERSION
    for model in MODEL_ROLES:
        if isinstance(upgraded.get(model), dict):
            upgraded[model].setdefault("latency_samples_ms", [])
    imp, base, opt = (lookup(upgraded, k) for k in ("improvements", *MODEL_ROLES))
    if isinstance(imp, dict) and isinstance(lookup(base, "metrics"), dict) and isinstance(lookup(opt, "metrics"), dict):
        try:
            imp.update(speedup_significance(base, opt))
        except (KeyError, TypeError, ValueError, OverflowError):
            pass  # broken metrics or samples: leave it to the validator to say what is wrong
    return upgraded
