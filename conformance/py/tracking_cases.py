"""Sales Intelligence cases (spec/sales-intelligence.md §2–3), written once for both Python clients.

A client module registers them with one line: in test_b24pysdk.py

    import tracking_cases
    tracking_cases.register(suite, tracking_cases.B24pysdkAdapter)

and in test_fast_bitrix24.py

    tracking_cases.register(suite, tracking_cases.FastBitrix24Adapter)

An adapter turns a case's requests into the client's own calls:
    add_lead(fields) -> int                the client's crm.lead.add
    trace_add(trace, entities=None) -> int the client's crm.tracking.trace.add
    trace_delete(trace_id) -> result       the client's crm.tracking.trace.delete
    raw(method, params) -> result          any method (our leadtrace.tracking.* extension has no typed call)
    error(method, params) -> (status, error, error_description)   a call that must fail
`status` is None where the client does not expose it (fast_bitrix24 reports errors per batch command).
"""

import json

from harness import check, eq

# A trace as the website tracker (b24Tracker.guest.getTrace()) produces it: a JSON *string*.
TRACKER = json.dumps(
    {
        "url": "https://shop.example/landing?utm_source=google",
        "ref": "https://www.google.com/",
        "device": {"isMobile": False},
        "tags": {"ts": 1579501926, "list": {"utm_source": "google", "utm_medium": "cpc"}, "gclid": None},
        "client": {"gaId": "209629315.1579004207"},
        "pages": {"list": [["https://shop.example/landing", 1579501926, "Landing"]]},
        "gid": None,
        "previous": {"list": [{"url": "https://shop.example/", "ref": "https://www.facebook.com/", "tags": {"ts": 1579000000, "list": {}}}]},
    },
    separators=(",", ":"),
)
VK_TRACE = '{"tags":{"list":{"utm_source":"vk"}}}'

TYPES = "Wrong TYPE in parameter `ENTITIES`. Allowed types: COMPANY,CONTACT,DEAL,LEAD,QUOTE"
# (params, error_description) of crm.tracking.trace.add; every one is HTTP 400 ERROR_CORE.
TRACE_ADD_ERRORS = [
    ({}, "Parameter `TRACE` required."),
    ({"TRACE": ""}, "Parameter `TRACE` required."),
    ({"TRACE": "{oops"}, "Can not parse JSON in parameter `TRACE`."),
    ({"TRACE": VK_TRACE, "ENTITIES": [{"TYPE": "SPA", "ID": 1}]}, TYPES),
    ({"TRACE": VK_TRACE, "ENTITIES": [{"TYPE": "LEAD", "ID": "x"}]}, "Wrong ID in parameter `ENTITIES`."),
    (
        {"TRACE": VK_TRACE, "ENTITIES": [{"TYPE": "LEAD", "ID": 1999999999}]},
        "You have no access to entity `LEAD` with ID `1999999999`.",
    ),
]


def journey(a, lead_id):
    return a.raw("leadtrace.tracking.entity.get", {"TYPE": "LEAD", "ID": lead_id})


def trace_ids(j):
    return [t["ID"] for t in j["TRACES"]]


def check_id(value, what):
    check(type(value) is int and value > 0, f"{what} must be a positive JSON integer, got {value!r}")


def trace_on_lead_add(ctx, a):
    """TRACE on crm.lead.add: the tracker's JSON string, then the number of a trace."""
    lead = a.add_lead({"TITLE": f"{ctx.marker} trace", "TRACE": TRACKER})
    check_id(lead, "crm.lead.add")
    j = journey(a, lead)
    eq(j["SOURCE"]["CODE"], "google", "source of the lead's trace")
    t = j["TRACES"][0]
    eq(t["CHANNEL_GROUP"]["CODE"], "paid_search", "channel group")
    eq([c["CODE"] for c in t["CHANNELS"]], ["site", "rest"], "channels")
    eq([p["URL"] for p in t["PAGES"]], ["https://www.google.com/", "https://shop.example/landing"], "pages")
    eq(t["PREVIOUS"][0]["SOURCE"]["CODE"], "fb", "source of the previous visit")

    trace_id = a.trace_add(VK_TRACE)
    check_id(trace_id, "crm.tracking.trace.add")
    lead2 = a.add_lead({"TITLE": f"{ctx.marker} numeric", "TRACE": str(trace_id)})
    eq(trace_ids(journey(a, lead2)), [trace_id], "a numeric TRACE binds that trace")


