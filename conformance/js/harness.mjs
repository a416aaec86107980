// Tiny case runner for the JS client; mirrors conformance/py/harness.py.
//   node test_x.mjs --webhook https://127.0.0.1:PORT/rest/1/CODE/ --results out.json [--only CASE ...]
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { isDeepStrictEqual, inspect } from 'node:util'

const ISO_DT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/
const MULTIFIELDS = ['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK']

export function check (cond, msg) {
  if (!cond) throw new Error(msg)
}

export function eq (actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${inspect(expected, { depth: 6 })}, got ${inspect(actual, { depth: 6 })}`)
  }
}

export const sortNum = (a) => [...a].sort((x, y) => x - y)
export const idsOf = (records) => records.map(r => Number(r.ID))

export function checkMultifield (lead, field, expected) {
  check(field in lead, `${field} missing from lead ${lead.ID}`)
  const items = lead[field]
  check(Array.isArray(items), `${field} must be a JSON list, got ${inspect(items)}`)
  eq(items.length, expected.length, `number of ${field} values (${inspect(items)})`)
  items.forEach((item, i) => {
    const [vtype, value] = expected[i]
    eq(Object.keys(item).sort(), ['ID', 'TYPE_ID', 'VALUE', 'VALUE_TYPE'], `${field} element keys`)
    check(typeof item.ID === 'string' && /^\d+$/.test(item.ID), `${field} ID must be a digit string: ${inspect(item)}`)
    eq(item.TYPE_ID, field, `${field} TYPE_ID`)
    eq(item.VALUE_TYPE, vtype, `${field} VALUE_TYPE`)
    eq(item.VALUE, value, `${field} VALUE`)
  })
  const ids = items.map(i => Number(i.ID))
  eq(ids, sortNum(ids), `${field} elements ordered by ID`)
  return items
}

export function checkLegacyLead (lead) {
  check(lead && typeof lead === 'object' && !Array.isArray(lead), 'lead must be an object')
  for (const [key, value] of Object.entries(lead)) {
    if (MULTIFIELDS.includes(key)) {
      check(Array.isArray(value) && value.length > 0, `${key} present but not a non-empty list`)
      continue
    }
    check(value === null || typeof value === 'string', `field ${key} must be a string or null, got ${inspect(value)}`)
  }
  check(typeof lead.ID === 'string' && /^\d+$/.test(lead.ID), `ID must be a digit string: ${inspect(lead.ID)}`)
  for (const key of ['DATE_CREATE', 'DATE_MODIFY']) {
    check(ISO_DT.test(lead[key] ?? ''), `${key} must be ISO-8601 with offset: ${inspect(lead[key])}`)
  }
  eq(lead.DATE_CLOSED, '', 'DATE_CLOSED (empty date is "")')
  check(typeof lead.CURRENCY_ID === 'string' && lead.CURRENCY_ID.length > 0, 'CURRENCY_ID must be non-empty')
}

class Ctx {
  constructor (client, caseName, webhook) {
    this.client = client
    this.case = caseName
    this.webhook = webhook
    this.marker = `ct${randomBytes(4).toString('hex')}-${client}-${caseName.replaceAll('_', '-')}`
  }

  phone (n) {
    const digits = parseInt(this.marker.slice(2, 10), 16) % 1e8
    return `+7${String(digits).padStart(8, '0')}${String(n).padStart(3, '0')}`
  }
}

function parseArgs (argv) {
  const args = { webhook: process.env.LT_WEBHOOK, results: null, only: [] }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--webhook') args.webhook = argv[++i]
    else if (argv[i] === '--results') args.results = argv[++i]
    else if (argv[i] === '--only') while (argv[i + 1] && !argv[i + 1].startsWith('--')) args.only.push(argv[++i])
    else throw new Error(`unknown argument ${argv[i]}`)
  }
  if (!args.webhook || !args.results) throw new Error('--webhook (or LT_WEBHOOK) and --results are required')
  return args
}

function describeError (err) {
  // AjaxError keeps the axios error (with the server's body) as a non-enumerable originalError.
  const body = err?.originalError?.response?.data
  if (body !== undefined) return JSON.stringify(body).slice(0, 2000)
  return null
}

export class Suite {
  constructor (client) {
    this.client = client
    this.cases = []
  }

  case (name, fn) {
    this.cases.push([name, fn])
  }

  async main () {
    const args = parseArgs(process.argv.slice(2))
    const results = {}
    for (const [name, fn] of this.cases) {
      if (args.only.length && !args.only.includes(name)) continue
      const key = `${this.client}/${name}`
      const started = Date.now()
      try {
        await fn(new Ctx(this.client, name, args.webhook))
        results[key] = 'pass'
        console.error(`pass ${key} (${((Date.now() - started) / 1000).toFixed(1)}s)`)
      } catch (err) {
        results[key] = 'fail'
        console.error(`FAIL ${key} (${((Date.now() - started) / 1000).toFixed(1)}s): ${err?.name}: ${err?.message}`)
        console.error(err?.stack ?? String(err))
        const extra = describeError(err)
        if (extra) console.error(`  response: ${extra}`)
      }
      writeFileSync(args.results, JSON.stringify(results, null, 1))
    }
  }
}
