// Data and expectations for the JS client; mirrors conformance/py/scenarios.py (keep the two in step).
import { check, eq, checkLegacyLead, checkMultifield, idsOf, sortNum } from './harness.mjs'

// ---------------------------------------------------------------- lead_crud

export function crudFields (ctx) {
  return {
    TITLE: `${ctx.marker} crud`,
    NAME: 'Ivan',
    SOURCE_DESCRIPTION: ctx.marker,
    PHONE: [
      { VALUE: ctx.phone(1), VALUE_TYPE: 'WORK' },
      { VALUE: ctx.phone(2), VALUE_TYPE: 'MOBILE' }
    ],
    EMAIL: [{ VALUE: `${ctx.marker}@example.com`, VALUE_TYPE: 'WORK' }],
    UTM_SOURCE: 'google',
    UTM_MEDIUM: 'cpc',
    UTM_CAMPAIGN: `camp-${ctx.marker}`
  }
}

export function checkAddedId (id) {
  check(Number.isInteger(id) && id > 0, `add must return a positive JSON integer, got ${JSON.stringify(id)}`)
}

export function checkCreated (lead, ctx, id) {
  checkLegacyLead(lead)
  eq(lead.ID, String(id), 'ID')
  eq(lead.TITLE, `${ctx.marker} crud`, 'TITLE')
  eq(lead.NAME, 'Ivan', 'NAME')
  eq(lead.SOURCE_DESCRIPTION, ctx.marker, 'SOURCE_DESCRIPTION')
  eq(lead.UTM_SOURCE, 'google', 'UTM_SOURCE')
  eq(lead.UTM_MEDIUM, 'cpc', 'UTM_MEDIUM')
  eq(lead.UTM_CAMPAIGN, `camp-${ctx.marker}`, 'UTM_CAMPAIGN')
  eq(lead.HAS_PHONE, 'Y', 'HAS_PHONE')
  eq(lead.HAS_EMAIL, 'Y', 'HAS_EMAIL')
  eq(lead.STATUS_ID, 'NEW', 'STATUS_ID default')
  eq(lead.STATUS_SEMANTIC_ID, 'P', 'STATUS_SEMANTIC_ID')
  eq(lead.OPPORTUNITY, '0.00', 'OPPORTUNITY default')
  eq(lead.OPENED, 'Y', 'OPENED default')
  eq(lead.ASSIGNED_BY_ID, '1', 'ASSIGNED_BY_ID (webhook user)')
  eq(lead.CREATED_BY_ID, '1', 'CREATED_BY_ID (webhook user)')
  for (const absent of ['WEB', 'IM', 'LINK']) {
    check(!(absent in lead), `${absent} must be omitted when the lead has no such values`)
  }
  const phones = checkMultifield(lead, 'PHONE', [['WORK', ctx.phone(1)], ['MOBILE', ctx.phone(2)]])
  checkMultifield(lead, 'EMAIL', [['WORK', `${ctx.marker}@example.com`]])
  return phones
}

export function crudUpdateFields (ctx, phones) {
  const [work, mobile] = phones
  return {
    TITLE: `${ctx.marker} crud updated`,
    PHONE: [
      { ID: Number(work.ID), VALUE: ctx.phone(3), VALUE_TYPE: 'WORK' },
      { ID: Number(mobile.ID), DELETE: 'Y' }
    ]
  }
}

export function checkUpdated (lead, ctx, id, phones) {
  checkLegacyLead(lead)
  eq(lead.ID, String(id), 'ID')
  eq(lead.TITLE, `${ctx.marker} crud updated`, 'TITLE after update')
  eq(lead.NAME, 'Ivan', 'NAME kept by update')
  eq(lead.UTM_CAMPAIGN, `camp-${ctx.marker}`, 'UTM_CAMPAIGN kept by update')
  eq(lead.HAS_PHONE, 'Y', 'HAS_PHONE after update')
  const items = checkMultifield(lead, 'PHONE', [['WORK', ctx.phone(3)]])
  eq(items[0].ID, phones[0].ID, 'changed phone keeps its ID')
  checkMultifield(lead, 'EMAIL', [['WORK', `${ctx.marker}@example.com`]])
}

// ---------------------------------------------------------------- lead_filters

export const FILTER_SEED = {
  A: ['alpha apple', 'NEW', 100, [1]],
  B: ['beta banana', 'IN_PROCESS', 250.5, [2, 3]],
  C: ['gamma apple pie', 'PROCESSED', 1000, []],
  D: ['delta', 'JUNK', null, []]
}

