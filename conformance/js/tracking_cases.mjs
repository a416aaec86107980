// Sales Intelligence cases (spec/sales-intelligence.md §2–3) for the JS client; mirrors
// conformance/py/tracking_cases.py. test_b24jssdk.mjs registers them with
// `tracking.register(suite, client)` (`client(ctx)` returns a B24Hook).
import { AjaxError } from '@bitrix24/b24jssdk'
import { check, eq } from './harness.mjs'

// A trace as the website tracker (b24Tracker.guest.getTrace()) produces it: a JSON *string*.
export const TRACKER = JSON.stringify({
  url: 'https://shop.example/landing?utm_source=google',
  ref: 'https://www.google.com/',
  device: { isMobile: false },
  tags: { ts: 1579501926, list: { utm_source: 'google', utm_medium: 'cpc' }, gclid: null },
  client: { gaId: '209629315.1579004207' },
  pages: { list: [['https://shop.example/landing', 1579501926, 'Landing']] },
  gid: null,
  previous: { list: [{ url: 'https://shop.example/', ref: 'https://www.facebook.com/', tags: { ts: 1579000000, list: {} } }] }
})
export const VK_TRACE = '{"tags":{"list":{"utm_source":"vk"}}}'

const TYPES = 'Wrong TYPE in parameter `ENTITIES`. Allowed types: COMPANY,CONTACT,DEAL,LEAD,QUOTE'
// [params, error_description] of crm.tracking.trace.add; every one is HTTP 400 ERROR_CORE.
export const TRACE_ADD_ERRORS = [
  [{}, 'Parameter `TRACE` required.'],
  [{ TRACE: '' }, 'Parameter `TRACE` required.'],
  [{ TRACE: '{oops' }, 'Can not parse JSON in parameter `TRACE`.'],
  [{ TRACE: VK_TRACE, ENTITIES: [{ TYPE: 'SPA', ID: 1 }] }, TYPES],
  [{ TRACE: VK_TRACE, ENTITIES: [{ TYPE: 'LEAD', ID: 'x' }] }, 'Wrong ID in parameter `ENTITIES`.'],
  [{ TRACE: VK_TRACE, ENTITIES: [{ TYPE: 'LEAD', ID: 1999999999 }] }, 'You have no access to entity `LEAD` with ID `1999999999`.']
]

async function result (b24, method, params) {
  const res = await b24.actions.v2.call.make({ method, params })
  check(res.isSuccess, `${method}: ${res.getErrorMessages().join('; ')}`)
  return res.getData().result
}

/** A call that must fail: [HTTP status, error, error_description]. */
async function failure (b24, method, params) {
  let got
  try {
    got = await result(b24, method, params)
  } catch (err) {
    check(err instanceof AjaxError, `${method} must throw AjaxError, got ${err}`)
    const body = err.originalError?.response?.data
    return [err.status, body?.error, body?.error_description]
  }
  throw new Error(`${method} must fail, returned ${JSON.stringify(got)}`)
}

const journey = (b24, id) => result(b24, 'leadtrace.tracking.entity.get', { TYPE: 'LEAD', ID: id })
const traceIds = (j) => j.TRACES.map(t => t.ID)

function checkId (value, what) {
  check(Number.isInteger(value) && value > 0, `${what} must be a positive JSON integer, got ${JSON.stringify(value)}`)
}

