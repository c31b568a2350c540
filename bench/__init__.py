"""Benchmarks against the anchors; `python -m bench.run` rewrites BENCHMARKS.md."""
