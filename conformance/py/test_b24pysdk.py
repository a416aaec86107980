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


# ================================================================ entity families


def _entity_crud(ctx, entity):
    c = client(ctx)
    api = getattr(c.crm, entity)
    add, _e, upd, _x, select, _f = sc.entity_plan(ctx, entity)
    rec_id = api.add(add).result
    sc.check_added_id(rec_id)
    sc.check_entity_added(entity, api.get(rec_id).result, ctx, rec_id)
    eq(api.update(rec_id, upd).result, True, f"{entity}.update result")
    sc.check_entity_updated(entity, api.get(rec_id).result, ctx, rec_id)
    response = api.list(filter={"COMMENTS": ctx.marker}, select=select).response
    sc.check_entity_list(entity, response.result, ctx, rec_id)
    eq(response.total, 1, f"{entity}.list total")
    sc.check_entity_fields(entity, api.fields().result, ctx)
    eq(api.delete(rec_id).result, True, f"{entity}.delete result")
    try:
        got = api.get(rec_id).result
    except BitrixAPIError as exc:
        eq(exc.status_code, 400, f"HTTP status of {entity}.get after delete")
        sc.check_not_found_text(exc.error_description)
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
    c = client(ctx)
    m = ctx.marker
    c1 = c.crm.contact.add({"NAME": "One", "COMMENTS": m}).result
    c2 = c.crm.contact.add({"NAME": "Two", "COMMENTS": m}).result
    deal = c.crm.deal.add({"TITLE": f"{m} bind", "COMMENTS": m}).result
    lead = c.crm.lead.add({"TITLE": f"{m} bind", "SOURCE_DESCRIPTION": m}).result
    company = c.crm.company.add({"TITLE": f"{m} bind", "COMMENTS": m}).result

    fields = c.crm.deal.contact.fields().result
    check("CONTACT_ID" in fields and "IS_PRIMARY" in fields, f"crm.deal.contact.fields: {sorted(fields)!r}")
    eq(c.crm.deal.contact.add(deal, {"CONTACT_ID": c1, "SORT": 20}).result, True, "deal.contact.add c1")
    eq(c.crm.deal.contact.add(deal, {"CONTACT_ID": c2, "SORT": 10, "IS_PRIMARY": "Y"}).result, True, "deal.contact.add c2")
    sc.check_binding_items("deal.contact.items.get", c.crm.deal.contact.items.get(deal).result,
                           [(c2, 10, "Y"), (c1, 20, "N")])
    eq(c.crm.deal.get(deal).result["CONTACT_ID"], str(c2), "deal CONTACT_ID is the primary contact")
    eq(c.crm.deal.contact.delete(deal, {"CONTACT_ID": c2}).result, True, "deal.contact.delete c2")
    sc.check_binding_items("deal after delete", c.crm.deal.contact.items.get(deal).result, [(c1, 20, "Y")])
    eq(c.crm.deal.get(deal).result["CONTACT_ID"], str(c1), "deal CONTACT_ID after the primary was removed")

    items = sc.binding_items([(c1, 10, "N"), (c2, 20, "Y")])
    eq(c.crm.lead.contact.items.set(lead, items).result, True, "lead.contact.items.set")
    sc.check_binding_items("lead.contact.items.get", c.crm.lead.contact.items.get(lead).result,
                           [(c1, 10, "N"), (c2, 20, "Y")])
    eq(c.crm.lead.get(lead).result["CONTACT_ID"], str(c2), "lead CONTACT_ID")
    eq(c.crm.lead.contact.items.delete(lead).result, True, "lead.contact.items.delete")
    eq(c.crm.lead.contact.items.get(lead).result, [], "lead bindings after items.delete")

    eq(c.crm.company.contact.add(company, {"CONTACT_ID": c1}).result, True, "company.contact.add")
    sc.check_binding_items("contact.company.items.get (the other side)", c.crm.contact.company.items.get(c1).result,
                           [(company, 10, "Y")], key="COMPANY_ID")
    eq(c.crm.contact.get(c1).result["COMPANY_ID"], str(company), "contact COMPANY_ID")


@suite.case
def deal_productrows(ctx):
    c = client(ctx)
    deal = c.crm.deal.add({"TITLE": f"{ctx.marker} rows", "COMMENTS": ctx.marker, "OPPORTUNITY": 1}).result
    eq(c.crm.deal.productrows.set(deal, sc.PRODUCT_ROWS).result, True, "productrows.set")
    sc.check_product_rows(c.crm.deal.productrows.get(deal).result, deal)
    eq(c.crm.deal.get(deal).result["OPPORTUNITY"], sc.PRODUCT_ROWS_OPPORTUNITY, "OPPORTUNITY recomputed from the rows")
    eq(c.crm.deal.productrows.set(deal, []).result, True, "productrows.set []")
    eq(c.crm.deal.productrows.get(deal).result, [], "rows after set []")
    eq(c.crm.deal.get(deal).result["OPPORTUNITY"], sc.PRODUCT_ROWS_OPPORTUNITY, "OPPORTUNITY kept with no rows")


