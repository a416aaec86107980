"""Data and expectations shared by the Python clients (the JS client mirrors them).

Clients only differ in *how* they send requests; what is sent and what must come
back is defined here once.
"""

from harness import check, check_legacy_lead, check_multifield, eq, ids_of

# ---------------------------------------------------------------- lead_crud


def crud_fields(ctx):
    return {
        "TITLE": f"{ctx.marker} crud",
        "NAME": "Ivan",
        "SOURCE_DESCRIPTION": ctx.marker,
        "PHONE": [
            {"VALUE": ctx.phone(1), "VALUE_TYPE": "WORK"},
            {"VALUE": ctx.phone(2), "VALUE_TYPE": "MOBILE"},
        ],
        "EMAIL": [{"VALUE": f"{ctx.marker}@example.com", "VALUE_TYPE": "WORK"}],
        "UTM_SOURCE": "google",
        "UTM_MEDIUM": "cpc",
        "UTM_CAMPAIGN": f"camp-{ctx.marker}",
    }


def check_added_id(lead_id):
    check(type(lead_id) is int and lead_id > 0, f"add must return a positive JSON integer, got {lead_id!r}")


def check_created(lead, ctx, lead_id):
    check_legacy_lead(lead)
    eq(lead["ID"], str(lead_id), "ID")
    eq(lead["TITLE"], f"{ctx.marker} crud", "TITLE")
    eq(lead["NAME"], "Ivan", "NAME")
    eq(lead["SOURCE_DESCRIPTION"], ctx.marker, "SOURCE_DESCRIPTION")
    eq(lead["UTM_SOURCE"], "google", "UTM_SOURCE")
    eq(lead["UTM_MEDIUM"], "cpc", "UTM_MEDIUM")
    eq(lead["UTM_CAMPAIGN"], f"camp-{ctx.marker}", "UTM_CAMPAIGN")
    eq(lead["HAS_PHONE"], "Y", "HAS_PHONE")
    eq(lead["HAS_EMAIL"], "Y", "HAS_EMAIL")
    eq(lead["STATUS_ID"], "NEW", "STATUS_ID default")
    eq(lead["STATUS_SEMANTIC_ID"], "P", "STATUS_SEMANTIC_ID")
    eq(lead["OPPORTUNITY"], "0.00", "OPPORTUNITY default")
    eq(lead["OPENED"], "Y", "OPENED default")
    eq(lead["ASSIGNED_BY_ID"], "1", "ASSIGNED_BY_ID (webhook user)")
    eq(lead["CREATED_BY_ID"], "1", "CREATED_BY_ID (webhook user)")
    for absent in ("WEB", "IM", "LINK"):
        check(absent not in lead, f"{absent} must be omitted when the lead has no such values")
    phones = check_multifield(lead, "PHONE", [("WORK", ctx.phone(1)), ("MOBILE", ctx.phone(2))])
    check_multifield(lead, "EMAIL", [("WORK", f"{ctx.marker}@example.com")])
    return phones


def crud_update_fields(ctx, phones):
    work, mobile = phones
    return {
        "TITLE": f"{ctx.marker} crud updated",
        "PHONE": [
            {"ID": int(work["ID"]), "VALUE": ctx.phone(3), "VALUE_TYPE": "WORK"},
            {"ID": int(mobile["ID"]), "DELETE": "Y"},
        ],
    }


def check_updated(lead, ctx, lead_id, phones):
    check_legacy_lead(lead)
    eq(lead["ID"], str(lead_id), "ID")
    eq(lead["TITLE"], f"{ctx.marker} crud updated", "TITLE after update")
    eq(lead["NAME"], "Ivan", "NAME kept by update")
    eq(lead["UTM_CAMPAIGN"], f"camp-{ctx.marker}", "UTM_CAMPAIGN kept by update")
    eq(lead["HAS_PHONE"], "Y", "HAS_PHONE after update")
    items = check_multifield(lead, "PHONE", [("WORK", ctx.phone(3))])
    eq(items[0]["ID"], phones[0]["ID"], "changed phone keeps its ID")
    # Update is a merge: EMAIL was not mentioned and must be kept.
    check_multifield(lead, "EMAIL", [("WORK", f"{ctx.marker}@example.com")])


def check_not_found_text(description):
    eq(description, "Not found", "error_description for a deleted lead")


# ---------------------------------------------------------------- lead_filters

FILTER_SEED = {
    # name: (title suffix, STATUS_ID, OPPORTUNITY, phones)
    "A": ("alpha apple", "NEW", 100, [1]),
    "B": ("beta banana", "IN_PROCESS", 250.5, [2, 3]),
    "C": ("gamma apple pie", "PROCESSED", 1000, []),
    "D": ("delta", "JUNK", None, []),
}


def filter_seed(ctx):
    """Returns [(name, fields)] in creation order."""
    out = []
    for name, (suffix, status, opp, phones) in FILTER_SEED.items():
        fields = {"TITLE": f"{ctx.marker} {suffix}", "STATUS_ID": status, "SOURCE_DESCRIPTION": ctx.marker}
        if opp is not None:
            fields["OPPORTUNITY"] = opp
        if phones:
            fields["PHONE"] = [{"VALUE": ctx.phone(n), "VALUE_TYPE": "WORK"} for n in phones]
        out.append((name, fields))
    return out