export function filterSeed (ctx) {
  return Object.entries(FILTER_SEED).map(([name, [suffix, status, opp, phones]]) => {
    const fields = { TITLE: `${ctx.marker} ${suffix}`, STATUS_ID: status, SOURCE_DESCRIPTION: ctx.marker }
    if (opp !== null) fields.OPPORTUNITY = opp
    if (phones.length) fields.PHONE = phones.map(n => ({ VALUE: ctx.phone(n), VALUE_TYPE: 'WORK' }))
    return [name, fields]
  })
}

export function filterChecks (ctx) {
  const m = { SOURCE_DESCRIPTION: ctx.marker }
  return [
    ['marker only', { ...m }, 'ABCD'],
    ['=STATUS_ID', { ...m, '=STATUS_ID': 'IN_PROCESS' }, 'B'],
    ['plain STATUS_ID', { ...m, STATUS_ID: 'PROCESSED' }, 'C'],
    ['!STATUS_ID', { ...m, '!STATUS_ID': 'NEW' }, 'BCD'],
    ['>OPPORTUNITY and <=OPPORTUNITY', { ...m, '>OPPORTUNITY': 100, '<=OPPORTUNITY': 1000 }, 'BC'],
    ['>=OPPORTUNITY', { ...m, '>=OPPORTUNITY': 250.5 }, 'BC'],
    ['<OPPORTUNITY', { ...m, '<OPPORTUNITY': 100 }, 'D'],
    ['%TITLE', { ...m, '%TITLE': 'apple' }, 'AC'],
    ['%TITLE case-insensitive', { ...m, '%TITLE': 'APPLE' }, 'AC'],
    ['@STATUS_ID', { ...m, '@STATUS_ID': ['NEW', 'JUNK'] }, 'AD'],
    ['!@STATUS_ID', { ...m, '!@STATUS_ID': ['NEW', 'JUNK'] }, 'BC'],
    ['>DATE_CREATE', { ...m, '>DATE_CREATE': '2000-01-01T00:00:00+00:00' }, 'ABCD'],
    ['PHONE', { ...m, PHONE: ctx.phone(3) }, 'B'],
    ['PHONE with % wildcard', { ...m, PHONE: ctx.phone(1).slice(0, -3) + '%' }, 'AB']
  ]
}

export function checkFilterResult (label, records, names, ids) {
  const got = idsOf(records)
  const want = [...names].map(n => ids[n])
  eq(sortNum(got), sortNum(want), `filter ${label}: ids (names ${names})`)
  eq(got, sortNum(got), `filter ${label}: default order is ID ASC`)
}

export const SELECT_FIELDS = ['TITLE', 'OPPORTUNITY', 'PHONE']

export function checkSelectResult (records, ctx, ids) {
  eq(sortNum(idsOf(records)), sortNum(Object.values(ids)), 'select: ids')
  const byId = Object.fromEntries(records.map(r => [Number(r.ID), r]))
  for (const [name, [suffix, , opp, phones]] of Object.entries(FILTER_SEED)) {
    const rec = byId[ids[name]]
    const keys = ['ID', 'TITLE', 'OPPORTUNITY', ...(phones.length ? ['PHONE'] : [])].sort()
    eq(Object.keys(rec).sort(), keys, `select: keys of lead ${name} (ID added because PHONE is selected; no PHONE key when empty)`)
    eq(rec.TITLE, `${ctx.marker} ${suffix}`, `select: TITLE of ${name}`)
    eq(rec.OPPORTUNITY, (opp ?? 0).toFixed(2), `select: OPPORTUNITY of ${name} (string, 2 decimals)`)
    if (phones.length) checkMultifield(rec, 'PHONE', phones.map(n => ['WORK', ctx.phone(n)]))
  }
}

export const ORDER_OPPORTUNITY_DESC = 'CBAD'

export function checkOrder (label, records, names, ids) {
  eq(idsOf(records), [...names].map(n => ids[n]), `order ${label}`)
}

// ---------------------------------------------------------------- lead_filters_unicode
// open-questions.md C5 / lists.md §2.3: string `=` and LIKE are case-insensitive, for Cyrillic too.

export function unicodeFields (ctx) {
  return { TITLE: `${ctx.marker} Иванов Пётр`, NAME: 'Ёлка', SOURCE_DESCRIPTION: ctx.marker }
}

export function unicodeChecks (ctx) {
  const m = { SOURCE_DESCRIPTION: ctx.marker }
  return [
    ['%TITLE same case', { ...m, '%TITLE': 'Иванов' }],
    ['%TITLE lower case', { ...m, '%TITLE': 'иванов' }],
    ['%TITLE upper case', { ...m, '%TITLE': 'ИВАНОВ ПЁТР' }],
    ['=TITLE other case', { ...m, '=TITLE': `${ctx.marker} иванов пётр` }],
    ['NAME other case', { ...m, NAME: 'ёлка' }]
  ]
}

