"""Merge per-client results, compare them with baseline.json, optionally rewrite the baseline.

Standard library only (runs with any python3). Called by conformance/run:
    baseline.py --backend sqlite --baseline baseline.json --out out/results-sqlite.json \
                [--update] [--client NAME] RESULT_FILE...

baseline.json maps "<client>/<case>" to:
    "pass"      passes on both backends (a regression on either backend fails the run)
    "sqlite"    passes on SQLite only   (expected to pass there; a PostgreSQL pass is a new pass)
    "postgres"  passes on PostgreSQL only
    "fail"      passes on neither
Exit status: 0 ok, 1 regression or unrecorded new pass (without --update).
"""

import argparse
import json
import os
import sys

BACKENDS = ("sqlite", "postgres")


def expected_pass(status, backend):
    return status in ("pass", backend)


def combine(passes_here, passes_other, backend):
    other = BACKENDS[1 - BACKENDS.index(backend)]
    if passes_here and passes_other:
        return "pass"
    if passes_here:
        return backend
    if passes_other:
        return other
    return "fail"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True, choices=BACKENDS)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--client", help="only this client's cases were run")
    ap.add_argument("--expect", action="append", default=[],
                    help="CLIENT=CASE,CASE,...: cases a client should have reported (missing ones count as failed)")
    ap.add_argument("results", nargs="*")
    args = ap.parse_args()
    other = BACKENDS[1 - BACKENDS.index(args.backend)]

    results = {}
    for path in args.results:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as fh:
                results.update(json.load(fh))

    baseline = {}
    if os.path.exists(args.baseline):
        with open(args.baseline) as fh:
            baseline = json.load(fh)

    def in_scope(key):
        return args.client is None or key.split("/", 1)[0] == args.client

    # A case the baseline knows (or the runner declared) but that reported nothing (crash, timeout) has failed.
    for key in baseline:
        if in_scope(key) and key not in results:
            results[key] = "fail"
            print(f"MISSING {key}: no result reported (client crashed or timed out)", file=sys.stderr)
    for spec in args.expect:
        client, cases = spec.split("=", 1)
        for case in filter(None, cases.split(",")):
            key = f"{client}/{case}"
            if key not in results:
                results[key] = "fail"
                print(f"MISSING {key}: no result reported (client crashed or timed out)", file=sys.stderr)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(dict(sorted(results.items())), fh, indent=1)
        fh.write("\n")

    regressions = sorted(k for k, v in baseline.items()
                         if in_scope(k) and expected_pass(v, args.backend) and results.get(k) != "pass")
    new_passes = sorted(k for k, v in results.items()
                        if v == "pass" and not expected_pass(baseline.get(k, "fail"), args.backend))
    known_failures = sorted(k for k, v in results.items()
                            if v != "pass" and k not in regressions)

    for key in known_failures:
        print(f"known failure ({args.backend}): {key}")
    for key in regressions:
        print(f"REGRESSION ({args.backend}): {key} is '{baseline[key]}' in the baseline but did not pass")
    for key in new_passes:
        what = "recording it" if args.update else f"the baseline does not expect it on {args.backend}"
        print(f"NEW PASS ({args.backend}): {key} passes; {what}")

    status = 0
    if regressions:
        status = 1
    if args.update:
        if args.client:
            print("--update-baseline needs a run of every client", file=sys.stderr)
            return 1
        updated = {}
        for key in sorted(set(baseline) | set(results)):
            passes_here = results.get(key) == "pass"
            passes_other = expected_pass(baseline.get(key, "fail"), other)
            updated[key] = combine(passes_here, passes_other, args.backend)
        with open(args.baseline, "w") as fh:
            json.dump(updated, fh, indent=1)
            fh.write("\n")
        print(f"baseline updated from the {args.backend} run: {args.baseline}")
        if any(v in BACKENDS for v in updated.values()):
            print(f"note: some cases pass on one backend only; run --backend {other} --update-baseline too "
                  "if its results changed")
    elif new_passes:
        print("new passes: rerun with --update-baseline to record them", file=sys.stderr)
        status = 1

    passed = sum(1 for v in results.values() if v == "pass")
    print(f"{passed} passed, {len(results) - passed} failed")
    return status


if __name__ == "__main__":
    sys.exit(main())
