"""Conformance cases driven by fast_bitrix24 (PyPI fast-bitrix24).

fast_bitrix24 wraps `call()` in batches (command keys `order0000000000`, ...) and `get_by_ID()` in batches keyed
by the ids; `call(..., raw=True)` is a single plain JSON POST; `get_all()` pages with `total` + `start`.
"""

import sys

import aiohttp
from fast_bitrix24 import Bitrix
from fast_bitrix24.server_response import ErrorInServerResponseException
from fast_bitrix24.utils import http_build_query  # the encoder the library uses for its own batch commands

import scenarios as sc
from harness import Suite, check, eq
import events_cases
import tracking_cases

suite = Suite("fast_bitrix24")


def client(ctx):
    return Bitrix(ctx.webhook, verbose=False)


def get_lead(b, lead_id):
    return b.call("crm.lead.get", {"ID": lead_id}, raw=True)["result"]


@suite.case
def lead_crud(ctx):
    b = client(ctx)
    lead_id = b.call("crm.lead.add", {"fields": sc.crud_fields(ctx)})
    sc.check_added_id(lead_id)

    phones = sc.check_created(get_lead(b, lead_id), ctx, lead_id)
    # get_by_ID: a batch whose command key is the id itself.
    by_id = b.get_by_ID("crm.lead.get", [lead_id])
    eq(by_id.get("ID"), str(lead_id), "get_by_ID with one id returns that lead")

    eq(b.call("crm.lead.update", {"ID": lead_id, "fields": sc.crud_update_fields(ctx, phones)}), True, "update result")
    sc.check_updated(get_lead(b, lead_id), ctx, lead_id, phones)

    eq(b.call("crm.lead.delete", {"ID": lead_id}), True, "delete result")

    # Through a batch: the per-command error lands in result_error.
    try:
        got = b.call("crm.lead.get", {"ID": lead_id})
    except ErrorInServerResponseException as exc:
        errors = exc.args[0]
        check(isinstance(errors, dict) and len(errors) == 1, f"one per-command error expected, got {errors!r}")
        err = next(iter(errors.values()))
        eq(err.get("error"), "", "batch per-command error code")
        sc.check_not_found_text(err.get("error_description"))
    else:
        raise AssertionError(f"get after delete (batch) must raise, returned {got!r}")

    # As a plain call: the HTTP status must be an error status (aiohttp raise_for_status).
    try:
        got = b.call("crm.lead.get", {"ID": lead_id}, raw=True)
    except aiohttp.ClientResponseError as exc:
        eq(exc.status, 400, "HTTP status of get after delete")
    else:
        raise AssertionError(f"get after delete (plain call) must raise, returned {got!r}")


@suite.case
def lead_filters(ctx):
    b = client(ctx)
    seed = sc.filter_seed(ctx)
    added = b.call("crm.lead.add", [{"fields": fields} for _name, fields in seed])
    eq(len(added), len(seed), "number of seeded leads")
    ids = {}
    for (name, _fields), lead_id in zip(seed, added):
        sc.check_added_id(lead_id)
        ids[name] = lead_id

    for label, flt, names in sc.filter_checks(ctx):
        records = b.get_all("crm.lead.list", {"filter": flt, "select": ["ID", "TITLE"]})
        sc.check_filter_result(label, records, names, ids)

    marker = {"SOURCE_DESCRIPTION": ctx.marker}
    sc.check_select_result(b.get_all("crm.lead.list", {"filter": marker, "select": sc.SELECT_FIELDS}), ctx, ids)

    # get_all refuses `order`; an ordered list is a plain call.
    records = b.call("crm.lead.list", {"filter": marker, "select": ["ID"], "order": {"OPPORTUNITY": "DESC"}}, raw=True)["result"]
    sc.check_order("OPPORTUNITY DESC", records, sc.ORDER_OPPORTUNITY_DESC, ids)
    records = b.call("crm.lead.list", {"filter": marker, "select": ["ID"], "order": {"ID": "DESC"}}, raw=True)["result"]
    sc.check_order("ID DESC", records, "DCBA", ids)

    # get_by_ID with several ids: batch keyed by the ids.
    leads = b.get_by_ID("crm.lead.get", list(ids.values()))
    eq(sorted(int(k) for k in leads), sorted(ids.values()), "get_by_ID keys")
    for name, lead_id in ids.items():
        eq(leads[str(lead_id)]["ID"], str(lead_id), f"get_by_ID[{lead_id}] ID")
        eq(leads[str(lead_id)]["STATUS_ID"], sc.FILTER_SEED[name][1], f"get_by_ID[{lead_id}] STATUS_ID")


@suite.case
def lead_filters_unicode(ctx):
    b = client(ctx)
    lead_id = b.call("crm.lead.add", {"fields": sc.unicode_fields(ctx)})
    sc.check_unicode_lead(get_lead(b, lead_id), ctx, lead_id)
    for label, flt in sc.unicode_checks(ctx):
        sc.check_unicode_result(label, b.get_all("crm.lead.list", {"filter": flt, "select": ["ID"]}), lead_id)


@suite.case
def lead_paging_250(ctx):
    b = client(ctx)
    created = b.call("crm.lead.add", [{"fields": sc.paging_fields(ctx, i)} for i in range(sc.PAGING_COUNT)])
    eq(len(set(created)), sc.PAGING_COUNT, "seeded ids")

    records = b.get_all("crm.lead.list", {"filter": {"SOURCE_DESCRIPTION": ctx.marker}, "select": ["ID", "TITLE"]})
    sc.check_paged("get_all", records, created)
    # get_all refuses `start`; offsets are checked with plain calls.
    flt = {"SOURCE_DESCRIPTION": ctx.marker}
    body = b.call("crm.lead.list", {"filter": flt, "select": ["ID"], "start": 75}, raw=True)
    sc.check_page_75("start=75", body["result"], body.get("total"), body.get("next"), created)
    body = b.call("crm.lead.list", {"filter": flt, "select": ["ID"], "start": -1}, raw=True)
    sc.check_page_minus_one("start=-1", body["result"], body.get("total"), body.get("next"), created)

    titles = {int(r["ID"]): r["TITLE"] for r in records}
    eq(sorted(titles.values()), [sc.paging_fields(ctx, i)["TITLE"] for i in range(sc.PAGING_COUNT)], "get_all titles")


@suite.case
def batch_50_adds(ctx):
    b = client(ctx)
    # batch_size is 50, so 50 items go out as exactly one batch.
    ids = list(b.call("crm.lead.add", [{"fields": sc.batch_add_fields(ctx, i)} for i in range(sc.BATCH_SIZE)]))
    records = b.get_all("crm.lead.list", {"filter": {"SOURCE_DESCRIPTION": ctx.marker},
                                          "select": ["ID", "TITLE", "OPPORTUNITY", "PHONE"]})
    sc.check_batch_adds(ctx, ids, records)


@suite.case
def batch_chained_refs(ctx):
    b = client(ctx)
    cmd = {key: f"{method}?{http_build_query(params)}" for key, method, params in sc.chained_commands(ctx)}
    result = b.call_batch({"halt": 1, "cmd": cmd})  # raises on any result_error
    sc.check_chained(ctx, result, {}, None)


@suite.case
def event_received(ctx):
    events_cases.fast_bitrix24_event_received(ctx)


tracking_cases.register(suite, tracking_cases.FastBitrix24Adapter)


if __name__ == "__main__":
    sys.exit(suite.main())
