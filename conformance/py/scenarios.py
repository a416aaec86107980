"""Data and expectations shared by the Python clients (the JS client mirrors them).

Clients only differ in *how* they send requests; what is sent and what must come
back is defined here once.
"""

from harness import ISO_DT, check, check_legacy_lead, check_multifield, eq, ids_of

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


# ================================================================ entity families (deals, contacts, companies,
# quotes, bindings, product rows, user fields, card layouts, crm.item, system methods). Records are isolated by
# the case marker in COMMENTS (a field every one of the four types has).

def check_legacy_record(rec, what):
    """Legacy output: every scalar a string or null, ID a digit string, dates ISO with offset."""
    check(isinstance(rec, dict), f"{what} must be an object, got {rec!r}")
    for key, value in rec.items():
        if key in ("PHONE", "EMAIL", "WEB", "IM", "LINK"):
            check(isinstance(value, list) and value, f"{what}.{key} present but not a non-empty list: {value!r}")
            continue
        check(value is None or isinstance(value, str), f"{what}.{key} must be a string or null, got {value!r}")
    check(isinstance(rec.get("ID"), str) and rec["ID"].isdigit(), f"{what}.ID must be a digit string: {rec.get('ID')!r}")
    for key in ("DATE_CREATE", "DATE_MODIFY"):
        check(ISO_DT.match(rec.get(key) or ""), f"{what}.{key} must be ISO-8601 with offset: {rec.get(key)!r}")


def expect_fields(rec, expected, what):
    for key, value in expected.items():
        eq(rec.get(key, "<absent>"), value, f"{what}.{key}")


# entity -> (add fields, expected after add, update fields, expected after update, list select,
#            crm.*.fields checks {FIELD: (type, extra keys)})
def entity_plan(ctx, entity):
    m = ctx.marker
    if entity == "deal":
        return (
            {"TITLE": f"{m} deal", "OPPORTUNITY": 1234.5, "CURRENCY_ID": "EUR", "COMMENTS": m, "PROBABILITY": 30},
            {"TITLE": f"{m} deal", "OPPORTUNITY": "1234.50", "CURRENCY_ID": "EUR", "COMMENTS": m, "PROBABILITY": "30",
             "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P", "TYPE_ID": "SALE", "CATEGORY_ID": "0", "CLOSED": "N",
             "IS_NEW": "Y", "OPENED": "Y", "ASSIGNED_BY_ID": "1", "CREATED_BY_ID": "1", "IS_MANUAL_OPPORTUNITY": "N"},
            {"TITLE": f"{m} deal won", "STAGE_ID": "WON"},
            {"TITLE": f"{m} deal won", "STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y", "IS_NEW": "N",
             "OPPORTUNITY": "1234.50", "CURRENCY_ID": "EUR"},
            ["ID", "TITLE", "OPPORTUNITY", "STAGE_ID", "CLOSED"],
            {"TITLE": ("string", {}), "STAGE_ID": ("crm_status", {"statusType": "DEAL_STAGE"}),
             "OPPORTUNITY": ("double", {}), "CURRENCY_ID": ("crm_currency", {})},
        )
    if entity == "contact":
        return (
            {"NAME": "Anna", "LAST_NAME": f"{m} Lee", "COMMENTS": m,
             "PHONE": [{"VALUE": ctx.phone(7), "VALUE_TYPE": "MOBILE"}],
             "EMAIL": [{"VALUE": f"{m}@example.org", "VALUE_TYPE": "HOME"}]},
            {"NAME": "Anna", "LAST_NAME": f"{m} Lee", "COMMENTS": m, "HAS_PHONE": "Y", "HAS_EMAIL": "Y",
             "EXPORT": "Y", "OPENED": "Y", "COMPANY_ID": None, "BIRTHDATE": "", "ASSIGNED_BY_ID": "1"},
            {"LAST_NAME": f"{m} Smith", "POST": "Engineer"},
            {"NAME": "Anna", "LAST_NAME": f"{m} Smith", "POST": "Engineer", "HAS_PHONE": "Y"},
            ["ID", "NAME", "LAST_NAME", "POST"],
            {"NAME": ("string", {}), "PHONE": ("crm_multifield", {}), "COMPANY_ID": ("crm_company", {})},
        )
    if entity == "company":
        return (
            {"TITLE": f"{m} company", "REVENUE": 1000.5, "EMPLOYEES": "EMPLOYEES_2", "COMMENTS": m,
             "PHONE": [{"VALUE": ctx.phone(8), "VALUE_TYPE": "WORK"}]},
            {"TITLE": f"{m} company", "REVENUE": "1000.50", "EMPLOYEES": "EMPLOYEES_2", "COMMENTS": m,
             "IS_MY_COMPANY": "N", "OPENED": "Y", "HAS_PHONE": "Y", "HAS_EMAIL": "N", "CURRENCY_ID": "USD"},
            {"TITLE": f"{m} company renamed", "INDUSTRY": "IT"},
            {"TITLE": f"{m} company renamed", "INDUSTRY": "IT", "REVENUE": "1000.50", "HAS_PHONE": "Y"},
            ["ID", "TITLE", "REVENUE", "INDUSTRY"],
            {"TITLE": ("string", {}), "INDUSTRY": ("crm_status", {"statusType": "INDUSTRY"})},
        )
    if entity == "quote":
        return (
            {"TITLE": f"{m} quote", "OPPORTUNITY": 99, "COMMENTS": m},
            {"TITLE": f"{m} quote", "OPPORTUNITY": "99.00", "COMMENTS": m, "STATUS_ID": "DRAFT", "CLOSED": "N",
             "OPENED": "Y", "CURRENCY_ID": "USD"},
            {"STATUS_ID": "APPROVED"},
            {"TITLE": f"{m} quote", "STATUS_ID": "APPROVED", "CLOSED": "Y", "OPPORTUNITY": "99.00"},
            ["ID", "TITLE", "STATUS_ID", "OPPORTUNITY", "QUOTE_NUMBER"],
            {"TITLE": ("string", {}), "STATUS_ID": ("crm_status", {"statusType": "QUOTE_STATUS"})},
        )
    raise ValueError(entity)