def trace_on_each_add(ctx, a):
    """TRACE on crm.deal.add, crm.contact.add, crm.company.add and crm.quote.add (spec §3)."""
    for method, kind, fields in [
        ("crm.deal.add", "DEAL", {"TITLE": f"{ctx.marker} deal"}),
        ("crm.contact.add", "CONTACT", {"NAME": f"{ctx.marker} contact"}),
        ("crm.company.add", "COMPANY", {"TITLE": f"{ctx.marker} company"}),
        ("crm.quote.add", "QUOTE", {"TITLE": f"{ctx.marker} quote"}),
    ]:
        record = a.raw(method, {"fields": {**fields, "TRACE": TRACKER}})
        check_id(record, method)
        j = a.raw("leadtrace.tracking.entity.get", {"TYPE": kind, "ID": record})
        eq(j["SOURCE"]["CODE"], "google", f"source of the {kind} trace")
        eq(j["TRACES"][0]["UTM"]["UTM_MEDIUM"], "cpc", f"UTM_MEDIUM of the {kind} trace")
        eq(
            [p["URL"] for p in j["TRACES"][0]["PAGES"]],
            ["https://www.google.com/", "https://shop.example/landing"],
            f"pages of the {kind} trace",
        )


def trace_add_delete(ctx, a):
    """crm.tracking.trace.add with ENTITIES binds; crm.tracking.trace.delete answers null and unbinds."""
    lead = a.add_lead({"TITLE": f"{ctx.marker} bind", "UTM_SOURCE": "google"})
    trace_id = a.trace_add(VK_TRACE, [{"TYPE": "LEAD", "ID": lead}])
    check_id(trace_id, "crm.tracking.trace.add")
    j = journey(a, lead)
    eq(trace_ids(j)[0], trace_id, "the new trace is the lead's effective trace")
    eq(j["SOURCE"]["CODE"], "vk", "source")
    eq(a.trace_delete(trace_id), None, "crm.tracking.trace.delete result")
    j = journey(a, lead)
    check(trace_id not in trace_ids(j), f"trace {trace_id} still bound: {trace_ids(j)}")
    eq(j["SOURCE"]["CODE"], "google", "falls back to the earlier trace")


def trace_errors(ctx, a):
    """Every documented error text of crm.tracking.trace.add/delete (HTTP 400, ERROR_CORE)."""
    for params, text in TRACE_ADD_ERRORS:
        status, code, description = a.error("crm.tracking.trace.add", params)
        if status is not None:
            eq(status, 400, f"HTTP status for {params!r}")
        eq(code, "ERROR_CORE", f"error for {params!r}")
        eq(description, text, f"error_description for {params!r}")
    status, code, description = a.error("crm.tracking.trace.delete", {"id": 0})
    if status is not None:
        eq(status, 400, "HTTP status of trace.delete without id")
    eq((code, description), ("ERROR_CORE", "Parameter `id` required."), "trace.delete without id")


def si_report(ctx, a):
    """Extensions (E16-E19): a source, a channel override rule, an expense pack and the report over them."""
    import datetime

    tag = ctx.marker[:10]  # "ct" + 8 hex digits: unique per run
    today = datetime.datetime.now(datetime.timezone.utc).date()
    day = datetime.timedelta(days=1)
    yesterday, tomorrow = str(today - day), str(today + day)

    source = a.raw("leadtrace.tracking.source.add", {"fields": {"NAME": f"Conformance {tag}", "CODE": tag, "UTM_SOURCE": [tag]}})
    check_id(source, "leadtrace.tracking.source.add")
    rule = a.raw(
        "leadtrace.tracking.channel.rule.add",
        {"fields": {"NAME": tag, "CHANNEL_GROUP": "email", "UTM_SOURCE": [tag]}},
    )
    check_id(rule, "leadtrace.tracking.channel.rule.add")
    # 100.00 over three days: 33.34 on the first day, 33.33 on the others (spec §12.2).
    pack = a.raw(
        "leadtrace.tracking.expense.add",
        {"fields": {"SOURCE_ID": source, "DATE_FROM": yesterday, "DATE_TO": tomorrow, "AMOUNT": "100.00", "IMPRESSIONS": 10, "ACTIONS": 4}},
    )
    check_id(pack, "leadtrace.tracking.expense.add")
    got = a.raw("leadtrace.tracking.expense.get", {"id": pack})
    eq([d["AMOUNT"] for d in got["DAYS"]], [33.34, 33.33, 33.33], "daily split of the pack")
    eq([d["IMPRESSIONS"] for d in got["DAYS"]], [4, 3, 3], "daily impressions")

    leads = [a.add_lead({"TITLE": f"{ctx.marker} {i}", "UTM_SOURCE": tag}) for i in range(2)]
    j = journey(a, leads[0])
    eq(j["SOURCE"]["CODE"], tag, "the lead's source")
    eq(j["TRACES"][0]["CHANNEL_GROUP"]["CODE"], "email", "the override rule set the channel group")
    deal = a.raw(
        "crm.deal.add",
        {"fields": {"TITLE": f"{ctx.marker} won", "UTM_SOURCE": tag, "STAGE_ID": "WON", "OPPORTUNITY": 300}},
    )
    check_id(deal, "crm.deal.add")

    for model in ("bitrix", "linear"):
        report = a.raw("leadtrace.tracking.report.get", {"from": yesterday, "to": tomorrow, "model": model})
        eq(report["model"], model, "model echoed")
        rows = [r for r in report["rows"] if r["source_id"] == source]
        eq(len(rows), 1, f"one row for source {source} ({model})")
        row = rows[0]
        got = {k: row[k] for k in ("source_code", "leads", "deals", "closed_deals", "revenue", "expenses", "impressions", "actions", "cpl", "cpa", "roi", "lead_to_deal", "deal_to_won")}
        want = {
            "source_code": tag, "leads": 2, "deals": 1, "closed_deals": 1, "revenue": 300, "expenses": 100, "impressions": 10,
            "actions": 4, "cpl": 50, "cpa": 100, "roi": 2, "lead_to_deal": 0.5, "deal_to_won": 1,
        }
        eq(got, want, f"report row ({model})")

    status, code, description = a.error("leadtrace.tracking.report.get", {"model": "u_shaped"})
    if status is not None:
        eq(status, 400, "HTTP status of an unknown model")
    eq(code, "INVALID_ARG_VALUE", "error of an unknown model")
    check("u_shaped" in (description or ""), f"the error names the model: {description!r}")

    eq(a.raw("leadtrace.tracking.channel.rule.delete", {"id": rule}), True, "channel.rule.delete")
    eq(a.raw("leadtrace.tracking.source.delete", {"id": source}), True, "source.delete")
    status, code, _ = a.error("leadtrace.tracking.expense.get", {"id": pack})
    check(code is not None, "the source's expense pack went with it")


