// The /dashboard page in Chromium against the real server (run by e2e/run; see CONTRACTS.md):
// seeds leads, deals (one won, with touches from two sources) and expenses through REST, asks
// `leadtrace.tracking.report.get` itself, logs in to /dashboard with the inbound webhook, sets the
// date range, and checks that every rendered cell equals the method's number for four models and
// for the channel grouping; downloads the CSV and checks it; shows an API error; logs out.
// Screenshot: $LT_OUT/dashboard.png.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { env, rest, run } from '../lib/harness.mjs';

const BASE = env.base;
const WEBHOOK = env.webhook;
const OUT = env.out;

// The metric columns of the page, in the report contract's names.
const METRICS = ['visits', 'leads', 'leads_sum', 'converted_leads', 'deals', 'deals_sum', 'closed_deals', 'revenue',
  'expenses', 'impressions', 'actions', 'cpl', 'cpa', 'roi', 'lead_to_deal', 'deal_to_won'];
const MONEY = new Set(['leads_sum', 'deals_sum', 'revenue', 'expenses', 'cpl', 'cpa']);
const RATIO = new Set(['roi', 'lead_to_deal', 'deal_to_won']);

const day = (offset) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10);

// The number a cell's text shows ("1,234.50", "66.67 %", "—"), back in the method's units.
function shown(metric, text) {
  if (text === '—' || text === '') return null;
  const n = Number(text.replace(/ %$/, '').replace(/,/g, '').replace('−', '-'));
  assert.ok(Number.isFinite(n), `cell ${metric} shows "${text}"`);
  return RATIO.has(metric) ? n / 100 : n;
}

function expectCell(where, metric, apiValue, cell) {
  const v = apiValue === undefined ? null : apiValue;
  assert.equal(cell.value, v === null ? '' : String(v), `${where} ${metric}: data-value`);
  const n = shown(metric, cell.text);
  if (v === null) {
    assert.equal(n, null, `${where} ${metric}: "${cell.text}" for null`);
    return;
  }
  // Money is shown with 2 places, ratios as percent with 2 places, counts as they are.
  const tolerance = MONEY.has(metric) ? 0.005 : RATIO.has(metric) ? 0.00005 : 1e-9;
  assert.ok(Math.abs(n - v) <= tolerance, `${where} ${metric}: shows "${cell.text}", the method says ${v}`);
}

// Every metric cell of the table: { rowKey: { metric: {value, text} } }.
async function readTable(page) {
  return page.$$eval('#report-table tr[data-row-key]', (rows) => {
    const out = {};
    for (const tr of rows) {
      const cells = {};
      for (const td of tr.querySelectorAll('td[data-metric]')) {
        cells[td.dataset.metric] = { value: td.dataset.value, text: td.textContent.trim() };
      }
      out[tr.dataset.rowKey] = { label: tr.querySelector('th')?.textContent.trim(), cells };
    }
    return out;
  });
}

function compare(report, table, groupBy) {
  const keys = Object.keys(table).filter((k) => k !== 'total' && !k.includes(':user:'));
  assert.equal(keys.length, report.rows.length, 'one table row per report row');
  for (const row of report.rows) {
    const key = groupBy === 'channel' ? `channel:${row.channel}` : `source:${row.source_id}`;
    assert.ok(table[key], `row ${key} is shown`);
    const name = groupBy === 'channel' ? row.channel_name : row.source_name;
    assert.ok(table[key].label.startsWith(name), `row ${key} is labelled "${name}", not "${table[key].label}"`);
    for (const m of METRICS) expectCell(key, m, row[m], table[key].cells[m]);
  }
  for (const m of METRICS) expectCell('total', m, report.total[m], table.total.cells[m]);
}

async function waitForReport(page, f) {
  await page.waitForFunction((f) => {
    const app = document.getElementById('app');
    const t = document.getElementById('report-table');
    return app.dataset.state === 'ready' && t.dataset.from === f.from && t.dataset.to === f.to &&
      t.dataset.model === f.model && t.dataset.groupBy === f.groupBy && t.dataset.byResponsible === f.byResponsible;
  }, f, { timeout: 20_000 });
}