def check_entity_added(entity, rec, ctx, rec_id):
    _add, expected, _u, _e, _s, _f = entity_plan(ctx, entity)
    check_legacy_record(rec, entity)
    eq(rec["ID"], str(rec_id), f"{entity}.ID")
    expect_fields(rec, expected, entity)
    if entity == "contact":
        check_multifield(rec, "PHONE", [("MOBILE", ctx.phone(7))])
        check_multifield(rec, "EMAIL", [("HOME", f"{ctx.marker}@example.org")])
    if entity == "company":
        check_multifield(rec, "PHONE", [("WORK", ctx.phone(8))])
    if entity == "quote":
        eq(rec["QUOTE_NUMBER"], str(rec_id), "quote.QUOTE_NUMBER (the id)")


def check_entity_updated(entity, rec, ctx, rec_id):
    _a, _e, _u, expected, _s, _f = entity_plan(ctx, entity)
    check_legacy_record(rec, entity)
    eq(rec["ID"], str(rec_id), f"{entity}.ID")
    expect_fields(rec, expected, f"{entity} after update")
    eq(rec["COMMENTS"], ctx.marker, f"{entity}.COMMENTS kept by update")


def check_entity_list(entity, records, ctx, rec_id):
    _a, _e, _u, expected, select, _f = entity_plan(ctx, entity)
    eq(len(records), 1, f"{entity}.list by marker: number of records ({records!r})")
    rec = records[0]
    eq(sorted(rec), sorted(select), f"{entity}.list keys (exactly the select)")
    eq(rec["ID"], str(rec_id), f"{entity}.list ID")
    for key in select:
        if key in expected:
            eq(rec[key], expected[key], f"{entity}.list {key}")
    for key, value in rec.items():
        check(value is None or isinstance(value, str), f"{entity}.list {key} must be a string or null: {value!r}")


