// Conformance case `event_received` for the JS client (@bitrix24/b24jssdk); mirrors
// conformance/py/events_cases.py: an event received by a local handler, end to end.
//
// 1. A local HTTP receiver (plain HTTP on 127.0.0.1:0) records every POST.
// 2. Through the webhook (B24Hook), `event.bind` is refused with 403 WRONG_AUTH_TYPE.
// 3. An access token is minted with `leadtrace token create`; through B24OAuth the application binds
//    ONCRMLEADADD to the receiver (`event.bind` -> true, `event.get` lists it).
// 4. An outgoing webhook for ONCRMLEADUPDATE is configured with `leadtrace event add`.
// 5. Through the webhook a lead is added and updated.
// 6. The application's ONCRMLEADADD arrives form-encoded with Bitrix24's fields, in order; its
//    `auth[...]` block becomes the SDK's B24OAuthParams ("we get from b24 event this data") and a
//    B24OAuth built from it calls back (`crm.lead.get`).
// 7. The outgoing webhook's ONCRMLEADUPDATE arrives with no tokens and the printed application token.
// 8. Clean-up: `event.unbind` -> {count: 1}, `leadtrace event remove`.
//
// Needs LT_BINARY (the leadtrace executable) and LT_DATABASE_URL (the running server's database).
// Wiring (test_b24jssdk.mjs):
//   import { b24jssdkEventReceived } from './events_cases.mjs'
//   suite.case('event_received', b24jssdkEventReceived)
// Run by hand:
//   LT_BINARY=... LT_DATABASE_URL=... NODE_EXTRA_CA_CERTS=... node events_cases.mjs \
//     --webhook https://127.0.0.1:PORT/rest/1/CODE/ --results out.json
import { AjaxError, B24Hook, B24OAuth } from '@bitrix24/b24jssdk'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { Suite, check, eq } from './harness.mjs'

const WAIT_MS = 20000
const HEX32 = /^[0-9a-f]{32}$/

// Bitrix24's order of fields (spec/events.md §3); an application's auth block also carries
// `expires` and `user_id`, which the official SDKs read.
const APP_KEYS = [
  'event', 'event_handler_id', 'data[FIELDS][ID]', 'ts',
  'auth[access_token]', 'auth[expires]', 'auth[expires_in]', 'auth[scope]', 'auth[domain]',
  'auth[server_endpoint]', 'auth[status]', 'auth[client_endpoint]', 'auth[member_id]',
  'auth[user_id]', 'auth[application_token]'
]
const WEBHOOK_KEYS = [
  'event', 'event_handler_id', 'data[FIELDS][ID]', 'ts',
  'auth[domain]', 'auth[client_endpoint]', 'auth[server_endpoint]', 'auth[member_id]',
  'auth[application_token]'
]

// ---------------------------------------------------------------- the local handler

async function startReceiver () {
  const got = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      got.push({ path: req.url, headers: req.headers, body, pairs: [...new URLSearchParams(body)] })
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      res.end('OK')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    url,
    got,
    async waitFor (path, event, leadId) {
      const deadline = Date.now() + WAIT_MS
      while (Date.now() < deadline) {
        const hit = got.find((r) => {
          const f = Object.fromEntries(r.pairs)
          return r.path === path && f.event === event && f['data[FIELDS][ID]'] === String(leadId)
        })
        if (hit) return hit
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`no ${event} for lead ${leadId} at ${path} within ${WAIT_MS} ms; got ${JSON.stringify(got)}`)
    },
    close: () => new Promise((resolve) => server.close(resolve))
  }
}

// ---------------------------------------------------------------- the server's CLI

function leadtrace (...args) {
  const binary = process.env.LT_BINARY
  const db = process.env.LT_DATABASE_URL
  check(binary && db, 'LT_BINARY and LT_DATABASE_URL must name the server\'s binary and database')
  return execFileSync(binary, args, { env: { ...process.env, DATABASE_URL: db }, encoding: 'utf8', timeout: 60000 }).trim()
}

// ---------------------------------------------------------------- clients

function oauthClient (params) {
  // Client id and secret are only used to refresh tokens, which never happens here.
  const b24 = new B24OAuth(params, { clientId: 'local.leadtrace.conformance', clientSecret: 'unused' })
  b24.offClientSideWarning()
  return b24
}

/** B24OAuthParams from an event's `auth[...]` block, as the SDK documents them. */
function paramsFromEvent (f) {
  return {
    applicationToken: f['auth[application_token]'],
    userId: Number(f['auth[user_id]']),
    memberId: f['auth[member_id]'],
    accessToken: f['auth[access_token]'],
    refreshToken: f['auth[refresh_token]'] ?? '',
    expires: Number(f['auth[expires]']),
    expiresIn: Number(f['auth[expires_in]']),
    scope: f['auth[scope]'],
    domain: f['auth[domain]'],
    clientEndpoint: f['auth[client_endpoint]'],
    serverEndpoint: f['auth[server_endpoint]'],
    status: f['auth[status]']
  }
}

