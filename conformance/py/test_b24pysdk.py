"""Conformance cases driven by the official Python SDK (PyPI b24pysdk)."""

import sys
from urllib.parse import urlsplit

from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError

import scenarios as sc
from harness import Suite, check, eq, ids_of
import events_cases
import tracking_cases

suite = Suite("b24pysdk")


def token(ctx):
    # Webhook URL https://HOST:PORT/rest/USER/CODE/ -> domain "HOST:PORT", token "USER/CODE".
    url = urlsplit(ctx.webhook)
    eq(url.scheme, "https", "b24pysdk only builds https:// URLs; the webhook")
    parts = url.path.strip("/").split("/")
    eq(parts[0], "rest", "webhook path")
    return BitrixWebhook(domain=url.netloc, webhook_token=f"{parts[1]}/{parts[2]}")


def client(ctx):
    # No retries: a 503 from our server would be a bug worth seeing, not hiding.
    return Client(token(ctx), timeout=30, max_retries=1)


@suite.case
def lead_crud(ctx):
    c = client(ctx)
    lead_id = c.crm.lead.add(sc.crud_fields(ctx)).result
    sc.check_added_id(lead_id)

    phones = sc.check_created(c.crm.lead.get(lead_id).result, ctx, lead_id)

    eq(c.crm.lead.update(lead_id, sc.crud_update_fields(ctx, phones)).result, True, "update result")
    sc.check_updated(c.crm.lead.get(lead_id).result, ctx, lead_id, phones)

    eq(c.crm.lead.delete(lead_id).result, True, "delete result")
    try:
        got = c.crm.lead.get(lead_id).result
    except BitrixAPIError as exc:
        eq(exc.status_code, 400, "HTTP status of get after delete")
        eq(exc.error, "", "error code of get after delete (legacy CRM errors have an empty code)")
        sc.check_not_found_text(exc.error_description)
    else:
        raise AssertionError(f"get after delete must raise, returned {got!r}")


@suite.case
def lead_filters(ctx):
    c = client(ctx)
    ids = {}
    for name, fields in sc.filter_seed(ctx):
        ids[name] = c.crm.lead.add(fields).result
        sc.check_added_id(ids[name])

    for label, flt, names in sc.filter_checks(ctx):
        response = c.crm.lead.list(filter=flt, select=["ID", "TITLE"]).response
        sc.check_filter_result(label, response.result, names, ids)
        eq(response.total, len(names), f"filter {label}: total")
        eq(response.next, None, f"filter {label}: no next on a single page")

    marker = {"SOURCE_DESCRIPTION": ctx.marker}
    records = c.crm.lead.list(filter=marker, select=sc.SELECT_FIELDS).result
    sc.check_select_result(records, ctx, ids)

    records = c.crm.lead.list(filter=marker, select=["ID"], order={"OPPORTUNITY": "DESC"}).result
    sc.check_order("OPPORTUNITY DESC", records, sc.ORDER_OPPORTUNITY_DESC, ids)
    records = c.crm.lead.list(filter=marker, select=["ID"], order={"ID": "DESC"}).result
    sc.check_order("ID DESC", records, "DCBA", ids)


@suite.case
def lead_filters_unicode(ctx):
    c = client(ctx)
    lead_id = c.crm.lead.add(sc.unicode_fields(ctx)).result
    sc.check_unicode_lead(c.crm.lead.get(lead_id).result, ctx, lead_id)
    for label, flt in sc.unicode_checks(ctx):
        sc.check_unicode_result(label, c.crm.lead.list(filter=flt, select=["ID"]).result, lead_id)