def check_entity_fields(entity, fields, ctx):
    _a, _e, _u, _x, _s, checks = entity_plan(ctx, entity)
    check(isinstance(fields, dict) and "ID" in fields, f"{entity}.fields must describe ID")
    eq(fields["ID"]["type"], "integer", f"{entity}.fields ID type")
    eq(fields["ID"]["isReadOnly"], True, f"{entity}.fields ID isReadOnly")
    for name, (ftype, extra) in checks.items():
        check(name in fields, f"{entity}.fields must describe {name}")
        eq(fields[name]["type"], ftype, f"{entity}.fields {name} type")
        for k, v in extra.items():
            eq(fields[name].get(k), v, f"{entity}.fields {name}.{k}")
        for k in ("isRequired", "isReadOnly", "isImmutable", "isMultiple", "isDynamic", "title"):
            check(k in fields[name], f"{entity}.fields {name} lacks {k}")


# ---------------------------------------------------------------- contact_bindings


def binding_items(contact_ids_sorts_primary):
    return [{"CONTACT_ID": cid, "SORT": sort, "IS_PRIMARY": prim} for cid, sort, prim in contact_ids_sorts_primary]


def check_binding_items(label, items, expected, key="CONTACT_ID"):
    """expected: [(id, sort, primary)] in the expected order; ids/SORT/ROLE_ID are JSON integers."""
    got = [(i.get(key), i.get("SORT"), i.get("IS_PRIMARY")) for i in items]
    eq(got, list(expected), f"{label}: ({key}, SORT, IS_PRIMARY) in order")
    for i in items:
        eq(sorted(i), sorted([key, "SORT", "ROLE_ID", "IS_PRIMARY"]), f"{label}: item keys")
        eq(i["ROLE_ID"], 0, f"{label}: ROLE_ID")
        check(type(i[key]) is int and type(i["SORT"]) is int, f"{label}: {key} and SORT must be JSON integers: {i!r}")


# ---------------------------------------------------------------- deal_productrows

PRODUCT_ROWS = [
    {"PRODUCT_NAME": "Widget", "PRICE": 100, "QUANTITY": 2},
    {"PRODUCT_NAME": "Gadget", "PRICE": 50.5, "QUANTITY": 3, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 10},
]
PRODUCT_ROWS_OPPORTUNITY = "351.50"  # 100*2 + 50.5*3


def check_product_rows(rows, deal_id):
    eq(len(rows), 2, f"number of product rows ({rows!r})")
    for row, sent in zip(rows, PRODUCT_ROWS):
        check(isinstance(row["ID"], str) and row["ID"].isdigit(), f"row ID must be a digit string: {row['ID']!r}")
        eq(row["OWNER_ID"], str(deal_id), "row OWNER_ID")
        eq(row["OWNER_TYPE"], "D", "row OWNER_TYPE")
        eq(row["PRODUCT_NAME"], sent["PRODUCT_NAME"], "row PRODUCT_NAME")
        eq(row["PRICE"], sent["PRICE"], "row PRICE (a JSON number)")
        eq(row["QUANTITY"], sent["QUANTITY"], "row QUANTITY (a JSON number)")
        eq(row["TAX_INCLUDED"], "N", "row TAX_INCLUDED")
    eq(rows[0]["DISCOUNT_SUM"], 0, "row 1 DISCOUNT_SUM")
    eq(rows[1]["DISCOUNT_RATE"], 10, "row 2 DISCOUNT_RATE")
    eq(rows[1]["PRICE_NETTO"], 56.11, "row 2 PRICE_NETTO (50.5 / 0.9)")
    eq(rows[1]["DISCOUNT_SUM"], 5.61, "row 2 DISCOUNT_SUM")


# ---------------------------------------------------------------- deal_userfields


def uf_names(ctx):
    """Per-run user field names (FIELD_NAME without the UF_CRM_ prefix) so clients do not collide."""
    tag = ctx.marker[2:10].upper()
    return f"CT{tag}NOTE", f"CT{tag}SCORE"