export function checkUnicodeLead (lead, ctx) {
  eq(lead.TITLE, `${ctx.marker} Иванов Пётр`, 'TITLE round-trips unchanged')
  eq(lead.NAME, 'Ёлка', 'NAME round-trips unchanged')
}

export function checkUnicodeResult (label, records, id) {
  eq(idsOf(records), [id], `filter ${label}`)
}

// ---------------------------------------------------------------- lead_paging_250

export const PAGING_COUNT = 250

export function pagingFields (ctx, i) {
  return { TITLE: `${ctx.marker} page ${String(i).padStart(3, '0')}`, SOURCE_DESCRIPTION: ctx.marker }
}

// lists.md §1: start=75 is rounded down to the page boundary: records 50..99, next 100.
export function checkPage75 (label, records, total, next, createdIds) {
  eq(idsOf(records), sortNum(createdIds).slice(50, 100), `${label}: start=75 returns records 50-99 (ID ASC)`)
  eq(total, PAGING_COUNT, `${label}: total`)
  eq(next, 100, `${label}: next`)
}

// lists.md §1 decision (c): start=-1 returns the first 50, total 0, no next.
export function checkPageMinusOne (label, records, total, next, createdIds) {
  eq(idsOf(records), sortNum(createdIds).slice(0, 50), `${label}: start=-1 returns the first 50 records`)
  eq(total, 0, `${label}: total with start=-1`)
  eq(next, undefined, `${label}: next with start=-1`)
}

export function checkPaged (label, records, createdIds) {
  const got = idsOf(records)
  eq(got.length, createdIds.length, `${label}: number of records`)
  eq(new Set(got).size, got.length, `${label}: no duplicates`)
  eq(sortNum(got), sortNum(createdIds), `${label}: exactly the created ids`)
}

// ---------------------------------------------------------------- batch_50_adds

export const BATCH_SIZE = 50

export function batchAddFields (ctx, i) {
  return {
    TITLE: `${ctx.marker} #${String(i).padStart(2, '0')} A&B + C/D = Лид`,
    SOURCE_DESCRIPTION: ctx.marker,
    OPPORTUNITY: i,
    PHONE: [{ VALUE: ctx.phone(i), VALUE_TYPE: 'MOBILE' }]
  }
}

export function checkBatchAdds (ctx, ids, records) {
  eq(ids.length, BATCH_SIZE, 'batch: number of add results')
  ids.forEach(checkAddedId)
  eq(new Set(ids).size, BATCH_SIZE, 'batch: distinct ids')
  eq(ids, sortNum(ids), 'batch: commands run sequentially (ids ascending in command order)')
  eq(sortNum(idsOf(records)), sortNum(ids), 'batch: leads exist')
  const byId = Object.fromEntries(records.map(r => [Number(r.ID), r]))
  ids.forEach((id, i) => {
    const rec = byId[id]
    eq(rec.TITLE, batchAddFields(ctx, i).TITLE, `batch: TITLE of command ${i}`)
    eq(rec.OPPORTUNITY, i.toFixed(2), `batch: OPPORTUNITY of command ${i}`)
    checkMultifield(rec, 'PHONE', [['MOBILE', ctx.phone(i)]])
  })
}

// ---------------------------------------------------------------- batch_chained_refs

export function chainedCommands (ctx) {
  const m = ctx.marker
  return [
    ['add0', 'crm.lead.add', { fields: { TITLE: `${m} chained`, SOURCE_DESCRIPTION: m, OPPORTUNITY: 42 } }],
    ['get0', 'crm.lead.get', { id: '$result[add0]' }],
    ['list0', 'crm.lead.list', { filter: { SOURCE_DESCRIPTION: m }, select: ['ID', 'TITLE'], order: { ID: 'ASC' } }],
    ['get1', 'crm.lead.get', { id: '$result[list0][0][ID]' }],
    ['list1', 'crm.lead.list', { filter: { ID: '$result[list0][0][ID]' }, select: ['ID', 'OPPORTUNITY'] }],
    ['upd0', 'crm.lead.update', { id: '$result[add0]', fields: { TITLE: '$result[get0][TITLE] v2' } }],
    ['get2', 'crm.lead.get', { id: '$result[add0]' }]
  ]
}

