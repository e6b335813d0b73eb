"""The submission builders moved to tests/olympics/submissions.py (tests mirror the source
tree). This name stays only while tests/olympics/test_validator.py imports `paths` from it."""
from tests.olympics.submissions import paths

__all__ = ["paths"]