function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r') { /* CRLF */ } else if (c === '\n') {
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function seed() {
  const now = Math.floor(Date.now() / 1000);
  // A visit two days ago from Facebook, then the Google Ads click that made the record.
  const trace = JSON.stringify({
    url: 'https://shop.example/landing?utm_source=google',
    tags: { ts: now, list: { utm_source: 'google', utm_medium: 'cpc' } },
    previous: { list: [{ url: 'https://shop.example/', ref: 'https://www.facebook.com/', tags: { ts: now - 2 * 86400, list: {} } }] },
  });
  const leads = [
    { TITLE: 'Dashboard lead google 1', UTM_SOURCE: 'google', UTM_MEDIUM: 'cpc', OPPORTUNITY: 120, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard lead google 2', UTM_SOURCE: 'google', OPPORTUNITY: 80.5, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard lead facebook', UTM_SOURCE: 'facebook', OPPORTUNITY: 40, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard lead vk', UTM_SOURCE: 'vk', OPPORTUNITY: 0 },
    { TITLE: 'Dashboard lead with touches', TRACE: trace, OPPORTUNITY: 60, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard lead organic' },
  ];
  for (const fields of leads) await rest('crm.lead.add', { fields });
  const deals = [
    { TITLE: 'Dashboard deal won google', UTM_SOURCE: 'google', STAGE_ID: 'WON', OPPORTUNITY: 1500, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard deal won with touches', TRACE: trace, STAGE_ID: 'WON', OPPORTUNITY: 1000, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard deal open facebook', UTM_SOURCE: 'facebook', OPPORTUNITY: 700, CURRENCY_ID: 'USD' },
    { TITLE: 'Dashboard deal lost vk', UTM_SOURCE: 'vk', STAGE_ID: 'LOSE', OPPORTUNITY: 300, CURRENCY_ID: 'USD' },
  ];
  for (const fields of deals) await rest('crm.deal.add', { fields });
  const methods = await rest('methods', { full: true });
  let expenses = false;
  if (methods.includes('leadtrace.tracking.expense.add')) {
    await rest('leadtrace.tracking.expense.add', { fields: { SOURCE_ID: 'google', DATE_FROM: day(-3), DATE_TO: day(-1), AMOUNT: 450, CURRENCY_ID: 'USD', IMPRESSIONS: 9000, ACTIONS: 300 } });
    await rest('leadtrace.tracking.expense.add', { fields: { SOURCE_ID: 'fb', DATE_FROM: day(-2), AMOUNT: 99.99, CURRENCY_ID: 'USD', IMPRESSIONS: 1200, ACTIONS: 35 } });
    expenses = true;
  }
  return { expenses };
}

run('dashboard', async (ctx) => {
  const { expenses } = await seed();
  const range = { from: day(-30), to: day(1) };
  const report = async (model, groupBy = 'source', byResponsible = 'N') =>
    rest('leadtrace.tracking.report.get', { ...range, model, groupBy, byResponsible });
  const f = { ...range, model: 'bitrix', groupBy: 'source', byResponsible: 'N' };

  const bitrix = await report('bitrix');
  const google = bitrix.rows.find((r) => r.source_code === 'google');
  const fb = bitrix.rows.find((r) => r.source_code === 'fb');
  await ctx.check('the seeded records reach the report under two sources', async () => {
    assert.ok(google && google.leads >= 3 && google.closed_deals >= 2 && google.revenue >= 2500, `google row: ${JSON.stringify(google)}`);
    assert.ok(fb && fb.leads >= 1 && fb.deals >= 1, `facebook row: ${JSON.stringify(fb)}`);
    if (expenses) assert.ok(google.expenses >= 450 && fb.expenses >= 99.99, 'expenses reach the report');
    else console.log('  (no leadtrace.tracking.expense.add on this server: expenses not seeded)');
    const first = (await report('first_touch')).rows.find((r) => r.source_code === 'fb');
    const last = (await report('last_touch')).rows.find((r) => r.source_code === 'fb');
    assert.ok(first.revenue > last.revenue, 'first touch credits the Facebook visit of the won deal');
  });

  const page = await ctx.newPage({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

  await ctx.check('/dashboard is an HTML page showing the login form', async () => {
    const res = await page.goto(`${BASE}/dashboard`);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^text\/html/);
    assert.match(res.headers()['content-security-policy'], /script-src 'self'/);
    await page.waitForSelector('#login:not([hidden])');
  });

  await ctx.check('a bad webhook URL is refused readably', async () => {
    await page.fill('#webhook-url', 'not a webhook');
    await page.click('#login-button');
    await page.waitForFunction(() => /not an inbound webhook URL/.test(document.getElementById('login-error').textContent));
    await page.fill('#webhook-url', WEBHOOK.replace(/\/[^/]+\/$/, '/wrongcode/'));
    await page.click('#login-button');
    await page.waitForFunction(() => /^HTTP 401/.test(document.getElementById('login-error').textContent));
    assert.ok(await page.isHidden('#app'));
  });

  await ctx.check('logs in with the inbound webhook; the default range is the last 30 days', async () => {
    await page.fill('#webhook-url', WEBHOOK);
    await page.click('#login-button');
    await page.waitForSelector('#app:not([hidden])');
    const stored = await page.evaluate(() => sessionStorage.getItem('leadtrace.dashboard.auth'));
    assert.ok(stored && stored.includes(new URL(WEBHOOK).pathname), 'credentials kept in sessionStorage');
    const [from, to] = await page.evaluate(() => {
      const p = (x) => String(x).padStart(2, '0');
      const iso = (d) => `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
      const d = new Date();
      const to = iso(d);
      d.setDate(d.getDate() - 29);
      return [iso(d), to];
    });
    assert.equal(await page.inputValue('#from'), from);
    assert.equal(await page.inputValue('#to'), to);
    await waitForReport(page, { from, to, model: 'bitrix', groupBy: 'source', byResponsible: 'N' });
  });

  await ctx.check(`model bitrix: ${bitrix.rows.length} rows and the total equal the method's numbers`, async () => {
    await page.fill('#from', range.from);
    await page.fill('#to', range.to);
    await page.click('#refresh-button');
    await waitForReport(page, f);
    compare(bitrix, await readTable(page), 'source');
  });

  for (const model of ['first_touch', 'linear', 'time_decay']) {
    await ctx.check(`model ${model}: the cells equal the method's numbers`, async () => {
      const api = await report(model);
      await page.selectOption('#model', model);
      await waitForReport(page, { ...f, model });
      compare(api, await readTable(page), 'source');
    });
  }

  await ctx.check('the chart draws revenue and expenses of the sources that have any', async () => {
    await page.selectOption('#model', 'bitrix');
    await waitForReport(page, f);
    const bars = await page.$$eval('#chart-svg g.bar-group', (gs) => gs.map((g) => ({
      key: g.dataset.rowKey,
      revenue: g.querySelector('rect[data-series=revenue]').dataset.value,
      expenses: g.querySelector('rect[data-series=expenses]').dataset.value,
    })));
    const drawn = bitrix.rows.filter((r) => (r.revenue || 0) > 0 || (r.expenses || 0) > 0);
    assert.deepEqual(bars.map((b) => b.key), drawn.map((r) => `source:${r.source_id}`));
    const googleBar = bars.find((b) => b.key === `source:${google.source_id}`);
    assert.equal(Number(googleBar.revenue), google.revenue);
    assert.equal(Number(googleBar.expenses || 0), google.expenses || 0);
  });

  await ctx.check('grouped by channel: the rows equal the method\'s numbers', async () => {
    const byChannel = await report('bitrix', 'channel');
    await page.selectOption('#group-by', 'channel');
    await waitForReport(page, { ...f, groupBy: 'channel' });
    compare(byChannel, await readTable(page), 'channel');
    await page.selectOption('#group-by', 'source');
    await waitForReport(page, f);
  });

  await ctx.check('split by responsible: one sub-row per responsible, equal to the method', async () => {
    const split = await report('bitrix', 'source', 'Y');
    await page.check('#by-responsible');
    await waitForReport(page, { ...f, byResponsible: 'Y' });
    const table = await readTable(page);
    let subRows = 0;
    for (const row of split.rows) {
      for (const r of row.by_responsible || []) {
        const key = `source:${row.source_id}:user:${r.assigned_by_id}`;
        assert.ok(table[key], `sub-row ${key}`);
        for (const m of ['leads', 'deals', 'closed_deals', 'revenue']) expectCell(key, m, r[m], table[key].cells[m]);
        subRows += 1;
      }
    }
    assert.ok(subRows >= 2, 'the seeded sources have responsibles');
    await page.uncheck('#by-responsible');
    await waitForReport(page, f);
  });

  await ctx.check('Download CSV: the table with metric names as the header', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-button')]);
    const csvPath = path.join(OUT, 'dashboard.csv');
    await download.saveAs(csvPath);
    assert.match(download.suggestedFilename(), /^leadtrace-report_.*_bitrix_source\.csv$/);
    const csv = parseCsv(fs.readFileSync(csvPath, 'utf8'));
    assert.deepEqual(csv[0], ['source_id', 'source_code', 'source_name', ...METRICS]);
    assert.equal(csv.length, bitrix.rows.length + 2, 'header, one line per row, total');
    for (const [i, row] of bitrix.rows.entries()) {
      const line = csv[i + 1];
      assert.equal(line[0], String(row.source_id));
      assert.equal(line[2], row.source_name);
      METRICS.forEach((m, j) => assert.equal(line[3 + j], row[m] == null ? '' : String(row[m]), `csv ${row.source_code} ${m}`));
    }
    const totalLine = csv[csv.length - 1];
    assert.equal(totalLine[2], 'Total');
    METRICS.forEach((m, j) => assert.equal(totalLine[3 + j], bitrix.total[m] == null ? '' : String(bitrix.total[m]), `csv total ${m}`));
  });

  await ctx.shot(page, 'dashboard.png');

  await ctx.check('an error of the method is shown readably', async () => {
    await page.fill('#from', '2020-01-01'); // longer than the method allows
    await page.click('#refresh-button');
    await page.waitForFunction(() => document.getElementById('app').dataset.state === 'error');
    const error = (await page.textContent('#error')).trim();
    assert.match(error, /^HTTP 400 · \S+: .+/, `error text: ${error}`);
    await page.fill('#from', range.to);
    await page.fill('#to', range.from);
    await page.click('#refresh-button');
    await page.waitForFunction(() => /after the end date/.test(document.getElementById('error').textContent));
  });

  await ctx.check('log out forgets the credentials', async () => {
    await page.click('#logout-button');
    await page.waitForSelector('#login:not([hidden])');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('leadtrace.dashboard.auth')), null);
    await page.reload();
    await page.waitForSelector('#login:not([hidden])');
  });

  await ctx.check('no script errors (only the refused login and range failed to load)', async () => {
    const unexpected = problems.filter((p) => !/Failed to load resource: .*status of (401|400)/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
