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


# ================================================================ entity families


def raw(b, method, params=None):
    """A plain (non-batch) JSON call; returns the whole body."""
    return b.call(method, params or {}, raw=True)


def _entity_crud(ctx, entity):
    b = client(ctx)
    add, _e, upd, _x, select, _f = sc.entity_plan(ctx, entity)
    rec_id = b.call(f"crm.{entity}.add", {"fields": add})  # through a batch
    sc.check_added_id(rec_id)
    sc.check_entity_added(entity, raw(b, f"crm.{entity}.get", {"id": rec_id})["result"], ctx, rec_id)
    # get_by_ID: a batch keyed by the id.
    eq(b.get_by_ID(f"crm.{entity}.get", [rec_id]).get("ID"), str(rec_id), f"get_by_ID crm.{entity}.get")
    eq(b.call(f"crm.{entity}.update", {"id": rec_id, "fields": upd}), True, f"{entity}.update result")
    sc.check_entity_updated(entity, raw(b, f"crm.{entity}.get", {"id": rec_id})["result"], ctx, rec_id)
    records = b.get_all(f"crm.{entity}.list", {"filter": {"COMMENTS": ctx.marker}, "select": select})
    sc.check_entity_list(entity, records, ctx, rec_id)
    body = raw(b, f"crm.{entity}.list", {"filter": {"COMMENTS": ctx.marker}, "select": select})
    eq(body.get("total"), 1, f"{entity}.list total")
    sc.check_entity_fields(entity, raw(b, f"crm.{entity}.fields")["result"], ctx)
    eq(b.call(f"crm.{entity}.delete", {"id": rec_id}), True, f"{entity}.delete result")
    try:
        got = b.call(f"crm.{entity}.get", {"id": rec_id})
    except ErrorInServerResponseException as exc:
        errors = exc.args[0]
        check(isinstance(errors, dict) and len(errors) == 1, f"one per-command error expected, got {errors!r}")
        err = next(iter(errors.values()))
        eq(err.get("error"), "", "batch per-command error code")
        sc.check_not_found_text(err.get("error_description"))
    else:
        raise AssertionError(f"{entity}.get after delete must raise, returned {got!r}")


@suite.case
def deal_crud(ctx):
    _entity_crud(ctx, "deal")


@suite.case
def contact_crud(ctx):
    _entity_crud(ctx, "contact")


@suite.case
def company_crud(ctx):
    _entity_crud(ctx, "company")


@suite.case
def quote_crud(ctx):
    _entity_crud(ctx, "quote")


@suite.case
def contact_bindings(ctx):
    b = client(ctx)
    m = ctx.marker
    c1, c2 = b.call("crm.contact.add", [{"fields": {"NAME": "One", "COMMENTS": m}}, {"fields": {"NAME": "Two", "COMMENTS": m}}])
    deal = b.call("crm.deal.add", {"fields": {"TITLE": f"{m} bind", "COMMENTS": m}})
    lead = b.call("crm.lead.add", {"fields": {"TITLE": f"{m} bind", "SOURCE_DESCRIPTION": m}})
    company = b.call("crm.company.add", {"fields": {"TITLE": f"{m} bind", "COMMENTS": m}})

    fields = raw(b, "crm.deal.contact.fields")["result"]
    check("CONTACT_ID" in fields and "IS_PRIMARY" in fields, f"crm.deal.contact.fields: {sorted(fields)!r}")
    eq(b.call("crm.deal.contact.add", {"id": deal, "fields": {"CONTACT_ID": c1, "SORT": 20}}), True, "deal.contact.add c1")
    eq(b.call("crm.deal.contact.add", {"id": deal, "fields": {"CONTACT_ID": c2, "SORT": 10, "IS_PRIMARY": "Y"}}), True,
       "deal.contact.add c2")
    sc.check_binding_items("deal.contact.items.get", raw(b, "crm.deal.contact.items.get", {"id": deal})["result"],
                           [(c2, 10, "Y"), (c1, 20, "N")])
    eq(raw(b, "crm.deal.get", {"id": deal})["result"]["CONTACT_ID"], str(c2), "deal CONTACT_ID is the primary contact")
    eq(b.call("crm.deal.contact.delete", {"id": deal, "fields": {"CONTACT_ID": c2}}), True, "deal.contact.delete c2")
    sc.check_binding_items("deal after delete", raw(b, "crm.deal.contact.items.get", {"id": deal})["result"], [(c1, 20, "Y")])

    items = sc.binding_items([(c1, 10, "N"), (c2, 20, "Y")])
    eq(b.call("crm.lead.contact.items.set", {"id": lead, "items": items}), True, "lead.contact.items.set")
    sc.check_binding_items("lead.contact.items.get", raw(b, "crm.lead.contact.items.get", {"id": lead})["result"],
                           [(c1, 10, "N"), (c2, 20, "Y")])
    eq(raw(b, "crm.lead.get", {"id": lead})["result"]["CONTACT_ID"], str(c2), "lead CONTACT_ID")
    eq(b.call("crm.lead.contact.items.delete", {"id": lead}), True, "lead.contact.items.delete")
    eq(raw(b, "crm.lead.contact.items.get", {"id": lead})["result"], [], "lead bindings after items.delete")

    eq(b.call("crm.company.contact.add", {"id": company, "fields": {"CONTACT_ID": c1}}), True, "company.contact.add")
    sc.check_binding_items("contact.company.items.get (the other side)",
                           raw(b, "crm.contact.company.items.get", {"id": c1})["result"], [(company, 10, "Y")], key="COMPANY_ID")


