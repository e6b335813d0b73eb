"""The two ways a submission can be refused: unreadable file, or invalid content."""

from __future__ import annotations


class SubmissionValidationError(ValueError):
    """A submission breaks the schema or a cross-field rule.

    `.errors` lists every violation; `.source` names the file (or is None); `.reason` is the
    message without the file name.
    """

    def __init__(self, errors: list, source: str | None = None) -> None:
        self.errors, self.source = list(errors), source
        self.reason = (
            f"invalid submission ({len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}):"
            "\n  - " + "\n  - ".join(self.errors)
        )
        super().__init__(f"{source}: {self.reason}" if source else self.reason)


class SubmissionFileError(ValueError):
    """A submission file cannot be read at all: missing, too large, not JSON, or absurdly nested.

    `.source` names the file; `.reason` says what is wrong with it.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}")
