// Limits and OAuth cases for the official JS SDK (@bitrix24/b24jssdk), through its actions.v2 API.
//
// Runs against a leadtrace server started for these cases (see conformance/LIMITS_OAUTH.md):
//   leadtrace app create --name conformance --scope crm,user --redirect-uri https://app.example.com/cb
//   leadtrace serve --tls --rate-limit 50/20 --access-token-ttl 5s ...
//
//   node limits_oauth_cases.mjs --webhook https://127.0.0.1:PORT/rest/1/CODE/ \
//     --client-id local.X --client-secret S --rate 50/20 --access-ttl 5 --results out.json [--only CASE ...]
//
// Cases:
// * burst_500 — 500 crm.lead.add calls started at once through B24Hook (its client-side bucket set a
//   quarter faster than the server's, so the server's 503 QUERY_LIMIT_EXCEEDED answers happen and are
//   retried by the SDK); afterwards exactly the 500 leads exist.
// * token_refresh — authorization code (user step scripted with the webhook's credentials), the code
//   exchange, then B24OAuth: reactive refresh (the SDK believes the token is valid, the server answers
//   401 expired_token, the SDK refreshes at {serverEndpoint minus /rest/}/oauth/token/ and repeats) and
//   proactive refresh (the SDK knows the token expired and refreshes first); app.info in app context.
//
// Writes {"b24jssdk/<case>": "pass"|"fail"} to --results after every case (like harness.mjs).
import { ApiVersion, B24Hook, B24OAuth } from '@bitrix24/b24jssdk'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { isDeepStrictEqual, inspect } from 'node:util'

const BURST = 500

function check (cond, msg) {
  if (!cond) throw new Error(msg)
}

