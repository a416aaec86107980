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
