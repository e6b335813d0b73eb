"""The course's nbgrader plugins: ``CellScoresExportPlugin`` (``nbgrader export``)."""
