"""Run by the stix2 anchor's own venv: parse STIX bundles with the reference library and
print {"indicators", "seconds"} as JSON. Usage: python stix2_parse.py FILE..."""

import json
import sys
import time

import stix2

indicators = 0
start = time.perf_counter()
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as handle:
        bundle = stix2.parse(handle.read(), allow_custom=True)
    indicators += sum(1 for o in bundle.objects if getattr(o, "type", "") == "indicator")
print(json.dumps({"indicators": indicators, "seconds": time.perf_counter() - start}))
