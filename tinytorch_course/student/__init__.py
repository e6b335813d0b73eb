"""What students get: the student package (the one definition the edition and the grading jail
ship), the student edition built from the release, and a venv made from its requirements."""