def uf_definitions(ctx):
    note, score = uf_names(ctx)
    return [
        {"FIELD_NAME": note, "USER_TYPE_ID": "string", "LABEL": "Conformance note", "XML_ID": f"{ctx.marker}-note"},
        {"FIELD_NAME": score, "USER_TYPE_ID": "integer", "LABEL": "Conformance score"},
    ]


def uf_deals(ctx):
    note, score = uf_names(ctx)
    return {
        "A": {"TITLE": f"{ctx.marker} uf A", "COMMENTS": ctx.marker, f"UF_CRM_{note}": "alpha", f"UF_CRM_{score}": 42},
        "B": {"TITLE": f"{ctx.marker} uf B", "COMMENTS": ctx.marker, f"UF_CRM_{note}": "beta", f"UF_CRM_{score}": 7},
    }


def uf_checks(ctx):
    """(label, extra filter, expected names); AND-ed with COMMENTS=marker."""
    note, score = uf_names(ctx)
    return [
        ("=UF integer", {f"UF_CRM_{score}": 42}, "A"),
        (">UF integer", {f">UF_CRM_{score}": 10}, "A"),
        ("<=UF integer", {f"<=UF_CRM_{score}": 42}, "AB"),
        ("UF string", {f"UF_CRM_{note}": "beta"}, "B"),
        ("%UF string", {f"%UF_CRM_{note}": "LPH"}, "A"),
    ]


def check_uf_definition(defn, ctx, which):
    note, score = uf_names(ctx)
    name, utype = ((f"UF_CRM_{note}", "string") if which == 0 else (f"UF_CRM_{score}", "integer"))
    eq(defn["FIELD_NAME"], name, "userfield FIELD_NAME")
    eq(defn["USER_TYPE_ID"], utype, "userfield USER_TYPE_ID")
    eq(defn["ENTITY_ID"], "CRM_DEAL", "userfield ENTITY_ID")
    eq(defn["MULTIPLE"], "N", "userfield MULTIPLE default")


def check_uf_deal(rec, ctx, name):
    note, score = uf_names(ctx)
    fields = uf_deals(ctx)[name]
    check_legacy_record(rec, "deal")
    eq(rec.get(f"UF_CRM_{note}"), fields[f"UF_CRM_{note}"], f"deal {name} UF string value")
    eq(rec.get(f"UF_CRM_{score}"), str(fields[f"UF_CRM_{score}"]), f"deal {name} UF integer value (a string in legacy output)")


def check_uf_list(label, records, expected_names, ids):
    got = sorted(int(r["ID"]) for r in records)
    eq(got, sorted(ids[n] for n in expected_names), f"userfield filter {label}")


# ---------------------------------------------------------------- lead_details_config


def details_layout(ctx):
    return [
        {"name": "main", "title": f"{ctx.marker} main", "type": "section",
         "elements": [{"name": "TITLE"}, {"name": "STATUS_ID", "optionFlags": "1"}, {"name": "OPPORTUNITY_WITH_CURRENCY"}]},
        {"name": "extra", "title": f"{ctx.marker} extra", "type": "section", "elements": [{"name": "COMMENTS"}]},
    ]


def check_details_layout(got, ctx):
    eq(got, [
        {"name": "main", "title": f"{ctx.marker} main", "type": "section",
         "elements": [{"name": "TITLE", "optionFlags": "0"}, {"name": "STATUS_ID", "optionFlags": "1"},
                      {"name": "OPPORTUNITY_WITH_CURRENCY", "optionFlags": "0"}]},
        {"name": "extra", "title": f"{ctx.marker} extra", "type": "section",
         "elements": [{"name": "COMMENTS", "optionFlags": "0"}]},
    ], "personal layout read back")


