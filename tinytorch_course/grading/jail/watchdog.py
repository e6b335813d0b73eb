"""The wall-clock budget of one notebook: a timer that kills the whole jail when it runs out.

A thread, not a task of nbclient's event loop: the loop only runs while nbclient waits on the
kernel, and the budget must hold whatever the kernel does (ignore interrupts, sleep in C).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class BudgetWatchdog:
    """Calls ``on_expiry`` once, ``budget_s`` seconds after :meth:`start`, unless stopped first."""

    def __init__(self, budget_s: float, on_expiry: Callable[[], None]) -> None:
        if budget_s <= 0:
            raise ValueError(f"JailSettings.budget_s must be positive, got {budget_s}")
        self.budget_s = budget_s
        self._on_expiry = on_expiry
        self._timer: threading.Timer | None = None
        self.expired = False

    def start(self) -> None:
        """Start counting (again, if it was running)."""
        self.stop()
        self._timer = threading.Timer(self.budget_s, self._expire)
        self._timer.daemon = True  # never keeps the grader alive
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        self._on_expiry()

    def stop(self) -> None:
        """Stop counting; the budget can no longer expire."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
