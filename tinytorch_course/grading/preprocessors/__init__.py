"""The course's nbgrader preprocessors, one per file, each named after its class as nbgrader names
its own: ``JailedExecute`` (autograde's execution, in the jail), ``FailUnreadable`` (a 0 for a
hand-in that is not a readable notebook), ``SanitizeOutputs`` (no active content in what the
student's kernel displayed), ``RestoreLockedCells`` (sanitizing) and
``SanitizeHiddenTests`` (feedback)."""