export function checkChained (ctx, result, totals) {
  const id = result.add0
  checkAddedId(id)
  eq(result.get0.ID, String(id), 'get0 (id=$result[add0]): ID')
  eq(result.get0.TITLE, `${ctx.marker} chained`, 'get0: TITLE')
  eq(result.list0, [{ ID: String(id), TITLE: `${ctx.marker} chained` }], 'list0')
  eq(result.get1.ID, String(id), 'get1 (id=$result[list0][0][ID]): ID')
  eq(result.list1, [{ ID: String(id), OPPORTUNITY: '42.00' }], 'list1 (filter ID=$result[list0][0][ID])')
  eq(result.upd0, true, 'upd0 (update id=$result[add0])')
  eq(result.get2.TITLE, `${ctx.marker} chained v2`, 'get2: TITLE interpolated from $result[get0][TITLE]')
  if (totals) {
    eq(totals.list0, 1, 'total of list0')
    eq(totals.list1, 1, 'total of list1')
  }
}

// ================================================================ entity families (mirrors the same section of
// py/scenarios.py). Records are isolated by the case marker in COMMENTS.

const ISO_DT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/
const isDigits = (v) => typeof v === 'string' && /^\d+$/.test(v)

export function checkLegacyRecord (rec, what) {
  check(rec && typeof rec === 'object' && !Array.isArray(rec), `${what} must be an object`)
  for (const [key, value] of Object.entries(rec)) {
    if (['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK'].includes(key)) {
      check(Array.isArray(value) && value.length > 0, `${what}.${key} present but not a non-empty list`)
      continue
    }
    check(value === null || typeof value === 'string', `${what}.${key} must be a string or null, got ${JSON.stringify(value)}`)
  }
  check(isDigits(rec.ID), `${what}.ID must be a digit string: ${JSON.stringify(rec.ID)}`)
  for (const key of ['DATE_CREATE', 'DATE_MODIFY']) check(ISO_DT.test(rec[key] ?? ''), `${what}.${key} must be ISO-8601`)
}

function expectFields (rec, expected, what) {
  for (const [key, value] of Object.entries(expected)) eq(key in rec ? rec[key] : '<absent>', value, `${what}.${key}`)
}

export function entityPlan (ctx, entity) {
  const m = ctx.marker
  switch (entity) {
    case 'deal': return {
      add: { TITLE: `${m} deal`, OPPORTUNITY: 1234.5, CURRENCY_ID: 'EUR', COMMENTS: m, PROBABILITY: 30 },
      added: { TITLE: `${m} deal`, OPPORTUNITY: '1234.50', CURRENCY_ID: 'EUR', COMMENTS: m, PROBABILITY: '30', STAGE_ID: 'NEW', STAGE_SEMANTIC_ID: 'P', TYPE_ID: 'SALE', CATEGORY_ID: '0', CLOSED: 'N', IS_NEW: 'Y', OPENED: 'Y', ASSIGNED_BY_ID: '1', CREATED_BY_ID: '1', IS_MANUAL_OPPORTUNITY: 'N' },
      update: { TITLE: `${m} deal won`, STAGE_ID: 'WON' },
      updated: { TITLE: `${m} deal won`, STAGE_ID: 'WON', STAGE_SEMANTIC_ID: 'S', CLOSED: 'Y', IS_NEW: 'N', OPPORTUNITY: '1234.50', CURRENCY_ID: 'EUR' },
      select: ['ID', 'TITLE', 'OPPORTUNITY', 'STAGE_ID', 'CLOSED'],
      fields: { TITLE: ['string', {}], STAGE_ID: ['crm_status', { statusType: 'DEAL_STAGE' }], OPPORTUNITY: ['double', {}], CURRENCY_ID: ['crm_currency', {}] }
    }
    case 'contact': return {
      add: { NAME: 'Anna', LAST_NAME: `${m} Lee`, COMMENTS: m, PHONE: [{ VALUE: ctx.phone(7), VALUE_TYPE: 'MOBILE' }], EMAIL: [{ VALUE: `${m}@example.org`, VALUE_TYPE: 'HOME' }] },
      added: { NAME: 'Anna', LAST_NAME: `${m} Lee`, COMMENTS: m, HAS_PHONE: 'Y', HAS_EMAIL: 'Y', EXPORT: 'Y', OPENED: 'Y', COMPANY_ID: null, BIRTHDATE: '', ASSIGNED_BY_ID: '1' },
      update: { LAST_NAME: `${m} Smith`, POST: 'Engineer' },
      updated: { NAME: 'Anna', LAST_NAME: `${m} Smith`, POST: 'Engineer', HAS_PHONE: 'Y' },
      select: ['ID', 'NAME', 'LAST_NAME', 'POST'],
      fields: { NAME: ['string', {}], PHONE: ['crm_multifield', {}], COMPANY_ID: ['crm_company', {}] }
    }
    case 'company': return {
      add: { TITLE: `${m} company`, REVENUE: 1000.5, EMPLOYEES: 'EMPLOYEES_2', COMMENTS: m, PHONE: [{ VALUE: ctx.phone(8), VALUE_TYPE: 'WORK' }] },
      added: { TITLE: `${m} company`, REVENUE: '1000.50', EMPLOYEES: 'EMPLOYEES_2', COMMENTS: m, IS_MY_COMPANY: 'N', OPENED: 'Y', HAS_PHONE: 'Y', HAS_EMAIL: 'N', CURRENCY_ID: 'USD' },
      update: { TITLE: `${m} company renamed`, INDUSTRY: 'IT' },
      updated: { TITLE: `${m} company renamed`, INDUSTRY: 'IT', REVENUE: '1000.50', HAS_PHONE: 'Y' },
      select: ['ID', 'TITLE', 'REVENUE', 'INDUSTRY'],
      fields: { TITLE: ['string', {}], INDUSTRY: ['crm_status', { statusType: 'INDUSTRY' }] }
    }
    case 'quote': return {
      add: { TITLE: `${m} quote`, OPPORTUNITY: 99, COMMENTS: m },
      added: { TITLE: `${m} quote`, OPPORTUNITY: '99.00', COMMENTS: m, STATUS_ID: 'DRAFT', CLOSED: 'N', OPENED: 'Y', CURRENCY_ID: 'USD' },
      update: { STATUS_ID: 'APPROVED' },
      updated: { TITLE: `${m} quote`, STATUS_ID: 'APPROVED', CLOSED: 'Y', OPPORTUNITY: '99.00' },
      select: ['ID', 'TITLE', 'STATUS_ID', 'OPPORTUNITY', 'QUOTE_NUMBER'],
      fields: { TITLE: ['string', {}], STATUS_ID: ['crm_status', { statusType: 'QUOTE_STATUS' }] }
    }
  }
  throw new Error(entity)
}

