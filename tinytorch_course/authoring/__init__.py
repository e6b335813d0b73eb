"""Authoring: the markers of the capstone source, its export to the package, the nbgrader release
and the reference solution made from it."""
