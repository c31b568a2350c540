"""`python -m fuzz NAME [libFuzzer flags] [corpus directories]`: one harness under atheris."""

from __future__ import annotations

import importlib
import sys

from fuzz import HARNESSES, MISSING_ATHERIS


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in HARNESSES:
        print(f"usage: python -m fuzz {{{'|'.join(HARNESSES)}}} [libFuzzer flags] [corpus dirs]")
        return 2
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        print(MISSING_ATHERIS, file=sys.stderr)
        return 1
    # Comparisons with string constants guide the mutator towards what the parsers look
    # for (schemes, field names). Not the "RegEx" hook: in atheris 3.0.0 it fails on the
    # bytes patterns cryptography compiles at import.
    atheris.enabled_hooks.add("str")
    # Only what is imported here is instrumented: Haven's code (plus the archive and URL
    # parsers it leans on), not the whole interpreter, which keeps start-up to seconds.
    with atheris.instrument_imports(include=["haven", "fuzz", "zipfile", "gzip", "urllib"]):
        harness = importlib.import_module(f"fuzz.{argv[1]}")
    atheris.Setup([argv[0], *argv[2:]], harness.TestOneInput)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
