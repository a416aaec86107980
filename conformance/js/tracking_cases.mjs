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
  }
}

/** Adds every case to a harness Suite; `client(ctx)` returns the B24Hook to use. */
export function register (suite, client) {
  for (const [name, fn] of Object.entries(CASES)) {
    suite.case(name, (ctx) => fn(ctx, client(ctx)))
  }
}