export function checkEntityAdded (entity, rec, ctx, id) {
  const plan = entityPlan(ctx, entity)
  checkLegacyRecord(rec, entity)
  eq(rec.ID, String(id), `${entity}.ID`)
  expectFields(rec, plan.added, entity)
  if (entity === 'contact') {
    checkMultifield(rec, 'PHONE', [['MOBILE', ctx.phone(7)]])
    checkMultifield(rec, 'EMAIL', [['HOME', `${ctx.marker}@example.org`]])
  }
  if (entity === 'company') checkMultifield(rec, 'PHONE', [['WORK', ctx.phone(8)]])
  if (entity === 'quote') eq(rec.QUOTE_NUMBER, String(id), 'quote.QUOTE_NUMBER (the id)')
}

export function checkEntityUpdated (entity, rec, ctx, id) {
  checkLegacyRecord(rec, entity)
  eq(rec.ID, String(id), `${entity}.ID`)
  expectFields(rec, entityPlan(ctx, entity).updated, `${entity} after update`)
  eq(rec.COMMENTS, ctx.marker, `${entity}.COMMENTS kept by update`)
}

export function checkEntityList (entity, records, ctx, id) {
  const { updated, select } = entityPlan(ctx, entity)
  eq(records.length, 1, `${entity}.list by marker: number of records`)
  const rec = records[0]
  eq(Object.keys(rec).sort(), [...select].sort(), `${entity}.list keys (exactly the select)`)
  eq(rec.ID, String(id), `${entity}.list ID`)
  for (const key of select) if (key in updated) eq(rec[key], updated[key], `${entity}.list ${key}`)
  for (const [key, value] of Object.entries(rec)) check(value === null || typeof value === 'string', `${entity}.list ${key} must be a string or null`)
}

export function checkEntityFields (entity, fields, ctx) {
  check(fields && fields.ID, `${entity}.fields must describe ID`)
  eq(fields.ID.type, 'integer', `${entity}.fields ID type`)
  eq(fields.ID.isReadOnly, true, `${entity}.fields ID isReadOnly`)
  for (const [name, [type, extra]] of Object.entries(entityPlan(ctx, entity).fields)) {
    check(name in fields, `${entity}.fields must describe ${name}`)
    eq(fields[name].type, type, `${entity}.fields ${name} type`)
    for (const [k, v] of Object.entries(extra)) eq(fields[name][k], v, `${entity}.fields ${name}.${k}`)
    for (const k of ['isRequired', 'isReadOnly', 'isImmutable', 'isMultiple', 'isDynamic', 'title']) check(k in fields[name], `${entity}.fields ${name} lacks ${k}`)
  }
}

export function notFoundText (description) {
  eq(description, 'Not found', 'error_description of a deleted record')
}

// ---------------------------------------------------------------- contact_bindings

export const bindingItems = (list) => list.map(([id, sort, prim]) => ({ CONTACT_ID: id, SORT: sort, IS_PRIMARY: prim }))

