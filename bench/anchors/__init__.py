"""Reference servers the benchmarks measure Haven against, each in its own environment."""
