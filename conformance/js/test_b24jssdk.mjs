// Conformance cases driven by the official JS SDK (@bitrix24/b24jssdk), through its actions.v2 API.
import { AjaxError, ApiVersion, B24Hook } from '@bitrix24/b24jssdk'
import { Suite, check, eq, idsOf } from './harness.mjs'
import * as sc from './scenarios.mjs'
import { b24jssdkEventReceived } from './events_cases.mjs'
import * as tracking from './tracking_cases.mjs'

const suite = new Suite('b24jssdk')

function client (ctx) {
  const b24 = B24Hook.fromWebhookUrl(ctx.webhook.replace(/\/+$/, ''))
  b24.offClientSideWarning()
  return b24
}

async function call (b24, method, params) {
  const res = await b24.actions.v2.call.make({ method, params })
  check(res.isSuccess, `${method}: ${res.getErrorMessages().join('; ')}`)
  return res
}

const result = async (b24, method, params) => (await call(b24, method, params)).getData().result

suite.case('lead_crud', async (ctx) => {
  const b24 = client(ctx)
  const id = await result(b24, 'crm.lead.add', { fields: sc.crudFields(ctx) })
  sc.checkAddedId(id)

  const phones = sc.checkCreated(await result(b24, 'crm.lead.get', { id }), ctx, id)

  eq(await result(b24, 'crm.lead.update', { id, fields: sc.crudUpdateFields(ctx, phones) }), true, 'update result')
  sc.checkUpdated(await result(b24, 'crm.lead.get', { id }), ctx, id, phones)

  eq(await result(b24, 'crm.lead.delete', { id }), true, 'delete result')

  let error = null
  let got
  try {
    got = await result(b24, 'crm.lead.get', { id })
  } catch (err) {
    error = err
  }
  check(error !== null, `get after delete must throw, returned ${JSON.stringify(got)}`)
  check(error instanceof AjaxError, `get after delete must throw AjaxError, got ${error}`)
  eq(error.status, 400, 'HTTP status of get after delete')
  const body = error.originalError?.response?.data
  eq(body?.error, '', 'error code of get after delete (legacy CRM errors have an empty code)')
  eq(body?.error_description, 'Not found', 'error_description of get after delete')
})

suite.case('lead_filters', async (ctx) => {
  const b24 = client(ctx)
  const ids = {}
  for (const [name, fields] of sc.filterSeed(ctx)) {
    ids[name] = await result(b24, 'crm.lead.add', { fields })
    sc.checkAddedId(ids[name])
  }

  for (const [label, filter, names] of sc.filterChecks(ctx)) {
    const res = await call(b24, 'crm.lead.list', { filter, select: ['ID', 'TITLE'] })
    sc.checkFilterResult(label, res.getData().result, names, ids)
    eq(res.getTotal(), names.length, `filter ${label}: total`)
    eq(res.isMore(), false, `filter ${label}: no next on a single page`)
  }

  const filter = { SOURCE_DESCRIPTION: ctx.marker }
  sc.checkSelectResult(await result(b24, 'crm.lead.list', { filter, select: sc.SELECT_FIELDS }), ctx, ids)
  sc.checkOrder('OPPORTUNITY DESC', await result(b24, 'crm.lead.list', { filter, select: ['ID'], order: { OPPORTUNITY: 'DESC' } }),
    sc.ORDER_OPPORTUNITY_DESC, ids)
  sc.checkOrder('ID DESC', await result(b24, 'crm.lead.list', { filter, select: ['ID'], order: { ID: 'DESC' } }), 'DCBA', ids)
})

suite.case('lead_filters_unicode', async (ctx) => {
  const b24 = client(ctx)
  const id = await result(b24, 'crm.lead.add', { fields: sc.unicodeFields(ctx) })
  sc.checkUnicodeLead(await result(b24, 'crm.lead.get', { id }), ctx)
  for (const [label, filter] of sc.unicodeChecks(ctx)) {
    sc.checkUnicodeResult(label, await result(b24, 'crm.lead.list', { filter, select: ['ID'] }), id)
  }
})