export const CASES = {
  // TRACE on crm.lead.add: the tracker's JSON string, then the number of a trace.
  async trace_on_lead_add (ctx, b24) {
    const lead = await result(b24, 'crm.lead.add', { fields: { TITLE: `${ctx.marker} trace`, TRACE: TRACKER } })
    checkId(lead, 'crm.lead.add')
    const j = await journey(b24, lead)
    eq(j.SOURCE.CODE, 'google', 'source of the lead\'s trace')
    const t = j.TRACES[0]
    eq(t.CHANNEL_GROUP.CODE, 'paid_search', 'channel group')
    eq(t.CHANNELS.map(c => c.CODE), ['site', 'rest'], 'channels')
    eq(t.PAGES.map(p => p.URL), ['https://www.google.com/', 'https://shop.example/landing'], 'pages')
    eq(t.PREVIOUS[0].SOURCE.CODE, 'fb', 'source of the previous visit')

    const traceId = await result(b24, 'crm.tracking.trace.add', { TRACE: VK_TRACE })
    checkId(traceId, 'crm.tracking.trace.add')
    const lead2 = await result(b24, 'crm.lead.add', { fields: { TITLE: `${ctx.marker} numeric`, TRACE: String(traceId) } })
    eq(traceIds(await journey(b24, lead2)), [traceId], 'a numeric TRACE binds that trace')
  },

  // TRACE on crm.deal.add, crm.contact.add, crm.company.add and crm.quote.add (spec §3).
  async trace_on_each_add (ctx, b24) {
    for (const [method, kind, fields] of [
      ['crm.deal.add', 'DEAL', { TITLE: `${ctx.marker} deal` }],
      ['crm.contact.add', 'CONTACT', { NAME: `${ctx.marker} contact` }],
      ['crm.company.add', 'COMPANY', { TITLE: `${ctx.marker} company` }],
      ['crm.quote.add', 'QUOTE', { TITLE: `${ctx.marker} quote` }]
    ]) {
      const record = await result(b24, method, { fields: { ...fields, TRACE: TRACKER } })
      checkId(record, method)
      const j = await result(b24, 'leadtrace.tracking.entity.get', { TYPE: kind, ID: record })
      eq(j.SOURCE.CODE, 'google', `source of the ${kind} trace`)
      eq(j.TRACES[0].UTM.UTM_MEDIUM, 'cpc', `UTM_MEDIUM of the ${kind} trace`)
      eq(j.TRACES[0].PAGES.map(p => p.URL), ['https://www.google.com/', 'https://shop.example/landing'], `pages of the ${kind} trace`)
    }
  },

  // crm.tracking.trace.add with ENTITIES binds; crm.tracking.trace.delete answers null and unbinds.
  async trace_add_delete (ctx, b24) {
    const lead = await result(b24, 'crm.lead.add', { fields: { TITLE: `${ctx.marker} bind`, UTM_SOURCE: 'google' } })
    const traceId = await result(b24, 'crm.tracking.trace.add', { TRACE: VK_TRACE, ENTITIES: [{ TYPE: 'LEAD', ID: lead }] })
    checkId(traceId, 'crm.tracking.trace.add')
    let j = await journey(b24, lead)
    eq(traceIds(j)[0], traceId, 'the new trace is the lead\'s effective trace')
    eq(j.SOURCE.CODE, 'vk', 'source')
    eq(await result(b24, 'crm.tracking.trace.delete', { id: traceId }), null, 'crm.tracking.trace.delete result')
    j = await journey(b24, lead)
    check(!traceIds(j).includes(traceId), `trace ${traceId} still bound: ${traceIds(j)}`)
    eq(j.SOURCE.CODE, 'google', 'falls back to the earlier trace')
  },

  // Every documented error text of crm.tracking.trace.add/delete (HTTP 400, ERROR_CORE).
  async trace_errors (ctx, b24) {
    for (const [params, text] of TRACE_ADD_ERRORS) {
      eq(await failure(b24, 'crm.tracking.trace.add', params), [400, 'ERROR_CORE', text], `error for ${JSON.stringify(params)}`)
    }
    eq(await failure(b24, 'crm.tracking.trace.delete', { id: 0 }), [400, 'ERROR_CORE', 'Parameter `id` required.'],
      'trace.delete without id')
  },

  // Extensions (E16-E19): a source, a channel override rule, an expense pack and the report over them.
  async si_report (ctx, b24) {
    const tag = ctx.marker.slice(0, 10) // "ct" + 8 hex digits: unique per run
    const DAY = 86400000
    const iso = (t) => new Date(t).toISOString().slice(0, 10)
    const now = Date.now()
    const yesterday = iso(now - DAY)
    const tomorrow = iso(now + DAY)

    const source = await result(b24, 'leadtrace.tracking.source.add', { fields: { NAME: `Conformance ${tag}`, CODE: tag, UTM_SOURCE: [tag] } })
    checkId(source, 'leadtrace.tracking.source.add')
    const rule = await result(b24, 'leadtrace.tracking.channel.rule.add', { fields: { NAME: tag, CHANNEL_GROUP: 'email', UTM_SOURCE: [tag] } })
    checkId(rule, 'leadtrace.tracking.channel.rule.add')
    // 100.00 over three days: 33.34 on the first day, 33.33 on the others (spec §12.2).
    const pack = await result(b24, 'leadtrace.tracking.expense.add', {
      fields: { SOURCE_ID: source, DATE_FROM: yesterday, DATE_TO: tomorrow, AMOUNT: '100.00', IMPRESSIONS: 10, ACTIONS: 4 }
    })
    checkId(pack, 'leadtrace.tracking.expense.add')
    const got = await result(b24, 'leadtrace.tracking.expense.get', { id: pack })
    eq(got.DAYS.map(d => d.AMOUNT), [33.34, 33.33, 33.33], 'daily split of the pack')
    eq(got.DAYS.map(d => d.IMPRESSIONS), [4, 3, 3], 'daily impressions')

    const leads = []
    for (const i of [0, 1]) {
      leads.push(await result(b24, 'crm.lead.add', { fields: { TITLE: `${ctx.marker} ${i}`, UTM_SOURCE: tag } }))
    }
    const j = await journey(b24, leads[0])
    eq(j.SOURCE.CODE, tag, 'the lead\'s source')
    eq(j.TRACES[0].CHANNEL_GROUP.CODE, 'email', 'the override rule set the channel group')
    const deal = await result(b24, 'crm.deal.add', { fields: { TITLE: `${ctx.marker} won`, UTM_SOURCE: tag, STAGE_ID: 'WON', OPPORTUNITY: 300 } })
    checkId(deal, 'crm.deal.add')

    for (const model of ['bitrix', 'linear']) {
      const report = await result(b24, 'leadtrace.tracking.report.get', { from: yesterday, to: tomorrow, model })
      eq(report.model, model, 'model echoed')
      const rows = report.rows.filter(r => r.source_id === source)
      eq(rows.length, 1, `one row for source ${source} (${model})`)
      const keys = ['source_code', 'leads', 'deals', 'closed_deals', 'revenue', 'expenses', 'impressions', 'actions', 'cpl', 'cpa', 'roi', 'lead_to_deal', 'deal_to_won']
      eq(Object.fromEntries(keys.map(k => [k, rows[0][k]])), {
        source_code: tag, leads: 2, deals: 1, closed_deals: 1, revenue: 300, expenses: 100, impressions: 10, actions: 4, cpl: 50, cpa: 100, roi: 2, lead_to_deal: 0.5, deal_to_won: 1
      }, `report row (${model})`)
    }

    const [status, code, description] = await failure(b24, 'leadtrace.tracking.report.get', { model: 'u_shaped' })
    eq([status, code], [400, 'INVALID_ARG_VALUE'], 'error of an unknown model')
    check((description || '').includes('u_shaped'), `the error names the model: ${description}`)

    eq(await result(b24, 'leadtrace.tracking.channel.rule.delete', { id: rule }), true, 'channel.rule.delete')
    eq(await result(b24, 'leadtrace.tracking.source.delete', { id: source }), true, 'source.delete')
    const [, gone] = await failure(b24, 'leadtrace.tracking.expense.get', { id: pack })
    check(gone !== undefined, 'the source\'s expense pack went with it')
  }
}

/** Adds every case to a harness Suite; `client(ctx)` returns the B24Hook to use. */
export function register (suite, client) {
  for (const [name, fn] of Object.entries(CASES)) {
    suite.case(name, (ctx) => fn(ctx, client(ctx)))
  }
}