@suite.case
def deal_productrows(ctx):
    b = client(ctx)
    deal = b.call("crm.deal.add", {"fields": {"TITLE": f"{ctx.marker} rows", "COMMENTS": ctx.marker, "OPPORTUNITY": 1}})
    # Through a batch: rows go through fast_bitrix24's own http_build_query encoding.
    eq(b.call("crm.deal.productrows.set", {"id": deal, "rows": sc.PRODUCT_ROWS}), True, "productrows.set")
    sc.check_product_rows(raw(b, "crm.deal.productrows.get", {"id": deal})["result"], deal)
    eq(raw(b, "crm.deal.get", {"id": deal})["result"]["OPPORTUNITY"], sc.PRODUCT_ROWS_OPPORTUNITY, "OPPORTUNITY recomputed")
    eq(raw(b, "crm.deal.productrows.set", {"id": deal, "rows": []})["result"], True, "productrows.set []")
    eq(raw(b, "crm.deal.productrows.get", {"id": deal})["result"], [], "rows after set []")
    eq(raw(b, "crm.deal.get", {"id": deal})["result"]["OPPORTUNITY"], sc.PRODUCT_ROWS_OPPORTUNITY, "OPPORTUNITY kept")


@suite.case
def deal_userfields(ctx):
    b = client(ctx)
    uf_ids = []
    try:
        for i, defn in enumerate(sc.uf_definitions(ctx)):
            uf_id = b.call("crm.deal.userfield.add", {"fields": defn})
            check(type(uf_id) is int and uf_id > 0, f"userfield.add id: {uf_id!r}")
            uf_ids.append(uf_id)
            sc.check_uf_definition(raw(b, "crm.deal.userfield.get", {"id": uf_id})["result"], ctx, i)
        listed = raw(b, "crm.deal.userfield.list", {"filter": {"XML_ID": f"{ctx.marker}-note"}})["result"]
        eq([int(d["ID"]) for d in listed], uf_ids[:1], "userfield.list by XML_ID")
        deals = sc.uf_deals(ctx)
        added = b.call("crm.deal.add", [{"fields": f} for f in deals.values()])
        ids = dict(zip(deals, added))
        got = b.get_by_ID("crm.deal.get", list(ids.values()))
        for name, deal_id in ids.items():
            sc.check_uf_deal(got[str(deal_id)], ctx, name)
        for label, flt, names in sc.uf_checks(ctx):
            records = b.get_all("crm.deal.list", {"filter": {"COMMENTS": ctx.marker, **flt}, "select": ["ID", "UF_*"]})
            sc.check_uf_list(label, records, names, ids)
    finally:
        for uf_id in uf_ids:
            raw(b, "crm.deal.userfield.delete", {"id": uf_id})