suite.case('lead_paging_250', async (ctx) => {
  const b24 = client(ctx)
  const calls = Array.from({ length: sc.PAGING_COUNT }, (_, i) => ['crm.lead.add', { fields: sc.pagingFields(ctx, i) }])
  const seeded = await b24.actions.v2.batchByChunk.make({ calls, options: { isHaltOnError: true } })
  check(seeded.isSuccess, `batchByChunk: ${seeded.getErrorMessages().join('; ')}`)
  const created = seeded.getData()
  eq(new Set(created).size, sc.PAGING_COUNT, 'seeded ids')

  const filter = { SOURCE_DESCRIPTION: ctx.marker }
  const params = { filter, select: ['ID', 'TITLE'] }

  // Manual paging with AjaxResult.isMore()/getNext(): start = next.
  let page = await call(b24, 'crm.lead.list', params)
  eq(page.getTotal(), sc.PAGING_COUNT, 'first page total')
  eq(page.getData().result.length, 50, 'first page size')
  const manual = [...page.getData().result]
  let pages = 1
  while (page.isMore()) {
    page = await page.getNext(b24.getHttpClient(ApiVersion.v2))
    check(page && page.isSuccess, 'getNext failed')
    manual.push(...page.getData().result)
    check(++pages <= 10, 'too many pages')
  }
  sc.checkPaged('isMore/getNext', manual, created)
  eq(pages, 5, 'number of pages for 250 records')

  // Offsets: start=75 is rounded down to the page boundary; start=-1 skips counting. AjaxResult exposes
  // `next` only through getNext(), which repeats the call with start = next.
  const http = b24.getHttpClient(ApiVersion.v2)
  const p75 = await call(b24, 'crm.lead.list', { filter, select: ['ID'], start: 75 })
  const after75 = p75.isMore() ? await p75.getNext(http) : null
  sc.checkPage75('start=75', p75.getData().result, p75.getTotal(), after75?.getQuery().params.start, created)
  const pm1 = await call(b24, 'crm.lead.list', { filter, select: ['ID'], start: -1 })
  sc.checkPageMinusOne('start=-1', pm1.getData().result, pm1.getTotal(), pm1.isMore() ? 'present' : undefined, created)

  // callList: order ID ASC, filter >ID, start=-1 until a short page.
  const listed = await b24.actions.v2.callList.make({ method: 'crm.lead.list', params })
  check(listed.isSuccess, `callList: ${listed.getErrorMessages().join('; ')}`)
  sc.checkPaged('callList', listed.getData(), created)
  eq(idsOf(listed.getData()), [...created].sort((a, b) => a - b), 'callList order (ID ASC)')

  // fetchList: the same, yielding one chunk per page.
  const fetched = []
  const sizes = []
  for await (const chunk of b24.actions.v2.fetchList.make({ method: 'crm.lead.list', params })) {
    sizes.push(chunk.length)
    fetched.push(...chunk)
  }
  sc.checkPaged('fetchList', fetched, created)
  eq(sizes, [50, 50, 50, 50, 50], 'fetchList chunk sizes (exactly 50 per page)')
})

suite.case('batch_50_adds', async (ctx) => {
  const b24 = client(ctx)
  const calls = Array.from({ length: sc.BATCH_SIZE }, (_, i) => ['crm.lead.add', { fields: sc.batchAddFields(ctx, i) }])
  const res = await b24.actions.v2.batch.make({ calls, options: { isHaltOnError: true } })
  check(res.isSuccess, `batch: ${res.getErrorMessages().join('; ')}`)
  const ids = res.getData()
  const list = await call(b24, 'crm.lead.list', {
    filter: { SOURCE_DESCRIPTION: ctx.marker }, select: ['ID', 'TITLE', 'OPPORTUNITY', 'PHONE']
  })
  eq(list.getTotal(), sc.BATCH_SIZE, 'total of the created leads')
  eq(list.isMore(), false, 'exactly 50 records fit one page')
  sc.checkBatchAdds(ctx, ids, list.getData().result)
})