export function checkBindingItems (label, items, expected, key = 'CONTACT_ID') {
  eq(items.map(i => [i[key], i.SORT, i.IS_PRIMARY]), expected, `${label}: (${key}, SORT, IS_PRIMARY) in order`)
  for (const i of items) {
    eq(Object.keys(i).sort(), [key, 'SORT', 'ROLE_ID', 'IS_PRIMARY'].sort(), `${label}: item keys`)
    eq(i.ROLE_ID, 0, `${label}: ROLE_ID`)
  }
}

// ---------------------------------------------------------------- deal_productrows

export const PRODUCT_ROWS = [
  { PRODUCT_NAME: 'Widget', PRICE: 100, QUANTITY: 2 },
  { PRODUCT_NAME: 'Gadget', PRICE: 50.5, QUANTITY: 3, DISCOUNT_TYPE_ID: 2, DISCOUNT_RATE: 10 }
]
export const PRODUCT_ROWS_OPPORTUNITY = '351.50'

export function checkProductRows (rows, dealId) {
  eq(rows.length, 2, 'number of product rows')
  rows.forEach((row, i) => {
    const sent = PRODUCT_ROWS[i]
    check(isDigits(row.ID), `row ID must be a digit string: ${JSON.stringify(row.ID)}`)
    eq(row.OWNER_ID, String(dealId), 'row OWNER_ID')
    eq(row.OWNER_TYPE, 'D', 'row OWNER_TYPE')
    eq(row.PRODUCT_NAME, sent.PRODUCT_NAME, 'row PRODUCT_NAME')
    eq(row.PRICE, sent.PRICE, 'row PRICE (a JSON number)')
    eq(row.QUANTITY, sent.QUANTITY, 'row QUANTITY (a JSON number)')
    eq(row.TAX_INCLUDED, 'N', 'row TAX_INCLUDED')
  })
  eq(rows[0].DISCOUNT_SUM, 0, 'row 1 DISCOUNT_SUM')
  eq(rows[1].DISCOUNT_RATE, 10, 'row 2 DISCOUNT_RATE')
  eq(rows[1].PRICE_NETTO, 56.11, 'row 2 PRICE_NETTO (50.5 / 0.9)')
  eq(rows[1].DISCOUNT_SUM, 5.61, 'row 2 DISCOUNT_SUM')
}

// ---------------------------------------------------------------- deal_userfields

export function ufNames (ctx) {
  const tag = ctx.marker.slice(2, 10).toUpperCase()
  return [`CT${tag}NOTE`, `CT${tag}SCORE`]
}

export function ufDefinitions (ctx) {
  const [note, score] = ufNames(ctx)
  return [
    { FIELD_NAME: note, USER_TYPE_ID: 'string', LABEL: 'Conformance note', XML_ID: `${ctx.marker}-note` },
    { FIELD_NAME: score, USER_TYPE_ID: 'integer', LABEL: 'Conformance score' }
  ]
}

export function ufDeals (ctx) {
  const [note, score] = ufNames(ctx)
  return {
    A: { TITLE: `${ctx.marker} uf A`, COMMENTS: ctx.marker, [`UF_CRM_${note}`]: 'alpha', [`UF_CRM_${score}`]: 42 },
    B: { TITLE: `${ctx.marker} uf B`, COMMENTS: ctx.marker, [`UF_CRM_${note}`]: 'beta', [`UF_CRM_${score}`]: 7 }
  }
}

export function ufChecks (ctx) {
  const [note, score] = ufNames(ctx)
  return [
    ['=UF integer', { [`UF_CRM_${score}`]: 42 }, 'A'],
    ['>UF integer', { [`>UF_CRM_${score}`]: 10 }, 'A'],
    ['<=UF integer', { [`<=UF_CRM_${score}`]: 42 }, 'AB'],
    ['UF string', { [`UF_CRM_${note}`]: 'beta' }, 'B'],
    ['%UF string', { [`%UF_CRM_${note}`]: 'LPH' }, 'A']
  ]
}

export function checkUfDefinition (defn, ctx, which) {
  const [note, score] = ufNames(ctx)
  const [name, type] = which === 0 ? [`UF_CRM_${note}`, 'string'] : [`UF_CRM_${score}`, 'integer']
  eq(defn.FIELD_NAME, name, 'userfield FIELD_NAME')
  eq(defn.USER_TYPE_ID, type, 'userfield USER_TYPE_ID')
  eq(defn.ENTITY_ID, 'CRM_DEAL', 'userfield ENTITY_ID')
  eq(defn.MULTIPLE, 'N', 'userfield MULTIPLE default')
}

