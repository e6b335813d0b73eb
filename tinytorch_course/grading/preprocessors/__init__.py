"""The course's nbgrader preprocessors, one per file, each named after its class as nbgrader names
its own: ``JailedExecute`` (autograde's execution, in the jail), ``RestoreLockedCells``
(sanitizing) and ``SanitizeHiddenTests`` (feedback)."""