suite.case('batch_chained_refs', async (ctx) => {
  const b24 = client(ctx)
  const calls = Object.fromEntries(sc.chainedCommands(ctx).map(([key, method, params]) => [key, [method, params]]))
  const res = await b24.actions.v2.batch.make({ calls, options: { isHaltOnError: true, returnAjaxResult: true } })
  check(res.isSuccess, `batch: ${res.getErrorMessages().join('; ')}`)
  const byKey = res.getData()
  eq(Object.keys(byKey).sort(), Object.keys(calls).sort(), 'a result per command')
  const out = {}
  const totals = {}
  for (const [key, ajax] of Object.entries(byKey)) {
    check(ajax.isSuccess, `command ${key}: ${ajax.getErrorMessages().join('; ')}`)
    out[key] = ajax.getData().result
    totals[key] = ajax.getTotal()
    check(ajax.getData().time && typeof ajax.getData().time.start === 'number', `result_time[${key}] missing`)
  }
  sc.checkChained(ctx, out, totals)
})

suite.case('event_received', b24jssdkEventReceived)
tracking.register(suite, client)

// ================================================================ entity families

async function entityCrud (ctx, entity) {
  const b24 = client(ctx)
  const plan = sc.entityPlan(ctx, entity)
  const id = await result(b24, `crm.${entity}.add`, { fields: plan.add })
  sc.checkAddedId(id)
  sc.checkEntityAdded(entity, await result(b24, `crm.${entity}.get`, { id }), ctx, id)
  eq(await result(b24, `crm.${entity}.update`, { id, fields: plan.update }), true, `${entity}.update result`)
  sc.checkEntityUpdated(entity, await result(b24, `crm.${entity}.get`, { id }), ctx, id)
  const list = await call(b24, `crm.${entity}.list`, { filter: { COMMENTS: ctx.marker }, select: plan.select })
  sc.checkEntityList(entity, list.getData().result, ctx, id)
  eq(list.getTotal(), 1, `${entity}.list total`)
  eq(list.isMore(), false, `${entity}.list: no next`)
  // callList pages by >ID; the same single record.
  const listed = await b24.actions.v2.callList.make({ method: `crm.${entity}.list`, params: { filter: { COMMENTS: ctx.marker }, select: plan.select } })
  check(listed.isSuccess, `callList: ${listed.getErrorMessages().join('; ')}`)
  sc.checkEntityList(entity, listed.getData(), ctx, id)
  sc.checkEntityFields(entity, await result(b24, `crm.${entity}.fields`, {}), ctx)
  eq(await result(b24, `crm.${entity}.delete`, { id }), true, `${entity}.delete result`)
  let error = null
  try { await result(b24, `crm.${entity}.get`, { id }) } catch (err) { error = err }
  check(error instanceof AjaxError, `${entity}.get after delete must throw AjaxError, got ${error}`)
  eq(error.status, 400, `HTTP status of ${entity}.get after delete`)
  sc.notFoundText(error.originalError?.response?.data?.error_description)
}

for (const entity of ['deal', 'contact', 'company', 'quote']) suite.case(`${entity}_crud`, (ctx) => entityCrud(ctx, entity))

async function batchOf (b24, calls) {
  const res = await b24.actions.v2.batch.make({ calls, options: { isHaltOnError: true } })
  check(res.isSuccess, `batch: ${res.getErrorMessages().join('; ')}`)
  return res.getData()
}

