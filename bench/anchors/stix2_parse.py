"""Run by the stix2 anchor's own venv: parse STIX bundles with the reference library and
print {"indicators", "seconds"} as JSON, the best of ROUNDS passes after one warm-up pass
(as Haven's side is timed). Usage: python stix2_parse.py ROUNDS FILE..."""

import json
import sys
import time

import stix2

rounds, names = int(sys.argv[1]), sys.argv[2:]
texts = []
for name in names:
    with open(name, encoding="utf-8") as handle:
        texts.append(handle.read())
best = float("inf")
indicators = 0
for attempt in range(rounds + 1):
    start = time.perf_counter()
    indicators = 0
    for text in texts:
        bundle = stix2.parse(text, allow_custom=True)
        indicators += sum(1 for o in bundle.objects if getattr(o, "type", "") == "indicator")
    if attempt:
        best = min(best, time.perf_counter() - start)
print(json.dumps({"indicators": indicators, "seconds": best}))