function eq (actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${inspect(expected)}, got ${inspect(actual)}`)
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function parseArgs (argv) {
  const env = process.env
  const args = {
    webhook: env.LT_WEBHOOK,
    clientId: env.LT_CLIENT_ID,
    clientSecret: env.LT_CLIENT_SECRET,
    rate: env.LT_RATE ?? '50/20',
    accessTtl: Number(env.LT_ACCESS_TTL ?? '5'),
    results: null,
    only: []
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--webhook') args.webhook = argv[++i]
    else if (a === '--client-id') args.clientId = argv[++i]
    else if (a === '--client-secret') args.clientSecret = argv[++i]
    else if (a === '--rate') args.rate = argv[++i]
    else if (a === '--access-ttl') args.accessTtl = Number(argv[++i])
    else if (a === '--results') args.results = argv[++i]
    else if (a === '--only') while (argv[i + 1] && !argv[i + 1].startsWith('--')) args.only.push(argv[++i])
    else throw new Error(`unknown argument ${a}`)
  }
  if (!args.webhook || !args.clientId || !args.clientSecret || !args.results) {
    throw new Error('--webhook, --client-id, --client-secret (or LT_* variables) and --results are required')
  }
  return args
}

class Ctx {
  constructor (args, caseName) {
    this.args = args
    this.case = caseName
    this.webhook = args.webhook.replace(/\/+$/, '') + '/'
    const url = new URL(this.webhook)
    this.base = url.origin
    this.host = url.host
    const [, userId, code] = url.pathname.split('/').filter(Boolean)
    this.userId = userId
    this.webhookCode = code
    this.marker = `ct${randomBytes(4).toString('hex')}-b24jssdk-${caseName.replaceAll('_', '-')}`
    const [burst, rate] = args.rate.split('/').map(Number)
    this.burst = burst
    this.rate = rate
  }

  fields (i) {
    return { TITLE: `${this.marker} #${i}`, SOURCE_DESCRIPTION: this.marker }
  }

  // The user's step of the flow: /oauth/authorize/ with the webhook's credentials (aplogin = user
  // id, ap = webhook code) answers 302 to the redirect URI with ?code=...
  async authorizationCode () {
    const state = randomBytes(4).toString('hex')
    const url = new URL('/oauth/authorize/', this.base)
    for (const [k, v] of Object.entries({ client_id: this.args.clientId, state, aplogin: this.userId, ap: this.webhookCode })) {
      url.searchParams.set(k, v)
    }
    const r = await fetch(url, { redirect: 'manual' })
    eq(r.status, 302, `/oauth/authorize/ status (${(await r.text()).slice(0, 300)})`)
    const query = new URL(r.headers.get('location')).searchParams
    eq(query.get('state'), state, 'state echoed in the redirect')
    return query.get('code')
  }

  async token (params) {
    const body = new URLSearchParams({ ...params, client_id: this.args.clientId, client_secret: this.args.clientSecret })
    const r = await fetch(new URL('/oauth/token/', this.base), { method: 'POST', body })
    const answer = await r.json()
    eq(r.status, 200, `/oauth/token/ ${JSON.stringify(answer)}`)
    return answer
  }

  // Lead titles with this case's marker, read through the webhook (plain HTTP, paged).
  async leadsWithMarker () {
    const titles = []
    let start = 0
    for (;;) {
      const r = await fetch(`${this.webhook}crm.lead.list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filter: { SOURCE_DESCRIPTION: this.marker }, select: ['ID', 'TITLE'], order: { ID: 'ASC' }, start })
      })
      if (r.status === 503) { await sleep(1000); continue }
      const body = await r.json()
      check('result' in body, `crm.lead.list failed: ${JSON.stringify(body)}`)
      titles.push(...body.result.map((l) => l.TITLE))
      if (body.next === undefined) return titles
      start = body.next
    }
  }
}

async function make (b24, method, params) {
  const res = await b24.actions.v2.call.make({ method, params })
  check(res.isSuccess, `${method}: ${res.getErrorMessages().join('; ')}`)
  return res.getData().result
}

async function burst500 (ctx) {
  const b24 = B24Hook.fromWebhookUrl(ctx.webhook.replace(/\/+$/, ''), {
    restrictionParams: {
      // A quarter faster than the server: its 503 answers happen, and the SDK's retry handles them.
      rateLimit: { burstLimit: ctx.burst, drainRate: ctx.rate * 1.25, adaptiveEnabled: true }
    }
  })
  b24.offClientSideWarning()
  const ids = await Promise.all(Array.from({ length: BURST }, (_, i) => make(b24, 'crm.lead.add', { fields: ctx.fields(i) })))
  const stats = b24.getHttpClient(ApiVersion.v2).getStats()
  console.error(`  b24jssdk/burst_500: ${stats.retries} retries after 503 answers`)
  check(stats.retries > 0, `the server never answered 503 (is it running with --rate-limit ${ctx.args.rate}?)`)
  eq(new Set(ids.map(Number)).size, BURST, 'distinct ids returned by the adds')
  const titles = await ctx.leadsWithMarker()
  eq(titles.length, BURST, 'leads stored')
  eq(titles.sort(), Array.from({ length: BURST }, (_, i) => `${ctx.marker} #${i}`).sort(), 'every add stored exactly once')
}

// B24OAuth takes the token answer as given by /oauth/token/; `serverEndpoint` is where it refreshes:
// it POSTs to `${serverEndpoint without '/rest/'}/oauth/token/`, so our server_endpoint names its root.
function oauthClient (ctx, answer, expires) {
  const b24 = new B24OAuth({
    applicationToken: '',
    userId: answer.user_id,
    memberId: answer.member_id,
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expires,
    expiresIn: answer.expires_in,
    scope: answer.scope,
    domain: ctx.host,
    clientEndpoint: answer.client_endpoint,
    serverEndpoint: answer.server_endpoint,
    status: answer.status
  }, { clientId: ctx.args.clientId, clientSecret: ctx.args.clientSecret })
  b24.offClientSideWarning()
  return b24
}

async function tokenRefresh (ctx) {
  const answer = await ctx.token({ grant_type: 'authorization_code', code: await ctx.authorizationCode() })
  eq(answer.client_endpoint, `${ctx.base}/rest/`, 'client_endpoint')
  eq(answer.server_endpoint, `${ctx.base}/rest/`, 'server_endpoint')
  eq(answer.expires_in, ctx.args.accessTtl, "expires_in (the server's --access-token-ttl)")
  eq(answer.status, 'L', 'status')

  // Reactive: the SDK is told the token is valid for an hour; the server says otherwise.
  const refreshed = []
  const b24 = oauthClient(ctx, answer, Math.floor(Date.now() / 1000) + 3600)
  b24.setCallbackRefreshAuth(async ({ authData }) => { refreshed.push(authData.access_token) })
  await make(b24, 'crm.lead.add', { fields: ctx.fields(0) })
  const info = await make(b24, 'app.info', {})
  eq([info.CODE, info.STATUS, info.INSTALLED], [ctx.args.clientId, 'L', true], 'app.info in application context')
  await sleep((ctx.args.accessTtl + 1) * 1000)
  await make(b24, 'crm.lead.add', { fields: ctx.fields(1) })
  eq(refreshed.length, 1, 'refreshes after expired_token')
  check(refreshed[0] !== answer.access_token, 'a new access token')

  // Proactive: the SDK knows when the token expires and refreshes before calling.
  const second = await ctx.token({ grant_type: 'authorization_code', code: await ctx.authorizationCode() })
  const proactive = []
  const b24b = oauthClient(ctx, second, second.expires)
  b24b.setCallbackRefreshAuth(async ({ authData }) => { proactive.push(authData.access_token) })
  await make(b24b, 'crm.lead.add', { fields: ctx.fields(2) })
  await sleep((ctx.args.accessTtl + 1) * 1000)
  await make(b24b, 'crm.lead.add', { fields: ctx.fields(3) })
  eq(proactive.length, 1, 'refreshes of a token known to be expired')

  eq((await ctx.leadsWithMarker()).sort(), [0, 1, 2, 3].map((i) => `${ctx.marker} #${i}`), 'each add stored exactly once')
}

const CASES = [['burst_500', burst500], ['token_refresh', tokenRefresh]]

const args = parseArgs(process.argv.slice(2))
const results = {}
for (const [name, fn] of CASES) {
  if (args.only.length && !args.only.includes(name)) continue
  const key = `b24jssdk/${name}`
  const started = Date.now()
  try {
    await fn(new Ctx(args, name))
    results[key] = 'pass'
    console.error(`pass ${key} (${((Date.now() - started) / 1000).toFixed(1)}s)`)
  } catch (err) {
    results[key] = 'fail'
    console.error(`FAIL ${key} (${((Date.now() - started) / 1000).toFixed(1)}s): ${err?.name}: ${err?.message}`)
    console.error(err?.stack ?? String(err))
    const body = err?.originalError?.response?.data
    if (body !== undefined) console.error(`  response: ${JSON.stringify(body).slice(0, 2000)}`)
  }
  writeFileSync(args.results, JSON.stringify(results, null, 1))
}