suite.case('contact_bindings', async (ctx) => {
  const b24 = client(ctx)
  const m = ctx.marker
  const [c1, c2, deal, lead, company] = await batchOf(b24, [
    ['crm.contact.add', { fields: { NAME: 'One', COMMENTS: m } }],
    ['crm.contact.add', { fields: { NAME: 'Two', COMMENTS: m } }],
    ['crm.deal.add', { fields: { TITLE: `${m} bind`, COMMENTS: m } }],
    ['crm.lead.add', { fields: { TITLE: `${m} bind`, SOURCE_DESCRIPTION: m } }],
    ['crm.company.add', { fields: { TITLE: `${m} bind`, COMMENTS: m } }]
  ])
  const fields = await result(b24, 'crm.deal.contact.fields', {})
  check('CONTACT_ID' in fields && 'IS_PRIMARY' in fields, 'crm.deal.contact.fields')
  eq(await result(b24, 'crm.deal.contact.add', { id: deal, fields: { CONTACT_ID: c1, SORT: 20 } }), true, 'deal.contact.add c1')
  eq(await result(b24, 'crm.deal.contact.add', { id: deal, fields: { CONTACT_ID: c2, SORT: 10, IS_PRIMARY: 'Y' } }), true, 'deal.contact.add c2')
  sc.checkBindingItems('deal.contact.items.get', await result(b24, 'crm.deal.contact.items.get', { id: deal }), [[c2, 10, 'Y'], [c1, 20, 'N']])
  eq((await result(b24, 'crm.deal.get', { id: deal })).CONTACT_ID, String(c2), 'deal CONTACT_ID is the primary contact')
  eq(await result(b24, 'crm.deal.contact.delete', { id: deal, fields: { CONTACT_ID: c2 } }), true, 'deal.contact.delete c2')
  sc.checkBindingItems('deal after delete', await result(b24, 'crm.deal.contact.items.get', { id: deal }), [[c1, 20, 'Y']])

  // items.set through a batch (qs.stringify of a nested list).
  const [setOk, items] = await batchOf(b24, [
    ['crm.lead.contact.items.set', { id: lead, items: sc.bindingItems([[c1, 10, 'N'], [c2, 20, 'Y']]) }],
    ['crm.lead.contact.items.get', { id: lead }]
  ])
  eq(setOk, true, 'lead.contact.items.set')
  sc.checkBindingItems('lead.contact.items.get', items, [[c1, 10, 'N'], [c2, 20, 'Y']])
  eq((await result(b24, 'crm.lead.get', { id: lead })).CONTACT_ID, String(c2), 'lead CONTACT_ID')
  eq(await result(b24, 'crm.lead.contact.items.delete', { id: lead }), true, 'lead.contact.items.delete')
  eq(await result(b24, 'crm.lead.contact.items.get', { id: lead }), [], 'lead bindings after items.delete')

  eq(await result(b24, 'crm.company.contact.add', { id: company, fields: { CONTACT_ID: c1 } }), true, 'company.contact.add')
  sc.checkBindingItems('contact.company.items.get (the other side)', await result(b24, 'crm.contact.company.items.get', { id: c1 }), [[company, 10, 'Y']], 'COMPANY_ID')
})

suite.case('deal_productrows', async (ctx) => {
  const b24 = client(ctx)
  const deal = await result(b24, 'crm.deal.add', { fields: { TITLE: `${ctx.marker} rows`, COMMENTS: ctx.marker, OPPORTUNITY: 1 } })
  eq(await result(b24, 'crm.deal.productrows.set', { id: deal, rows: sc.PRODUCT_ROWS }), true, 'productrows.set')
  sc.checkProductRows(await result(b24, 'crm.deal.productrows.get', { id: deal }), deal)
  eq((await result(b24, 'crm.deal.get', { id: deal })).OPPORTUNITY, sc.PRODUCT_ROWS_OPPORTUNITY, 'OPPORTUNITY recomputed from the rows')
  // Through a batch: the rows survive qs.stringify, and $result references chain the get.
  const out = await batchOf(b24, {
    rows: ['crm.deal.productrows.get', { id: deal }],
    deal: ['crm.deal.get', { id: '$result[rows][0][OWNER_ID]' }]
  })
  sc.checkProductRows(out.rows, deal)
  eq(out.deal.OPPORTUNITY, sc.PRODUCT_ROWS_OPPORTUNITY, 'OPPORTUNITY through a batch')
  eq(await result(b24, 'crm.deal.productrows.set', { id: deal, rows: [] }), true, 'productrows.set []')
  eq(await result(b24, 'crm.deal.productrows.get', { id: deal }), [], 'rows after set []')
  eq((await result(b24, 'crm.deal.get', { id: deal })).OPPORTUNITY, sc.PRODUCT_ROWS_OPPORTUNITY, 'OPPORTUNITY kept with no rows')
})