@suite.case
def deal_userfields(ctx):
    c = client(ctx)
    uf_ids = []
    try:
        for i, defn in enumerate(sc.uf_definitions(ctx)):
            uf_id = c.crm.deal.userfield.add(defn).result
            check(type(uf_id) is int and uf_id > 0, f"userfield.add id: {uf_id!r}")
            uf_ids.append(uf_id)
            sc.check_uf_definition(c.crm.deal.userfield.get(uf_id).result, ctx, i)
        listed = c.crm.deal.userfield.list(filter={"XML_ID": f"{ctx.marker}-note"}).result
        eq([int(d["ID"]) for d in listed], uf_ids[:1], "userfield.list by XML_ID")
        ids = {name: c.crm.deal.add(fields).result for name, fields in sc.uf_deals(ctx).items()}
        for name, deal_id in ids.items():
            sc.check_uf_deal(c.crm.deal.get(deal_id).result, ctx, name)
        for label, flt, names in sc.uf_checks(ctx):
            records = c.crm.deal.list(filter={"COMMENTS": ctx.marker, **flt}, select=["ID", "UF_*"]).result
            sc.check_uf_list(label, records, names, ids)
        records = c.crm.deal.list(filter={"COMMENTS": ctx.marker}, select=["ID", "UF_*"], order={"ID": "ASC"}).result
        for rec, name in zip(records, "AB"):
            sc.check_uf_deal({**rec, "DATE_CREATE": "2000-01-01T00:00:00+00:00", "DATE_MODIFY": "2000-01-01T00:00:00+00:00"}, ctx, name)
    finally:
        for uf_id in uf_ids:
            eq(c.crm.deal.userfield.delete(uf_id).result, True, "userfield.delete")


@suite.case
def lead_details_config(ctx):
    c = client(ctx)
    conf = c.crm.lead.details.configuration
    try:
        sc.check_default_layout(conf.get(scope="C").result)
        eq(conf.set(sc.details_layout(ctx), scope="P").result, True, "details.configuration.set")
        sc.check_details_layout(conf.get().result, ctx)
        sc.check_details_layout(conf.get(scope="P", user_id=1).result, ctx)
    finally:
        eq(conf.reset(scope="P").result, True, "details.configuration.reset")
    sc.check_default_layout(conf.get().result)


@suite.case
def item_crud(ctx):
    c = client(ctx)
    item = c.crm.item.add(2, sc.item_deal_fields(ctx)).result
    check(isinstance(item, dict) and "item" in item, f"crm.item.add answers {{item: ...}}, got {item!r}")
    item_id = item["item"]["id"]
    sc.check_item_deal(item["item"], ctx)
    sc.check_item_deal(c.crm.item.get(2, item_id).result["item"], ctx, item_id)
    sc.check_item_deal_legacy(c.crm.deal.get(item_id).result, ctx, item_id)
    response = c.crm.item.list(2, filter={"comments": ctx.marker}, select=sc.ITEM_SELECT).response
    check(isinstance(response.result, dict) and "items" in response.result, f"crm.item.list answers {{items: [...]}}: {response.result!r}")
    sc.check_item_list(response.result["items"], ctx, item_id)
    eq(response.total, 1, "crm.item.list total")

    contact = c.crm.item.add(3, sc.item_contact_fields(ctx)).result["item"]
    sc.check_item_contact(contact, ctx)
    sc.check_item_contact(c.crm.item.get(3, contact["id"]).result["item"], ctx, contact["id"])

    # 60 deals through one batch of item adds, read back through the SDK's list helpers.
    adds = [c.crm.item.add(2, sc.item_page_fields(ctx, i)) for i in range(sc.ITEM_PAGE_COUNT)]
    batch = c.call_batches(adds, halt=True).result
    values = list(batch.result.values()) if isinstance(batch.result, dict) else list(batch.result)
    created = [v["item"]["id"] for v in values]
    eq(len(set(created)), sc.ITEM_PAGE_COUNT, "created item ids")
    flt = {"comments": f"{ctx.marker} paging"}
    listed = c.crm.item.list(2, filter=flt, select=["id", "title"]).as_list().result
    sc.check_item_paged("crm.item.list as_list", list(listed), created)
    fast = list(c.crm.item.list(2, filter=flt, select=["id", "title"]).as_list_fast().result)
    sc.check_item_paged("crm.item.list as_list_fast", fast, created)
    eq([i["id"] for i in fast], sorted(created), "as_list_fast order")


@suite.case
def system_dictionaries(ctx):
    c = client(ctx)
    sc.check_source_list(c.crm.status.list(filter={"ENTITY_ID": "SOURCE"}).result)
    fields = sc.status_fields(ctx)
    status_id = c.crm.status.add(fields).result
    check(type(status_id) is int and status_id > 0, f"crm.status.add id: {status_id!r}")
    flt = {"ENTITY_ID": "SOURCE", "STATUS_ID": fields["STATUS_ID"]}
    sc.check_added_status(c.crm.status.list(filter=flt).result, ctx, status_id)
    eq(c.crm.status.delete(status_id).result, True, "crm.status.delete")
    eq(list(c.crm.status.list(filter=flt).result), [], "status list after delete")

    sc.check_currencies(c.crm.currency.list().result)
    sc.check_ownertypes(c.crm.enum.ownertype().result)
    sc.check_user_current(c.user.current().result)
    sc.check_scope(token(ctx).call_method("scope")["result"])

    contact = c.crm.contact.add({"NAME": "Dup", "COMMENTS": ctx.marker,
                                 "PHONE": [{"VALUE": ctx.phone(11), "VALUE_TYPE": "WORK"}]}).result
    sc.check_duplicates(c.crm.duplicate.findbycomm("PHONE", [ctx.phone(11)], entity_type="CONTACT").result, contact)


tracking_cases.register(suite, tracking_cases.B24pysdkAdapter)


if __name__ == "__main__":
    sys.exit(suite.main())