CASES = [trace_on_lead_add, trace_on_each_add, trace_add_delete, trace_errors, si_report]


def register(suite, adapter_class):
    """Adds every case to a harness Suite; `adapter_class(ctx)` builds the client adapter."""
    for case in CASES:

        def run(ctx, case=case):
            case(ctx, adapter_class(ctx))

        run.__name__ = case.__name__
        run.__doc__ = case.__doc__
        suite.case(run)


class B24pysdkAdapter:
    """The official Python SDK: typed crm.lead.add / crm.tracking.trace.*, call_method for the rest."""

    def __init__(self, ctx):
        from urllib.parse import urlsplit

        from b24pysdk import BitrixWebhook, Client

        # Webhook URL https://HOST:PORT/rest/USER/CODE/ -> domain "HOST:PORT", token "USER/CODE".
        url = urlsplit(ctx.webhook)
        parts = url.path.strip("/").split("/")
        self.token = BitrixWebhook(domain=url.netloc, webhook_token=f"{parts[1]}/{parts[2]}")
        self.client = Client(self.token, timeout=30, max_retries=1)

    def add_lead(self, fields):
        return self.client.crm.lead.add(fields).result

    def trace_add(self, trace, entities=None):
        if entities is None:
            return self.client.crm.tracking.trace.add(trace).result
        return self.client.crm.tracking.trace.add(trace, entities=entities).result

    def trace_delete(self, trace_id):
        return self.client.crm.tracking.trace.delete(trace_id).result

    def raw(self, method, params):
        return self.token.call_method(method, params)["result"]

    def error(self, method, params):
        from b24pysdk.errors import BitrixAPIError

        try:
            got = self.token.call_method(method, params)
        except BitrixAPIError as exc:
            return exc.status_code, exc.error, exc.error_description
        raise AssertionError(f"{method} must fail, returned {got!r}")


class FastBitrix24Adapter:
    """fast_bitrix24: `call()` goes through batch (errors per command), `call(raw=True)` is a plain POST."""

    def __init__(self, ctx):
        from fast_bitrix24 import Bitrix

        self.b = Bitrix(ctx.webhook, verbose=False)

    def add_lead(self, fields):
        return self.b.call("crm.lead.add", {"fields": fields})

    def trace_add(self, trace, entities=None):
        params = {"TRACE": trace}
        if entities is not None:
            params["ENTITIES"] = entities
        # Through batch: the JSON string and ENTITIES travel inside an http_build_query'd command.
        return self.b.call("crm.tracking.trace.add", params)

    def trace_delete(self, trace_id):
        return self.b.call("crm.tracking.trace.delete", {"id": trace_id}, raw=True)["result"]

    def raw(self, method, params):
        return self.b.call(method, params, raw=True)["result"]

    def error(self, method, params):
        from fast_bitrix24.server_response import ErrorInServerResponseException

        # fast_bitrix24 refuses an empty parameter set; an empty list encodes to nothing at all.
        params = params or {"ENTITIES": []}
        try:
            got = self.b.call(method, params)
        except ErrorInServerResponseException as exc:
            errors = exc.args[0]
            check(isinstance(errors, dict) and len(errors) == 1, f"one per-command error expected, got {errors!r}")
            err = next(iter(errors.values()))
            return None, err.get("error"), err.get("error_description")
        raise AssertionError(f"{method} must fail, returned {got!r}")