suite.case('deal_userfields', async (ctx) => {
  const b24 = client(ctx)
  const ufIds = []
  try {
    for (const [i, defn] of sc.ufDefinitions(ctx).entries()) {
      const ufId = await result(b24, 'crm.deal.userfield.add', { fields: defn })
      check(Number.isInteger(ufId) && ufId > 0, `userfield.add id: ${ufId}`)
      ufIds.push(ufId)
      sc.checkUfDefinition(await result(b24, 'crm.deal.userfield.get', { id: ufId }), ctx, i)
    }
    const listed = await result(b24, 'crm.deal.userfield.list', { filter: { XML_ID: `${ctx.marker}-note` } })
    eq(listed.map(d => Number(d.ID)), ufIds.slice(0, 1), 'userfield.list by XML_ID')
    const deals = sc.ufDeals(ctx)
    const added = await batchOf(b24, Object.values(deals).map(fields => ['crm.deal.add', { fields }]))
    const ids = Object.fromEntries(Object.keys(deals).map((n, i) => [n, added[i]]))
    for (const [name, id] of Object.entries(ids)) sc.checkUfDeal(await result(b24, 'crm.deal.get', { id }), ctx, name)
    for (const [label, flt, names] of sc.ufChecks(ctx)) {
      const records = await b24.actions.v2.callList.make({ method: 'crm.deal.list', params: { filter: { COMMENTS: ctx.marker, ...flt }, select: ['ID', 'UF_*'] } })
      check(records.isSuccess, `callList ${label}: ${records.getErrorMessages().join('; ')}`)
      sc.checkUfList(label, records.getData(), names, ids)
    }
    const records = await result(b24, 'crm.deal.list', { filter: { COMMENTS: ctx.marker }, select: ['ID', 'UF_*'], order: { ID: 'ASC' } })
    eq(records.length, 2, 'deals with user fields')
    records.forEach((rec, i) => sc.checkUfDeal(rec, ctx, 'AB'[i], false))
  } finally {
    for (const id of ufIds) await result(b24, 'crm.deal.userfield.delete', { id })
  }
})

suite.case('lead_details_config', async (ctx) => {
  const b24 = client(ctx)
  try {
    sc.checkDefaultLayout(await result(b24, 'crm.lead.details.configuration.get', { scope: 'C' }))
    eq(await result(b24, 'crm.lead.details.configuration.set', { scope: 'P', data: sc.detailsLayout(ctx) }), true, 'details.configuration.set')
    sc.checkDetailsLayout(await result(b24, 'crm.lead.details.configuration.get', {}), ctx)
    sc.checkDetailsLayout(await result(b24, 'crm.lead.details.configuration.get', { scope: 'P', userId: 1 }), ctx)
  } finally {
    await result(b24, 'crm.lead.details.configuration.reset', { scope: 'P' })
  }
  sc.checkDefaultLayout(await result(b24, 'crm.lead.details.configuration.get', {}))
})