@suite.case
def lead_paging_250(ctx):
    c = client(ctx)
    adds = [c.crm.lead.add(sc.paging_fields(ctx, i)) for i in range(sc.PAGING_COUNT)]
    batch = c.call_batches(adds, halt=True).result  # the SDK splits into batches of 50
    check(not batch.result_error, f"result_error of the seeding batches: {batch.result_error!r}")
    created = list(batch.result.values()) if isinstance(batch.result, dict) else list(batch.result)
    eq(len(set(created)), sc.PAGING_COUNT, "seeded ids")

    flt = {"SOURCE_DESCRIPTION": ctx.marker}

    # Plain first page: total/next contract the helpers rely on.
    first = c.crm.lead.list(filter=flt, select=["ID"]).response
    eq(len(first.result), 50, "first page size")
    eq(first.total, sc.PAGING_COUNT, "first page total")
    eq(first.next, 50, "first page next")

    # Offsets: start=75 is rounded down to the page boundary; start=-1 skips counting.
    page = c.crm.lead.list(filter=flt, select=["ID"], start=75).response
    sc.check_page_75("list(start=75)", page.result, page.total, page.next, created)
    page = c.crm.lead.list(filter=flt, select=["ID"], start=-1).response
    sc.check_page_minus_one("list(start=-1)", page.result, page.total, page.next, created)

    # call_list: first page, then start=50,100,... through batches.
    listed = c.crm.lead.list(filter=flt, select=["ID", "TITLE"]).as_list().result
    sc.check_paged("as_list (call_list)", listed, created)

    # call_list_fast: ID-window pagination, >ID = $result[req_{i-1}][49][ID], start=-1.
    fast = list(c.crm.lead.list(filter=flt, select=["ID", "TITLE"]).as_list_fast().result)
    sc.check_paged("as_list_fast (call_list_fast)", fast, created)
    eq(ids_of(fast), sorted(created), "as_list_fast order (ID ASC)")

    fast_desc = list(c.crm.lead.list(filter=flt, select=["ID"]).as_list_fast(descending=True).result)
    sc.check_paged("as_list_fast(descending=True)", fast_desc, created)
    eq(ids_of(fast_desc), sorted(created, reverse=True), "as_list_fast descending order")


@suite.case
def batch_50_adds(ctx):
    c = client(ctx)
    requests = [c.crm.lead.add(sc.batch_add_fields(ctx, i)) for i in range(sc.BATCH_SIZE)]
    batch = c.call_batch(requests, halt=True).result
    eq(batch.result_error, [], "result_error (empty -> JSON [])")
    # A list of commands gets keys 0..49, so every map is a JSON list.
    check(isinstance(batch.result, list), f"result map must be a JSON list for keys 0..49, got {type(batch.result).__name__}")
    check(isinstance(batch.result_time, list) and len(batch.result_time) == sc.BATCH_SIZE,
          "result_time must have an entry per command")
    records = c.crm.lead.list(filter={"SOURCE_DESCRIPTION": ctx.marker}, select=["ID", "TITLE", "OPPORTUNITY", "PHONE"]).result
    sc.check_batch_adds(ctx, list(batch.result), records)


@suite.case
def batch_chained_refs(ctx):
    # The typed API (client.crm.lead.get) only takes integer ids, so a `$result[...]` id goes through the
    # token's batch caller, which takes (method, params) tuples.
    wh = token(ctx)
    methods = {key: (method, params) for key, method, params in sc.chained_commands(ctx)}
    body = wh.call_batch(methods=methods, halt=True, timeout=30)
    res = body["result"]
    for key in ("result", "result_error", "result_total", "result_next", "result_time"):
        check(key in res, f"batch result must contain {key}")
    check(isinstance(res["result_time"], dict) and set(res["result_time"]) == set(methods),
          f"result_time must have an entry per command: {res['result_time']!r}")
    sc.check_chained(ctx, res["result"], res["result_error"], res["result_total"])

    # Same chain through the typed client API, using references inside filter and fields.
    c = client(ctx)
    lead_id = res["result"]["add0"]
    typed = c.call_batch({
        "l0": c.crm.lead.list(filter={"ID": lead_id}, select=["ID", "TITLE"]),
        "u0": c.crm.lead.update(lead_id, {"COMMENTS": "via $result[l0][0][TITLE]"}),
        "l1": c.crm.lead.list(filter={"ID": "$result[l0][0][ID]"}, select=["ID", "COMMENTS"]),
    }, halt=True).result
    eq(typed.result_error, [], "typed chained batch: result_error")
    eq(typed.result["u0"], True, "typed chained batch: update")
    eq(typed.result["l1"], [{"ID": str(lead_id), "COMMENTS": f"via {ctx.marker} chained v2"}],
       "typed chained batch: l1 (filter ID=$result[l0][0][ID], COMMENTS interpolated)")


@suite.case
def event_received(ctx):
    events_cases.b24pysdk_event_received(ctx)


tracking_cases.register(suite, tracking_cases.B24pysdkAdapter)


if __name__ == "__main__":
    sys.exit(suite.main())