def check_default_layout(got):
    check(isinstance(got, list) and got, f"default layout must be a non-empty list: {got!r}")
    main = got[0]
    eq(main.get("name"), "main", "default layout first section")
    eq(main.get("title"), "About the Lead", "default layout main title")
    eq(main.get("type"), "section", "default layout section type")
    names = [e["name"] for e in main["elements"]]
    for name in ("TITLE", "STATUS_ID", "OPPORTUNITY_WITH_CURRENCY"):
        check(name in names, f"default main section must hold {name}: {names!r}")
    for sect in got:
        for el in sect["elements"]:
            eq(el.get("optionFlags"), "0", f"default element {el.get('name')} optionFlags")


# ---------------------------------------------------------------- item_crud (crm.item, entityTypeId 2 and 3)

ITEM_PAGE_COUNT = 60


def item_deal_fields(ctx):
    return {"title": f"{ctx.marker} item deal", "opportunity": 1500, "currencyId": "EUR", "comments": ctx.marker,
            "probability": 40}


def item_contact_fields(ctx):
    return {"name": "Zoe", "lastName": f"{ctx.marker} Item", "comments": ctx.marker,
            "fm": [{"typeId": "PHONE", "valueType": "WORK", "value": ctx.phone(9)}]}


def check_item_deal(item, ctx, item_id=None):
    check(isinstance(item, dict), f"item must be an object: {item!r}")
    check(type(item["id"]) is int, f"item id must be a JSON integer: {item['id']!r}")
    if item_id is not None:
        eq(item["id"], item_id, "item id")
    eq(item["title"], f"{ctx.marker} item deal", "item title")
    eq(item["opportunity"], 1500, "item opportunity (a JSON number)")
    check(type(item["opportunity"]) in (int, float), "item opportunity must be a number")
    eq(item["currencyId"], "EUR", "item currencyId")
    eq(item["probability"], 40, "item probability (a JSON number)")
    eq(item["stageId"], "NEW", "item stageId")
    eq(item["categoryId"], 0, "item categoryId (a JSON integer)")
    eq(item["assignedById"], 1, "item assignedById (a JSON integer)")
    eq(item["opened"], "Y", "item opened (Y/N string)")
    eq(item["closed"], "N", "item closed")
    eq(item["contactIds"], [], "item contactIds")
    eq(item["entityTypeId"], 2, "item entityTypeId")
    check(ISO_DT.match(item["createdTime"] or ""), f"item createdTime ISO: {item['createdTime']!r}")
    for upper in ("TITLE", "OPPORTUNITY", "ID"):
        check(upper not in item, f"item must use camelCase keys, found {upper}")


def check_item_deal_legacy(rec, ctx, item_id):
    """The same record through crm.deal.get: legacy strings."""
    check_legacy_record(rec, "deal (crm.deal.get of an item)")
    eq(rec["ID"], str(item_id), "legacy ID")
    eq(rec["TITLE"], f"{ctx.marker} item deal", "legacy TITLE")
    eq(rec["OPPORTUNITY"], "1500.00", "legacy OPPORTUNITY")
    eq(rec["PROBABILITY"], "40", "legacy PROBABILITY")
    eq(rec["CATEGORY_ID"], "0", "legacy CATEGORY_ID")


def check_item_contact(item, ctx, item_id=None):
    check(type(item["id"]) is int, f"item id must be a JSON integer: {item['id']!r}")
    if item_id is not None:
        eq(item["id"], item_id, "contact item id")
    eq(item["name"], "Zoe", "contact item name")
    eq(item["lastName"], f"{ctx.marker} Item", "contact item lastName")
    eq(item["hasPhone"], "Y", "contact item hasPhone")
    eq(item["phone"], ctx.phone(9), "contact item phone (first PHONE value)")
    eq(item["entityTypeId"], 3, "contact item entityTypeId")
    eq(item["companyIds"], [], "contact item companyIds")
    fm = item["fm"]
    eq(len(fm), 1, f"contact item fm ({fm!r})")
    eq((fm[0]["typeId"], fm[0]["valueType"], fm[0]["value"]), ("PHONE", "WORK", ctx.phone(9)), "contact item fm value")


ITEM_SELECT = ["id", "title", "opportunity", "stageId"]