suite.case('item_crud', async (ctx) => {
  const b24 = client(ctx)
  const added = await result(b24, 'crm.item.add', { entityTypeId: 2, fields: sc.itemDealFields(ctx) })
  const id = added.item.id
  sc.checkItemDeal(added.item, ctx)
  sc.checkItemDeal((await result(b24, 'crm.item.get', { entityTypeId: 2, id })).item, ctx, id)
  sc.checkItemDealLegacy(await result(b24, 'crm.deal.get', { id }), ctx, id)
  const list = await call(b24, 'crm.item.list', { entityTypeId: 2, filter: { comments: ctx.marker }, select: sc.ITEM_SELECT })
  sc.checkItemList(list.getData().result.items, ctx, id)
  eq(list.getTotal(), 1, 'crm.item.list total')

  const contact = (await result(b24, 'crm.item.add', { entityTypeId: 3, fields: sc.itemContactFields(ctx) })).item
  sc.checkItemContact(contact, ctx)
  sc.checkItemContact((await result(b24, 'crm.item.get', { entityTypeId: 3, id: contact.id })).item, ctx, contact.id)

  const calls = Array.from({ length: sc.ITEM_PAGE_COUNT }, (_, i) => ['crm.item.add', { entityTypeId: 2, fields: sc.itemPageFields(ctx, i) }])
  const seeded = await b24.actions.v2.batchByChunk.make({ calls, options: { isHaltOnError: true } })
  check(seeded.isSuccess, `batchByChunk: ${seeded.getErrorMessages().join('; ')}`)
  const created = seeded.getData().map(r => r.item.id)
  eq(new Set(created).size, sc.ITEM_PAGE_COUNT, 'created item ids')
  const params = { entityTypeId: 2, filter: { comments: `${ctx.marker} paging` }, select: ['id', 'title'] }
  const listed = await b24.actions.v2.callList.make({ method: 'crm.item.list', params, idKey: 'id', customKeyForResult: 'items' })
  check(listed.isSuccess, `callList: ${listed.getErrorMessages().join('; ')}`)
  sc.checkItemPaged('callList crm.item.list', listed.getData(), created)
  eq(listed.getData().map(i => i.id), [...created].sort((a, b) => a - b), 'callList order (id ASC)')
  const fetched = []
  const sizes = []
  for await (const chunk of b24.actions.v2.fetchList.make({ method: 'crm.item.list', params, idKey: 'id', customKeyForResult: 'items' })) {
    sizes.push(chunk.length)
    fetched.push(...chunk)
  }
  sc.checkItemPaged('fetchList crm.item.list', fetched, created)
  eq(sizes, [50, 10], 'fetchList chunk sizes')
  // Paging by reference: the next window starts after $result[p0][items][49][id].
  const chained = await batchOf(b24, {
    p0: ['crm.item.list', { ...params, order: { id: 'ASC' }, start: -1 }],
    p1: ['crm.item.list', { ...params, order: { id: 'ASC' }, filter: { ...params.filter, '>id': '$result[p0][items][49][id]' }, start: -1 }]
  })
  const sorted = [...created].sort((a, b) => a - b)
  eq(chained.p0.items.map(i => i.id), sorted.slice(0, 50), 'batch page p0')
  eq(chained.p1.items.map(i => i.id), sorted.slice(50), 'batch page p1 (>id = $result[p0][items][49][id])')
})

suite.case('system_dictionaries', async (ctx) => {
  const b24 = client(ctx)
  sc.checkSourceList(await result(b24, 'crm.status.list', { filter: { ENTITY_ID: 'SOURCE' } }))
  const fields = sc.statusFields(ctx)
  const statusId = await result(b24, 'crm.status.add', { fields })
  check(Number.isInteger(statusId) && statusId > 0, `crm.status.add id: ${statusId}`)
  const filter = { ENTITY_ID: 'SOURCE', STATUS_ID: fields.STATUS_ID }
  sc.checkAddedStatus(await result(b24, 'crm.status.list', { filter }), ctx, statusId)
  eq(await result(b24, 'crm.status.delete', { id: statusId }), true, 'crm.status.delete')
  eq(await result(b24, 'crm.status.list', { filter }), [], 'status list after delete')

  const out = await batchOf(b24, {
    cur: ['crm.currency.list', {}],
    own: ['crm.enum.ownertype', {}],
    me: ['user.current', {}],
    scope: ['scope', {}]
  })
  sc.checkCurrencies(out.cur)
  sc.checkOwnertypes(out.own)
  sc.checkUserCurrent(out.me)
  sc.checkScope(out.scope)

  const contact = await result(b24, 'crm.contact.add', { fields: { NAME: 'Dup', COMMENTS: ctx.marker, PHONE: [{ VALUE: ctx.phone(11), VALUE_TYPE: 'WORK' }] } })
  sc.checkDuplicates(await result(b24, 'crm.duplicate.findbycomm', { type: 'PHONE', values: [ctx.phone(11)], entity_type: 'CONTACT' }), contact)
})

await suite.main()