export function checkUfDeal (rec, ctx, name, legacyRecord = true) {
  const [note, score] = ufNames(ctx)
  const fields = ufDeals(ctx)[name]
  if (legacyRecord) checkLegacyRecord(rec, 'deal')
  eq(rec[`UF_CRM_${note}`], fields[`UF_CRM_${note}`], `deal ${name} UF string value`)
  eq(rec[`UF_CRM_${score}`], String(fields[`UF_CRM_${score}`]), `deal ${name} UF integer value (a string in legacy output)`)
}

export function checkUfList (label, records, names, ids) {
  eq(sortNum(records.map(r => Number(r.ID))), sortNum([...names].map(n => ids[n])), `userfield filter ${label}`)
}

// ---------------------------------------------------------------- lead_details_config

export function detailsLayout (ctx) {
  return [
    { name: 'main', title: `${ctx.marker} main`, type: 'section', elements: [{ name: 'TITLE' }, { name: 'STATUS_ID', optionFlags: '1' }, { name: 'OPPORTUNITY_WITH_CURRENCY' }] },
    { name: 'extra', title: `${ctx.marker} extra`, type: 'section', elements: [{ name: 'COMMENTS' }] }
  ]
}

export function checkDetailsLayout (got, ctx) {
  eq(got, [
    { name: 'main', title: `${ctx.marker} main`, type: 'section', elements: [{ name: 'TITLE', optionFlags: '0' }, { name: 'STATUS_ID', optionFlags: '1' }, { name: 'OPPORTUNITY_WITH_CURRENCY', optionFlags: '0' }] },
    { name: 'extra', title: `${ctx.marker} extra`, type: 'section', elements: [{ name: 'COMMENTS', optionFlags: '0' }] }
  ], 'personal layout read back')
}

export function checkDefaultLayout (got) {
  check(Array.isArray(got) && got.length > 0, 'default layout must be a non-empty list')
  const main = got[0]
  eq(main.name, 'main', 'default layout first section')
  eq(main.title, 'About the Lead', 'default layout main title')
  eq(main.type, 'section', 'default layout section type')
  const names = main.elements.map(e => e.name)
  for (const n of ['TITLE', 'STATUS_ID', 'OPPORTUNITY_WITH_CURRENCY']) check(names.includes(n), `default main section must hold ${n}`)
  for (const s of got) for (const el of s.elements) eq(el.optionFlags, '0', `default element ${el.name} optionFlags`)
}

// ---------------------------------------------------------------- item_crud

export const ITEM_PAGE_COUNT = 60
export const ITEM_SELECT = ['id', 'title', 'opportunity', 'stageId']

export const itemDealFields = (ctx) => ({ title: `${ctx.marker} item deal`, opportunity: 1500, currencyId: 'EUR', comments: ctx.marker, probability: 40 })
export const itemContactFields = (ctx) => ({ name: 'Zoe', lastName: `${ctx.marker} Item`, comments: ctx.marker, fm: [{ typeId: 'PHONE', valueType: 'WORK', value: ctx.phone(9) }] })
export const itemPageFields = (ctx, i) => ({ title: `${ctx.marker} page ${String(i).padStart(3, '0')}`, comments: `${ctx.marker} paging`, opportunity: i })

export function checkItemDeal (item, ctx, id = null) {
  check(Number.isInteger(item.id), `item id must be a JSON integer: ${JSON.stringify(item.id)}`)
  if (id !== null) eq(item.id, id, 'item id')
  eq(item.title, `${ctx.marker} item deal`, 'item title')
  eq(item.opportunity, 1500, 'item opportunity (a JSON number)')
  eq(item.currencyId, 'EUR', 'item currencyId')
  eq(item.probability, 40, 'item probability (a JSON number)')
  eq(item.stageId, 'NEW', 'item stageId')
  eq(item.categoryId, 0, 'item categoryId (a JSON integer)')
  eq(item.assignedById, 1, 'item assignedById (a JSON integer)')
  eq(item.opened, 'Y', 'item opened')
  eq(item.closed, 'N', 'item closed')
  eq(item.contactIds, [], 'item contactIds')
  eq(item.entityTypeId, 2, 'item entityTypeId')
  check(ISO_DT.test(item.createdTime ?? ''), 'item createdTime ISO')
  for (const upper of ['TITLE', 'OPPORTUNITY', 'ID']) check(!(upper in item), `item must use camelCase keys, found ${upper}`)
}

export function checkItemDealLegacy (rec, ctx, id) {
  checkLegacyRecord(rec, 'deal (crm.deal.get of an item)')
  eq(rec.ID, String(id), 'legacy ID')
  eq(rec.TITLE, `${ctx.marker} item deal`, 'legacy TITLE')
  eq(rec.OPPORTUNITY, '1500.00', 'legacy OPPORTUNITY')
  eq(rec.PROBABILITY, '40', 'legacy PROBABILITY')
  eq(rec.CATEGORY_ID, '0', 'legacy CATEGORY_ID')
}