def check_item_list(items, ctx, item_id):
    eq(len(items), 1, f"crm.item.list by marker ({items!r})")
    eq(items[0], {"id": item_id, "title": f"{ctx.marker} item deal", "opportunity": 1500, "stageId": "NEW"},
       "crm.item.list record (exactly the select, typed)")


def item_page_fields(ctx, i):
    return {"title": f"{ctx.marker} page {i:03d}", "comments": f"{ctx.marker} paging", "opportunity": i}


def check_item_paged(label, items, created):
    ids = [int(i["id"]) for i in items]
    eq(len(ids), len(set(ids)), f"{label}: duplicates")
    eq(sorted(ids), sorted(created), f"{label}: exactly the created ids")
    for it in items:
        check(type(it["id"]) is int, f"{label}: id must be a JSON integer: {it!r}")


# ---------------------------------------------------------------- system_dictionaries


def status_fields(ctx):
    return {"ENTITY_ID": "SOURCE", "STATUS_ID": f"CT{ctx.marker[2:10].upper()}", "NAME": f"{ctx.marker} source", "SORT": 500}


def check_source_list(records):
    by_id = {r["STATUS_ID"]: r for r in records}
    for sid in ("CALL", "EMAIL", "WEB"):
        check(sid in by_id, f"crm.status.list SOURCE must hold {sid}: {sorted(by_id)!r}")
    call = by_id["CALL"]
    eq(call["ENTITY_ID"], "SOURCE", "CALL ENTITY_ID")
    eq(call["SYSTEM"], "Y", "CALL SYSTEM")
    check(isinstance(call["ID"], str) and call["ID"].isdigit(), f"status ID must be a digit string: {call['ID']!r}")
    check(isinstance(call["SORT"], str), f"status SORT must be a string: {call['SORT']!r}")


def check_added_status(records, ctx, status_id):
    f = status_fields(ctx)
    eq(len(records), 1, f"crm.status.list of the added status ({records!r})")
    r = records[0]
    eq(r["ID"], str(status_id), "added status ID")
    eq((r["ENTITY_ID"], r["STATUS_ID"], r["NAME"], r["SORT"], r["SYSTEM"]),
       (f["ENTITY_ID"], f["STATUS_ID"], f["NAME"], "500", "N"), "added status values")


def check_currencies(records):
    by = {r["CURRENCY"]: r for r in records}
    check("USD" in by and "EUR" in by, f"crm.currency.list must hold USD and EUR: {sorted(by)!r}")
    eq(by["USD"]["BASE"], "Y", "USD is the base currency")
    eq(by["EUR"]["BASE"], "N", "EUR BASE")
    eq(by["USD"]["AMOUNT_CNT"], "1", "USD AMOUNT_CNT")
    eq(by["USD"]["FULL_NAME"], "US Dollar", "USD FULL_NAME")
    eq([r["BASE"] for r in records].count("Y"), 1, "exactly one base currency")


def check_ownertypes(records):
    by = {r["SYMBOL_CODE"]: r for r in records}
    for code, oid, short in (("LEAD", 1, "L"), ("DEAL", 2, "D"), ("CONTACT", 3, "C"), ("COMPANY", 4, "CO"), ("QUOTE", 7, "Q")):
        check(code in by, f"crm.enum.ownertype must hold {code}")
        eq(by[code]["ID"], oid, f"ownertype {code} ID (a JSON integer)")
        eq(by[code]["SYMBOL_CODE_SHORT"], short, f"ownertype {code} SYMBOL_CODE_SHORT")


def check_user_current(user):
    eq(user["ID"], "1", "user.current ID (a string)")
    eq(user["ACTIVE"], True, "user.current ACTIVE")
    check(isinstance(user.get("EMAIL"), str), "user.current EMAIL")
    eq(user["UF_DEPARTMENT"], [1], "user.current UF_DEPARTMENT")


def check_scope(scopes):
    check(isinstance(scopes, list) and "crm" in scopes, f"scope must list crm: {scopes!r}")


def check_duplicates(found, contact_id):
    eq(found, {"CONTACT": [contact_id]}, "crm.duplicate.findbycomm by the contact's phone")
