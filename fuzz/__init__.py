"""Coverage-guided fuzzing harnesses (atheris/libFuzzer) for Haven's parsers of hostile input.

Each harness module has a `TestOneInput(data: bytes)` that feeds one input to one parser and
fails (raises) only when something outside the parser's documented contract happens: an
exception type it does not define, or a documented property broken. `TestOneInput` never
needs atheris, so `tests/test_fuzz_harnesses.py` runs every harness over its seed corpus in
`fuzz/corpus/<name>/` on every `make test`. Under atheris:

    python -m fuzz NAME [libFuzzer flags] [corpus directories]   # one harness
    make soak                                                    # all, time-bounded
"""

from __future__ import annotations

HARNESSES = ("intel_parsers", "linkguard_urls", "relay_links", "wire_models")

MISSING_ATHERIS = (
    "atheris is not installed in this environment. Haven pins atheris 3.0.0 (the last release "
    "with a CPython 3.11 wheel), whose wheels exist for Linux x86-64 only: `make install` "
    "puts it in .venv on such a machine; elsewhere the harnesses still run on their seed "
    "corpora in `make test`."
)