async function result (b24, method, params) {
  const res = await b24.actions.v2.call.make({ method, params })
  check(res.isSuccess, `${method}: ${res.getErrorMessages().join('; ')}`)
  return res.getData().result
}

// ---------------------------------------------------------------- the case

export async function b24jssdkEventReceived (ctx) {
  const server = new URL(ctx.webhook)
  const base = `${server.protocol}//${server.host}`
  const hook = B24Hook.fromWebhookUrl(ctx.webhook.replace(/\/+$/, ''))
  hook.offClientSideWarning()
  const rx = await startReceiver()
  const appUrl = `${rx.url}/app`
  const hookUrl = `${rx.url}/hook`
  const app = oauthClient({
    applicationToken: '',
    userId: 1,
    memberId: '',
    accessToken: leadtrace('token', 'create', '--user', '1', '--scope', 'crm,user', '--ttl', '1h'),
    refreshToken: '',
    expires: Math.floor(Date.now() / 1000) + 3600,
    expiresIn: 3600,
    scope: 'crm,user',
    domain: server.host,
    clientEndpoint: `${base}/rest/`,
    serverEndpoint: `${base}/rest/`,
    status: 'L'
  })
  let webhookHandler = null
  try {
    let error = null
    try {
      await result(hook, 'event.bind', { event: 'ONCRMLEADADD', handler: appUrl })
    } catch (err) {
      error = err
    }
    check(error instanceof AjaxError, `event.bind through a webhook must throw AjaxError, got ${error}`)
    eq(error.status, 403, 'HTTP status of event.bind through a webhook')
    eq(error.originalError?.response?.data?.error, 'WRONG_AUTH_TYPE', 'error code of event.bind through a webhook')

    eq(await result(app, 'event.bind', { event: 'onCrmLeadAdd', handler: appUrl }), true, 'event.bind result')
    const handlers = await result(app, 'event.get', {})
    check(handlers.some((h) => h.event === 'ONCRMLEADADD' && h.handler === appUrl && h.auth_type === '0' && h.offline === 0),
      `event.get lists the handler: ${JSON.stringify(handlers)}`)
    const [id, token] = leadtrace('event', 'add', '--event', 'ONCRMLEADUPDATE', '--handler', hookUrl).split('\t')
    webhookHandler = id

    const leadId = await result(hook, 'crm.lead.add', { fields: { TITLE: `${ctx.marker} event` } })
    eq(await result(hook, 'crm.lead.update', { id: leadId, fields: { TITLE: `${ctx.marker} event 2` } }), true, 'update')

    // The application's event: Bitrix24's fields in order, our portal's values.
    let received = await rx.waitFor('/app', 'ONCRMLEADADD', leadId)
    eq(received.pairs.map(([k]) => k), APP_KEYS, 'fields of an application\'s event, in order')
    check(received.body.includes('%5B'), 'brackets must be percent-encoded (http_build_query)')
    eq(received.headers['content-type'], 'application/x-www-form-urlencoded', 'Content-Type')
    check(HEX32.test(received.headers['x-leadtrace-event-id'] ?? ''), 'X-Leadtrace-Event-Id')
    let f = Object.fromEntries(received.pairs)
    eq(f['auth[domain]'], server.host, 'auth[domain]')
    eq(f['auth[client_endpoint]'], `${base}/rest/`, 'auth[client_endpoint]')
    eq(f['auth[server_endpoint]'], `${base}/rest/`, 'auth[server_endpoint]')
    eq([f['auth[status]'], f['auth[user_id]'], f['auth[expires_in]'], f['auth[scope]']], ['L', '1', '3600', 'crm,user'],
      'auth[status], auth[user_id], auth[expires_in], auth[scope]')
    check(HEX32.test(f['auth[member_id]']) && HEX32.test(f['auth[application_token]']), 'member_id and application_token')
    // The SDK's OAuth client, built from the event's auth block, calls back.
    const back = oauthClient(paramsFromEvent(f))
    eq((await result(back, 'crm.lead.get', { id: leadId })).TITLE, `${ctx.marker} event 2`, 'crm.lead.get with the event\'s token')

    // The outgoing webhook's event: no tokens, the printed application token.
    received = await rx.waitFor('/hook', 'ONCRMLEADUPDATE', leadId)
    eq(received.pairs.map(([k]) => k), WEBHOOK_KEYS, 'fields of an outgoing webhook\'s event, in order')
    f = Object.fromEntries(received.pairs)
    eq(f.event_handler_id, id, 'event_handler_id (the ID `event add` printed)')
    eq(f['auth[application_token]'], token, 'auth[application_token] (printed by `event add`)')
    eq(f['auth[domain]'], server.host, 'auth[domain]')

    eq(await result(app, 'event.unbind', { event: 'ONCRMLEADADD', handler: appUrl }), { count: 1 }, 'event.unbind result')
  } finally {
    if (webhookHandler !== null) leadtrace('event', 'remove', webhookHandler)
    await rx.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const suite = new Suite('events')
  suite.case('b24jssdk_event_received', b24jssdkEventReceived)
  await suite.main()
}