def filter_checks(ctx):
    """(label, filter, expected names). Every filter is AND-ed with the case marker."""
    m = {"SOURCE_DESCRIPTION": ctx.marker}
    return [
        ("marker only", {**m}, "ABCD"),
        ("=STATUS_ID", {**m, "=STATUS_ID": "IN_PROCESS"}, "B"),
        ("plain STATUS_ID", {**m, "STATUS_ID": "PROCESSED"}, "C"),
        ("!STATUS_ID", {**m, "!STATUS_ID": "NEW"}, "BCD"),
        (">OPPORTUNITY and <=OPPORTUNITY", {**m, ">OPPORTUNITY": 100, "<=OPPORTUNITY": 1000}, "BC"),
        (">=OPPORTUNITY", {**m, ">=OPPORTUNITY": 250.5}, "BC"),
        ("<OPPORTUNITY", {**m, "<OPPORTUNITY": 100}, "D"),
        ("%TITLE", {**m, "%TITLE": "apple"}, "AC"),
        ("%TITLE case-insensitive", {**m, "%TITLE": "APPLE"}, "AC"),
        ("@STATUS_ID", {**m, "@STATUS_ID": ["NEW", "JUNK"]}, "AD"),
        ("!@STATUS_ID", {**m, "!@STATUS_ID": ["NEW", "JUNK"]}, "BC"),
        (">DATE_CREATE", {**m, ">DATE_CREATE": "2000-01-01T00:00:00+00:00"}, "ABCD"),
        ("PHONE", {**m, "PHONE": ctx.phone(3)}, "B"),
        ("PHONE with % wildcard", {**m, "PHONE": ctx.phone(1)[:-3] + "%"}, "AB"),
    ]


def check_filter_result(label, records, expected_names, ids_by_name):
    got = ids_of(records)
    want = [ids_by_name[n] for n in expected_names]
    eq(sorted(got), sorted(want), f"filter {label}: ids (names {expected_names})")
    eq(got, sorted(got), f"filter {label}: default order is ID ASC")


SELECT_FIELDS = ["TITLE", "OPPORTUNITY", "PHONE"]


def check_select_result(records, ctx, ids_by_name):
    """select TITLE, OPPORTUNITY, PHONE over all four seeded leads."""
    eq(sorted(ids_of(records)), sorted(ids_by_name.values()), "select: ids")
    by_id = {int(r["ID"]): r for r in records}
    for name, (suffix, _status, opp, phones) in FILTER_SEED.items():
        rec = by_id[ids_by_name[name]]
        keys = {"ID", "TITLE", "OPPORTUNITY"} | ({"PHONE"} if phones else set())
        eq(set(rec), keys, f"select: keys of lead {name} (ID added because PHONE is selected; no PHONE key when empty)")
        eq(rec["TITLE"], f"{ctx.marker} {suffix}", f"select: TITLE of {name}")
        eq(rec["OPPORTUNITY"], f"{(opp or 0):.2f}", f"select: OPPORTUNITY of {name} (string, 2 decimals)")
        if phones:
            check_multifield(rec, "PHONE", [("WORK", ctx.phone(n)) for n in phones])


# order: OPPORTUNITY DESC -> C (1000), B (250.5), A (100), D (0)
ORDER_OPPORTUNITY_DESC = "CBAD"


def check_order(label, records, names, ids_by_name):
    eq(ids_of(records), [ids_by_name[n] for n in names], f"order {label}")


# ---------------------------------------------------------------- lead_filters_unicode
# open-questions.md C5 / lists.md §2.3: string `=` and LIKE are case-insensitive, like the Unicode ci collation
# Bitrix24 runs on — for Cyrillic too (Bitrix24's largest user base writes Cyrillic names).


def unicode_fields(ctx):
    return {"TITLE": f"{ctx.marker} Иванов Пётр", "NAME": "Ёлка", "SOURCE_DESCRIPTION": ctx.marker}


def unicode_checks(ctx):
    """(label, filter); each must find exactly the seeded lead."""
    m = {"SOURCE_DESCRIPTION": ctx.marker}
    return [
        ("%TITLE same case", {**m, "%TITLE": "Иванов"}),
        ("%TITLE lower case", {**m, "%TITLE": "иванов"}),
        ("%TITLE upper case", {**m, "%TITLE": "ИВАНОВ ПЁТР"}),
        ("=TITLE other case", {**m, "=TITLE": f"{ctx.marker} иванов пётр"}),
        ("NAME other case", {**m, "NAME": "ёлка"}),
    ]


def check_unicode_lead(lead, ctx, lead_id):
    eq(lead["TITLE"], f"{ctx.marker} Иванов Пётр", "TITLE round-trips unchanged")
    eq(lead["NAME"], "Ёлка", "NAME round-trips unchanged")


def check_unicode_result(label, records, lead_id):
    eq(ids_of(records), [lead_id], f"filter {label}")


# ---------------------------------------------------------------- lead_paging_250