@suite.case
def lead_details_config(ctx):
    b = client(ctx)
    try:
        sc.check_default_layout(raw(b, "crm.lead.details.configuration.get", {"scope": "C"})["result"])
        eq(b.call("crm.lead.details.configuration.set", {"scope": "P", "data": sc.details_layout(ctx)}), True,
           "details.configuration.set (through a batch)")
        sc.check_details_layout(raw(b, "crm.lead.details.configuration.get")["result"], ctx)
    finally:
        raw(b, "crm.lead.details.configuration.reset", {"scope": "P"})
    sc.check_default_layout(raw(b, "crm.lead.details.configuration.get")["result"])


@suite.case
def item_crud(ctx):
    b = client(ctx)
    body = raw(b, "crm.item.add", {"entityTypeId": 2, "fields": sc.item_deal_fields(ctx)})
    item_id = body["result"]["item"]["id"]
    sc.check_item_deal(body["result"]["item"], ctx)
    sc.check_item_deal(raw(b, "crm.item.get", {"entityTypeId": 2, "id": item_id})["result"]["item"], ctx, item_id)
    sc.check_item_deal_legacy(raw(b, "crm.deal.get", {"id": item_id})["result"], ctx, item_id)
    body = raw(b, "crm.item.list", {"entityTypeId": 2, "filter": {"comments": ctx.marker}, "select": sc.ITEM_SELECT})
    sc.check_item_list(body["result"]["items"], ctx, item_id)
    eq(body.get("total"), 1, "crm.item.list total")
    # get_all unwraps {"items": [...]}.
    sc.check_item_list(b.get_all("crm.item.list", {"entityTypeId": 2, "filter": {"comments": ctx.marker},
                                                   "select": sc.ITEM_SELECT}), ctx, item_id)

    contact = raw(b, "crm.item.add", {"entityTypeId": 3, "fields": sc.item_contact_fields(ctx)})["result"]["item"]
    sc.check_item_contact(contact, ctx)
    # Through a batch: fast_bitrix24 unwraps the one-key {"item": ...}.
    got = b.call("crm.item.get", {"entityTypeId": 3, "id": contact["id"]})
    sc.check_item_contact(got.get("item", got), ctx, contact["id"])

    added = b.call("crm.item.add", [{"entityTypeId": 2, "fields": sc.item_page_fields(ctx, i)} for i in range(sc.ITEM_PAGE_COUNT)])
    created = [a.get("item", a)["id"] for a in added]
    eq(len(set(created)), sc.ITEM_PAGE_COUNT, "created item ids")
    listed = b.get_all("crm.item.list", {"entityTypeId": 2, "filter": {"comments": f"{ctx.marker} paging"}, "select": ["id", "title"]})
    sc.check_item_paged("get_all crm.item.list", listed, created)


@suite.case
def system_dictionaries(ctx):
    b = client(ctx)
    sc.check_source_list(b.get_all("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}}))
    fields = sc.status_fields(ctx)
    status_id = b.call("crm.status.add", {"fields": fields})
    check(type(status_id) is int and status_id > 0, f"crm.status.add id: {status_id!r}")
    flt = {"ENTITY_ID": "SOURCE", "STATUS_ID": fields["STATUS_ID"]}
    sc.check_added_status(raw(b, "crm.status.list", {"filter": flt})["result"], ctx, status_id)
    eq(b.call("crm.status.delete", {"id": status_id}), True, "crm.status.delete")
    eq(raw(b, "crm.status.list", {"filter": flt})["result"], [], "status list after delete")

    sc.check_currencies(b.get_all("crm.currency.list"))
    sc.check_ownertypes(raw(b, "crm.enum.ownertype")["result"])
    sc.check_user_current(raw(b, "user.current")["result"])
    sc.check_scope(raw(b, "scope")["result"])

    contact = b.call("crm.contact.add", {"fields": {"NAME": "Dup", "COMMENTS": ctx.marker,
                                                    "PHONE": [{"VALUE": ctx.phone(11), "VALUE_TYPE": "WORK"}]}})
    found = raw(b, "crm.duplicate.findbycomm", {"type": "PHONE", "values": [ctx.phone(11)], "entity_type": "CONTACT"})
    sc.check_duplicates(found["result"], contact)


tracking_cases.register(suite, tracking_cases.FastBitrix24Adapter)


if __name__ == "__main__":
    sys.exit(suite.main())
