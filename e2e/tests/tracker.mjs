// The website tracker end to end: a visitor lands on a local site from a Google Ads click
// (utm_source=google, utm_medium=cpc, referrer www.google.com), reads three pages, sends the
// contact form; the form's hidden TRACE field is filled by b24Tracker.guest.getTrace(), the site's
// backend adds the lead with crm.lead.add (TITLE + TRACE) through the webhook, and the lead's
// journey (leadtrace.tracking.entity.get) shows the source, the pages, the UTM tags and the
// channel group. Screenshot of the form page: $LT_OUT/form.png.
import assert from 'node:assert/strict';
import { env, rest, run, startSite, page, escapeHtml } from '../lib/harness.mjs';

const HOME_H1 = 'Acme Widgets: precision widgets for every workshop';
const NAV = '<nav><a id="to-products" href="/products">Products</a><a id="to-pricing" href="/pricing">Pricing</a><a id="to-contact" href="/contact">Contact</a></nav>';

const submissions = [];

const site = await startSite(async (req, body, url) => {
  if (req.method === 'GET' && url.pathname === '/') {
    return { body: page({ title: 'Acme Widgets', h1: HOME_H1, body: `${NAV}<p>Welcome.</p>` }) };
  }
  if (req.method === 'GET' && url.pathname === '/products') {
    return { body: page({ title: 'Products | Acme', h1: 'Products', body: `${NAV}<p>Widgets, gadgets.</p>` }) };
  }
  if (req.method === 'GET' && url.pathname === '/pricing') {
    return { body: page({ title: 'Pricing | Acme', h1: 'Pricing', body: `${NAV}<p>Fair prices.</p>` }) };
  }
  if (req.method === 'GET' && url.pathname === '/contact') {
    // The README's form snippet: TRACE filled right before the form is sent.
    const form = `${NAV}
<form id="lead-form" method="post" action="/submit">
  <label>Your name <input name="NAME" required></label>
  <label>Phone <input name="PHONE"></label>
  <input type="hidden" name="TRACE">
  <button type="submit" id="send">Send</button>
</form>
<script>
  document.getElementById('lead-form').addEventListener('submit', function () {
    this.TRACE.value = window.b24Tracker.guest.getTrace();
  });
</script>`;
    return { body: page({ title: 'Contact | Acme', h1: 'Contact us', body: form }) };
  }
  if (req.method === 'POST' && url.pathname === '/submit') {
    const form = new URLSearchParams(body);
    const trace = form.get('TRACE') || '';
    // The site's backend: the trace string goes unchanged into TRACE of crm.lead.add.
    const id = await rest('crm.lead.add', {
      fields: { TITLE: `Website form: ${form.get('NAME')}`, NAME: form.get('NAME'), TRACE: trace },
    });
    submissions.push({ id, trace });
    return { body: page({ title: 'Thank you', h1: 'Thank you', body: `<p>Lead <span id="lead-id">${escapeHtml(id)}</span> created.</p>` }).replace(/<script src=[^>]*><\/script>/, '') };
  }
  return null;
});

