"""TinyTorch: a small ML framework built from scratch, and the tools to benchmark it honestly."""

__version__ = "0.20.0"