PAGING_COUNT = 250


def paging_fields(ctx, i):
    return {"TITLE": f"{ctx.marker} page {i:03d}", "SOURCE_DESCRIPTION": ctx.marker}


def check_page_75(label, records, total, nxt, created_ids):
    """lists.md §1: start=75 is rounded down to the page boundary: records 50..99, next 100."""
    eq(ids_of(records), sorted(created_ids)[50:100], f"{label}: start=75 returns records 50-99 (ID ASC)")
    eq(total, PAGING_COUNT, f"{label}: total")
    eq(nxt, 100, f"{label}: next")


def check_page_minus_one(label, records, total, nxt, created_ids):
    """lists.md §1 decision (c): start=-1 returns the first 50, total 0, no next."""
    eq(ids_of(records), sorted(created_ids)[:50], f"{label}: start=-1 returns the first 50 records")
    eq(total, 0, f"{label}: total with start=-1")
    eq(nxt, None, f"{label}: next with start=-1")


def check_paged(label, records, created_ids):
    got = ids_of(records)
    eq(len(got), len(created_ids), f"{label}: number of records")
    eq(len(set(got)), len(got), f"{label}: no duplicates")
    eq(set(got), set(created_ids), f"{label}: exactly the created ids")


# ---------------------------------------------------------------- batch_50_adds

BATCH_SIZE = 50


def batch_add_fields(ctx, i):
    # Characters that need encoding inside batch command query strings: space, '&', '+', '/', '=', '#', non-ASCII.
    return {
        "TITLE": f"{ctx.marker} #{i:02d} A&B + C/D = Лид",
        "SOURCE_DESCRIPTION": ctx.marker,
        "OPPORTUNITY": i,
        "PHONE": [{"VALUE": ctx.phone(i), "VALUE_TYPE": "MOBILE"}],
    }


def check_batch_adds(ctx, ids, records):
    """ids: the 50 command results in command order; records: crm.lead.list by marker."""
    eq(len(ids), BATCH_SIZE, "batch: number of add results")
    for lead_id in ids:
        check_added_id(lead_id)
    eq(len(set(ids)), BATCH_SIZE, "batch: distinct ids")
    eq(ids, sorted(ids), "batch: commands run sequentially (ids ascending in command order)")
    eq(sorted(ids_of(records)), sorted(ids), "batch: leads exist")
    by_id = {int(r["ID"]): r for r in records}
    for i, lead_id in enumerate(ids):
        rec = by_id[lead_id]
        want = batch_add_fields(ctx, i)
        eq(rec["TITLE"], want["TITLE"], f"batch: TITLE of command {i}")
        eq(rec["OPPORTUNITY"], f"{i:.2f}", f"batch: OPPORTUNITY of command {i}")
        check_multifield(rec, "PHONE", [("MOBILE", ctx.phone(i))])


# ---------------------------------------------------------------- batch_chained_refs


def chained_commands(ctx):
    """Ordered (key, method, params) of a batch whose later commands use earlier results."""
    m = ctx.marker
    return [
        ("add0", "crm.lead.add", {"fields": {"TITLE": f"{m} chained", "SOURCE_DESCRIPTION": m, "OPPORTUNITY": 42}}),
        ("get0", "crm.lead.get", {"id": "$result[add0]"}),
        ("list0", "crm.lead.list", {"filter": {"SOURCE_DESCRIPTION": m}, "select": ["ID", "TITLE"], "order": {"ID": "ASC"}}),
        ("get1", "crm.lead.get", {"id": "$result[list0][0][ID]"}),
        ("list1", "crm.lead.list", {"filter": {"ID": "$result[list0][0][ID]"}, "select": ["ID", "OPPORTUNITY"]}),
        ("upd0", "crm.lead.update", {"id": "$result[add0]", "fields": {"TITLE": "$result[get0][TITLE] v2"}}),
        ("get2", "crm.lead.get", {"id": "$result[add0]"}),
    ]


def check_chained(ctx, result, errors, totals):
    """result/errors/totals: dicts keyed by command key (already normalised by the client)."""
    eq(dict(errors or {}), {}, "chained batch: result_error")
    lead_id = result.get("add0")
    check_added_id(lead_id)
    eq(result["get0"]["ID"], str(lead_id), "get0 (id=$result[add0]): ID")
    eq(result["get0"]["TITLE"], f"{ctx.marker} chained", "get0: TITLE")
    eq(result["list0"], [{"ID": str(lead_id), "TITLE": f"{ctx.marker} chained"}], "list0")
    eq(result["get1"]["ID"], str(lead_id), "get1 (id=$result[list0][0][ID]): ID")
    eq(result["list1"], [{"ID": str(lead_id), "OPPORTUNITY": "42.00"}], "list1 (filter ID=$result[list0][0][ID])")
    eq(result["upd0"], True, "upd0 (update id=$result[add0])")
    eq(result["get2"]["TITLE"], f"{ctx.marker} chained v2", "get2: TITLE interpolated from $result[get0][TITLE]")
    if totals is not None:
        eq(totals.get("list0"), 1, "result_total[list0]")
        eq(totals.get("list1"), 1, "result_total[list1]")
