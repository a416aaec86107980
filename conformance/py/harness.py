"""Tiny case runner shared by the Python conformance clients.

A client module registers its cases with ``@suite.case`` and calls ``suite.main()``.
Each case is a plain function taking a ``Ctx``; it passes if it returns, and fails
on any exception (assertion or client error). Results are written as JSON
``{"<client>/<case>": "pass"|"fail"}``; failure details go to stderr.

Command line (used by conformance/run):
    python test_x.py --webhook https://127.0.0.1:PORT/rest/1/CODE/ --results out.json [--only CASE ...]
"""

import argparse
import json
import os
import re
import secrets
import sys
import time
import traceback

ISO_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
MULTIFIELD_KEYS = {"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}
MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM", "LINK")


class Ctx:
    """Per-case context: the webhook URL and a unique marker for data isolation."""

    def __init__(self, client, case, webhook):
        self.client = client
        self.case = case
        self.webhook = webhook
        # Alphanumerics and '-' only: no LIKE wildcards ('%', '_') and nothing needing escapes.
        self.marker = f"ct{secrets.token_hex(4)}-{client}-{case.replace('_', '-')}"

    def phone(self, n):
        """A phone number unique to this case run (digits only after '+')."""
        digits = int(self.marker[2:10], 16) % 10**8
        return f"+7{digits:08d}{n:03d}"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def ids_of(records):
    return [int(r["ID"]) for r in records]


def check_multifield(lead, field, expected):
    """`expected` is a list of (VALUE_TYPE, VALUE); checks shape, order by ID, TYPE_ID."""
    check(field in lead, f"{field} missing from lead {lead.get('ID')}")
    items = lead[field]
    check(isinstance(items, list), f"{field} must be a JSON list, got {items!r}")
    eq(len(items), len(expected), f"number of {field} values ({items!r})")
    for item, (vtype, value) in zip(items, expected):
        check(isinstance(item, dict), f"{field} element must be an object: {item!r}")
        eq(set(item), MULTIFIELD_KEYS, f"{field} element keys")
        check(isinstance(item["ID"], str) and item["ID"].isdigit(), f"{field} ID must be a digit string: {item!r}")
        eq(item["TYPE_ID"], field, f"{field} TYPE_ID")
        eq(item["VALUE_TYPE"], vtype, f"{field} VALUE_TYPE")
        eq(item["VALUE"], value, f"{field} VALUE")
    item_ids = [int(i["ID"]) for i in items]
    eq(item_ids, sorted(item_ids), f"{field} elements ordered by ID")
    return items


def check_legacy_lead(lead):
    """leads.md §8: scalars are strings or null, dates ISO with offset, no empty-type multifields."""
    check(isinstance(lead, dict), f"lead must be an object, got {type(lead).__name__}")
    for key, value in lead.items():
        if key in MULTIFIELDS:
            check(isinstance(value, list) and value, f"{key} present but not a non-empty list: {value!r}")
            continue
        check(value is None or isinstance(value, str), f"field {key} must be a string or null, got {value!r}")
    check(isinstance(lead.get("ID"), str) and lead["ID"].isdigit(), f"ID must be a digit string: {lead.get('ID')!r}")
    for key in ("DATE_CREATE", "DATE_MODIFY"):
        check(key in lead and ISO_DT.match(lead[key] or ""), f"{key} must be ISO-8601 with offset: {lead.get(key)!r}")
    eq(lead.get("DATE_CLOSED"), "", "DATE_CLOSED (empty date is \"\")")
    check(isinstance(lead.get("CURRENCY_ID"), str) and lead["CURRENCY_ID"], "CURRENCY_ID must be non-empty")


class Suite:
    def __init__(self, client):
        self.client = client
        self.cases = []

    def case(self, fn):
        self.cases.append((fn.__name__, fn))
        return fn

    def main(self):
        ap = argparse.ArgumentParser()
        ap.add_argument("--webhook", default=os.environ.get("LT_WEBHOOK"))
        ap.add_argument("--results", required=True)
        ap.add_argument("--only", nargs="*")
        args = ap.parse_args()
        if not args.webhook:
            ap.error("--webhook or LT_WEBHOOK is required")

        results = {}
        for name, fn in self.cases:
            if args.only and name not in args.only:
                continue
            key = f"{self.client}/{name}"
            started = time.monotonic()
            try:
                fn(Ctx(self.client, name, args.webhook))
            except BaseException as exc:  # noqa: BLE001 - a case fails on anything
                if isinstance(exc, KeyboardInterrupt):
                    raise
                results[key] = "fail"
                print(f"FAIL {key} ({time.monotonic() - started:.1f}s): {type(exc).__name__}: {exc}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                extra = describe_error(exc)
                if extra:
                    print(f"  response: {extra}", file=sys.stderr)
            else:
                results[key] = "pass"
                print(f"pass {key} ({time.monotonic() - started:.1f}s)", file=sys.stderr)
            # Write after every case so a hung/killed run still reports what finished.
            with open(args.results, "w") as fh:
                json.dump(results, fh, indent=1, sort_keys=True)
        return 0


def describe_error(exc):
    """Best-effort dump of the server's answer carried by a client exception."""
    for attr in ("json_response",):
        if getattr(exc, attr, None) is not None:
            return json.dumps(getattr(exc, attr), ensure_ascii=False)[:2000]
    if exc.args and isinstance(exc.args[0], (dict, list)):
        return json.dumps(exc.args[0], ensure_ascii=False)[:2000]
    return None