await run('tracker', async (t) => {
  const p = await t.newPage();
  const landing = `${site.origin}/?utm_source=google&utm_medium=cpc`;
  await p.goto(landing, { referer: 'https://www.google.com/' });
  assert.equal(await p.evaluate(() => document.referrer), 'https://www.google.com/', 'Chromium passes the referrer');

  await t.check('the tracker loads and captures the landing', async () => {
    assert.equal(await p.evaluate(() => typeof window.b24Tracker.guest.getTrace), 'function');
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.getUtmSource()), 'google');
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.isUtmSourceDetected()), true);
    assert.deepEqual(await p.evaluate(() => window.b24Tracker.guest.getTags()), { utm_source: 'google', utm_medium: 'cpc' });
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.lifespan), 28, 'the portal default window');
  });

  for (const id of ['to-products', 'to-pricing', 'to-contact']) {
    await Promise.all([p.waitForNavigation(), p.click(`#${id}`)]);
  }
  const expectedPages = [
    [landing, HOME_H1.slice(0, 40)],
    [`${site.origin}/products`, 'Products'],
    [`${site.origin}/pricing`, 'Pricing'],
    [`${site.origin}/contact`, 'Contact us'],
  ];
  await t.check('four pages collected in order, titles from <h1> cut to 40 characters', async () => {
    const pages = await p.evaluate(() => window.b24Tracker.guest.getPages());
    assert.deepEqual(pages.map((x) => [x[0], x[2]]), expectedPages);
    assert.equal(HOME_H1.slice(0, 40).length, 40);
    for (const x of pages) assert.ok(Number.isInteger(x[1]) && Math.abs(x[1] - Date.now() / 1000) < 120, `unix seconds: ${x[1]}`);
  });

  await p.fill('input[name=NAME]', 'Ada Lovelace');
  await p.fill('input[name=PHONE]', '+1 555 0100');
  await t.shot(p, 'form.png');
  await Promise.all([p.waitForNavigation(), p.click('#send')]);
  const leadId = Number(await p.textContent('#lead-id'));
  await t.shot(p, 'thank-you.png');

  await t.check('the form sent the trace JSON in Bitrix24\'s shape and key order', async () => {
    assert.equal(submissions.length, 1);
    assert.equal(submissions[0].id, leadId);
    const trace = JSON.parse(submissions[0].trace);
    assert.deepEqual(Object.keys(trace), ['url', 'ref', 'device', 'tags', 'client', 'pages', 'gid', 'previous']);
    assert.equal(trace.url, `${site.origin}/contact`);
    assert.equal(trace.ref, 'https://www.google.com/');
    assert.deepEqual(trace.device, { isMobile: false });
    assert.deepEqual(Object.keys(trace.tags), ['ts', 'list', 'gclid']);
    assert.deepEqual(trace.tags.list, { utm_source: 'google', utm_medium: 'cpc' });
    assert.equal(trace.tags.gclid, null);
    assert.ok(Number.isInteger(trace.tags.ts));
    assert.deepEqual(trace.client, {});
    assert.deepEqual(trace.pages.list.map((x) => [x[0], x[2]]), expectedPages);
    assert.equal(trace.gid, null);
    assert.deepEqual(trace.previous, { list: [] });
  });

  await t.check('the lead\'s journey: Google Ads, paid search, the UTM tags and the pages', async () => {
    const j = await rest('leadtrace.tracking.entity.get', { TYPE: 'LEAD', ID: leadId });
    assert.equal(j.ENTITY_ID, leadId);
    assert.equal(j.SOURCE.CODE, 'google');
    assert.equal(j.SOURCE.NAME, 'Google Ads');
    assert.equal(j.TRACES.length, 1);
    const tr = j.TRACES[0];
    assert.equal(tr.SOURCE.CODE, 'google');
    assert.equal(tr.CHANNEL_GROUP.CODE, 'paid_search');
    assert.equal(tr.UTM.UTM_SOURCE, 'google');
    assert.equal(tr.UTM.UTM_MEDIUM, 'cpc');
    assert.equal(tr.UTM.UTM_CAMPAIGN, null);
    assert.equal(tr.URL, `${site.origin}/contact`);
    assert.equal(tr.REFERRER, 'https://www.google.com/');
    assert.equal(tr.IS_MOBILE, 'N');
    const visited = tr.PAGES.filter((x) => x.IS_REFERRER === 'N').map((x) => [x.URL, x.TITLE]);
    assert.deepEqual(visited, expectedPages);
    const codes = tr.CHANNELS.map((c) => c.CODE).sort();
    assert.deepEqual(codes, ['rest', 'site']);
    assert.equal(tr.CHANNELS.find((c) => c.CODE === 'site').VALUE, '127.0.0.1');
    assert.deepEqual(tr.PREVIOUS, []);
  });

  await site.close();
});