export function checkItemContact (item, ctx, id = null) {
  check(Number.isInteger(item.id), 'contact item id must be a JSON integer')
  if (id !== null) eq(item.id, id, 'contact item id')
  eq(item.name, 'Zoe', 'contact item name')
  eq(item.lastName, `${ctx.marker} Item`, 'contact item lastName')
  eq(item.hasPhone, 'Y', 'contact item hasPhone')
  eq(item.phone, ctx.phone(9), 'contact item phone')
  eq(item.entityTypeId, 3, 'contact item entityTypeId')
  eq(item.companyIds, [], 'contact item companyIds')
  eq(item.fm.map(f => [f.typeId, f.valueType, f.value]), [['PHONE', 'WORK', ctx.phone(9)]], 'contact item fm')
}

export function checkItemList (items, ctx, id) {
  eq(items, [{ id, title: `${ctx.marker} item deal`, opportunity: 1500, stageId: 'NEW' }], 'crm.item.list record (exactly the select, typed)')
}

export function checkItemPaged (label, items, created) {
  const ids = items.map(i => i.id)
  eq(new Set(ids).size, ids.length, `${label}: duplicates`)
  eq(sortNum(ids), sortNum(created), `${label}: exactly the created ids`)
  for (const it of items) check(Number.isInteger(it.id), `${label}: id must be a JSON integer`)
}

// ---------------------------------------------------------------- system_dictionaries

export const statusFields = (ctx) => ({ ENTITY_ID: 'SOURCE', STATUS_ID: `CT${ctx.marker.slice(2, 10).toUpperCase()}`, NAME: `${ctx.marker} source`, SORT: 500 })

export function checkSourceList (records) {
  const by = Object.fromEntries(records.map(r => [r.STATUS_ID, r]))
  for (const sid of ['CALL', 'EMAIL', 'WEB']) check(sid in by, `crm.status.list SOURCE must hold ${sid}`)
  eq(by.CALL.ENTITY_ID, 'SOURCE', 'CALL ENTITY_ID')
  eq(by.CALL.SYSTEM, 'Y', 'CALL SYSTEM')
  check(isDigits(by.CALL.ID), 'status ID must be a digit string')
  check(typeof by.CALL.SORT === 'string', 'status SORT must be a string')
}

export function checkAddedStatus (records, ctx, id) {
  const f = statusFields(ctx)
  eq(records.length, 1, 'crm.status.list of the added status')
  const r = records[0]
  eq(r.ID, String(id), 'added status ID')
  eq([r.ENTITY_ID, r.STATUS_ID, r.NAME, r.SORT, r.SYSTEM], [f.ENTITY_ID, f.STATUS_ID, f.NAME, '500', 'N'], 'added status values')
}

export function checkCurrencies (records) {
  const by = Object.fromEntries(records.map(r => [r.CURRENCY, r]))
  check(by.USD && by.EUR, 'crm.currency.list must hold USD and EUR')
  eq(by.USD.BASE, 'Y', 'USD is the base currency')
  eq(by.EUR.BASE, 'N', 'EUR BASE')
  eq(by.USD.AMOUNT_CNT, '1', 'USD AMOUNT_CNT')
  eq(by.USD.FULL_NAME, 'US Dollar', 'USD FULL_NAME')
  eq(records.filter(r => r.BASE === 'Y').length, 1, 'exactly one base currency')
}

export function checkOwnertypes (records) {
  const by = Object.fromEntries(records.map(r => [r.SYMBOL_CODE, r]))
  for (const [code, id, short] of [['LEAD', 1, 'L'], ['DEAL', 2, 'D'], ['CONTACT', 3, 'C'], ['COMPANY', 4, 'CO'], ['QUOTE', 7, 'Q']]) {
    check(code in by, `crm.enum.ownertype must hold ${code}`)
    eq(by[code].ID, id, `ownertype ${code} ID (a JSON integer)`)
    eq(by[code].SYMBOL_CODE_SHORT, short, `ownertype ${code} SYMBOL_CODE_SHORT`)
  }
}

export function checkUserCurrent (user) {
  eq(user.ID, '1', 'user.current ID (a string)')
  eq(user.ACTIVE, true, 'user.current ACTIVE')
  check(typeof user.EMAIL === 'string', 'user.current EMAIL')
  eq(user.UF_DEPARTMENT, [1], 'user.current UF_DEPARTMENT')
}

export function checkScope (scopes) {
  check(Array.isArray(scopes) && scopes.includes('crm'), `scope must list crm: ${JSON.stringify(scopes)}`)
}

export function checkDuplicates (found, contactId) {
  eq(found, { CONTACT: [contactId] }, 'crm.duplicate.findbycomm by the contact\'s phone')
}
