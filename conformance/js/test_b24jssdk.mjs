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

await suite.main()
