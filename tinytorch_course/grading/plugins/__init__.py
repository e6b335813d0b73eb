"""The course's nbgrader plugins, one per file named after its class: ``CellScoresExportPlugin``
(``nbgrader export``) and ``CanonicalNotebookExporter`` (``nbgrader autograde``'s exporter)."""
