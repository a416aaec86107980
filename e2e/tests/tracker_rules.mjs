// The tracker's collection rules in the browser (spec/sales-intelligence.md §4.2), each scenario
// in a fresh browser context (empty localStorage): UTM re-capture, new sources and the previous
// list (≤ 5), the 5-page cap and de-duplication, 40-character titles, expiry after the lifespan
// (stored timestamps moved back; data-lifespan), getTrace/remindTrace/{previous:false}, gclid,
// analytics client ids, the mobile flag, the guest id, and orders via window.b24order. Traces it builds are also
// sent to crm.tracking.trace.add to check the server takes them as they are.
import assert from 'node:assert/strict';
import { rest, run, startSite, page } from '../lib/harness.mjs';

const DAY = 86400;
const RU = 'Индивидуальное проектирование домов и зданий';

const site = await startSite(async (req, body, url) => {
  if (req.method !== 'GET') return null;
  const p = url.pathname;
  if (p === '/favicon.ico') return null;
  if (p === '/long-title') {
    return { body: page({ title: '  A very long document title that certainly exceeds forty characters  ', h1: null }) };
  }
  if (p === '/empty-h1') {
    return { body: page({ title: 'Fallback title', h1: '' }) };
  }
  if (p === '/ru') return { body: page({ title: 'ru', h1: RU }) };
  if (p === '/spaces') return { body: page({ title: 'spaces', h1: '  Multi\n   line\theading  ' }) };
  if (p === '/short-life') return { body: page({ title: 'short', h1: 'Short life', scriptAttrs: ' data-lifespan="1"' }) };
  if (p === '/orders') {
    return {
      body: page({
        title: 'Checkout',
        h1: 'Checkout',
        head: '<script>window.b24order = window.b24order || []; window.b24order.push({id: "ORDER-1", sum: "1500.50"});</script>\n',
      }),
    };
  }
  const name = p.replace(/^\//, '') || 'home';
  return { body: page({ title: `title ${name}`, h1: `Page ${name}` }) };
});
const at = (path) => `${site.origin}${path}`;
const nowS = () => Math.floor(Date.now() / 1000);

async function stored(p) {
  return p.evaluate(() => {
    const get = (k) => JSON.parse(localStorage.getItem(k) || 'null');
    return {
      utm: get('b24_crm_guest_utm'),
      ref: get('b24_crm_guest_ref'),
      pages: (get('b24_crm_guest_pages') || { list: [] }).list,
      previous: (get('b24_crm_guest_previous') || { list: [] }).list,
    };
  });
}

/** Moves every stored timestamp `seconds` into the past (as if that much time had passed). */
async function age(p, seconds) {
  await p.evaluate((s) => {
    const edit = (k, f) => { const v = JSON.parse(localStorage.getItem(k) || 'null'); if (v) localStorage.setItem(k, JSON.stringify(f(v))); };
    edit('b24_crm_guest_utm', (v) => ({ ...v, ts: v.ts - s }));
    edit('b24_crm_guest_ref', (v) => ({ ...v, ts: v.ts - s }));
    edit('b24_crm_guest_pages', (v) => ({ list: v.list.map((x) => [x[0], x[1] - s, x[2]]) }));
    edit('b24_crm_guest_previous', (v) => ({ list: v.list.map((x) => ({ ...x, tags: { ...x.tags, ts: x.tags.ts - s } })) }));
  }, seconds);
}

const trace = (p, fn, opts) => p.evaluate(([f, o]) => JSON.parse(window.b24Tracker.guest[f](o)), [fn, opts]);

await run('tracker_rules', async (t) => {
  await t.check('same utm_source within 3600 s keeps the tags and their ts; after 3600 s they are re-captured', async () => {
    const p = await t.newPage();
    await p.goto(at('/a?utm_source=google&utm_medium=cpc'));
    const first = (await stored(p)).utm;
    assert.deepEqual(first.list, { utm_source: 'google', utm_medium: 'cpc' });
    assert.ok(Math.abs(first.ts - nowS()) < 60);
    await p.goto(at('/b?utm_source=google&utm_medium=email&utm_campaign=x'));
    let s = await stored(p);
    assert.deepEqual(s.utm, first, 'kept as captured');
    await age(p, 3700);
    await p.goto(at('/c?utm_source=google&utm_medium=display'));
    s = await stored(p);
    assert.deepEqual(s.utm.list, { utm_source: 'google', utm_medium: 'display' });
    assert.ok(Math.abs(s.utm.ts - nowS()) < 60, 're-captured now');
    assert.deepEqual(s.previous, [], 'the same source is no new visit');
    assert.deepEqual(s.pages.map((x) => x[0]), [at('/a?utm_source=google&utm_medium=cpc'), at('/b?utm_source=google&utm_medium=email&utm_campaign=x'), at('/c?utm_source=google&utm_medium=display')]);
  });

  await t.check('a different utm_source re-captures and pushes the earlier visit to previous', async () => {
    const p = await t.newPage();
    await p.goto(at('/a?utm_source=google&utm_medium=cpc'), { referer: 'https://www.google.com/' });
    await p.goto(at('/b'));
    const before = await stored(p);
    await p.goto(at('/d?utm_source=facebook&utm_medium=paid'));
    const s = await stored(p);
    assert.deepEqual(s.utm.list, { utm_source: 'facebook', utm_medium: 'paid' });
    assert.equal(s.previous.length, 1);
    const prev = s.previous[0];
    assert.equal(prev.previous, undefined, 'a previous entry has no previous of its own');
    assert.deepEqual(prev.tags, before.utm);
    assert.equal(prev.url, at('/b'), 'the last page of that visit');
    assert.deepEqual(prev.pages.list, before.pages);
    assert.deepEqual(s.pages.map((x) => x[0]), [at('/d?utm_source=facebook&utm_medium=paid')], 'the new visit starts its own pages');
    const tr = await trace(p, 'remindTrace');
    assert.deepEqual(tr.previous.list, s.previous);
    assert.equal(tr.ref, undefined, 'no external referrer on the new visit');
  });

  await t.check('pages: at most 5, de-duplicated by URL (a revisit moves to the end)', async () => {
    const p = await t.newPage();
    for (const n of [1, 2, 3, 4, 5, 6, 7, 4]) await p.goto(at(`/p${n}`));
    const pages = await p.evaluate(() => window.b24Tracker.guest.getPages());
    assert.deepEqual(pages.map((x) => x[0]), [3, 5, 6, 7, 4].map((n) => at(`/p${n}`)));
    assert.deepEqual(pages.map((x) => x[2]), [3, 5, 6, 7, 4].map((n) => `Page p${n}`));
    for (let i = 1; i < pages.length; i++) assert.ok(pages[i][1] >= pages[i - 1][1], 'oldest first');
  });

  await t.check('titles: first <h1>, else <title>; whitespace collapsed; 40 characters (code points)', async () => {
    const p = await t.newPage();
    for (const path of ['/long-title', '/empty-h1', '/ru', '/spaces']) await p.goto(at(path));
    const titles = (await p.evaluate(() => window.b24Tracker.guest.getPages())).map((x) => x[2]);
    assert.deepEqual(titles, [
      'A very long document title that certainl',
      'Fallback title',
      'Индивидуальное проектирование домов и зд',
      'Multi line heading',
    ]);
    assert.equal([...titles[2]].length, 40);
  });

  await t.check('expiry: tags, referrer and pages older than the lifespan (28 days) are forgotten', async () => {
    const p = await t.newPage();
    await p.goto(at('/a?utm_source=google&utm_medium=cpc'), { referer: 'https://www.google.com/' });
    await age(p, 27 * DAY);
    await p.goto(at('/b'));
    let s = await stored(p);
    assert.equal(s.utm.list.utm_source, 'google', 'kept at 27 days');
    assert.equal(s.pages.length, 2);
    assert.equal(s.ref.ref, 'https://www.google.com/');
    await age(p, 2 * DAY); // 29 days for /a, 2 for /b
    await p.goto(at('/c'));
    s = await stored(p);
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.getUtmSource()), null);
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.isUtmSourceDetected()), false);
    assert.equal(s.ref, null);
    assert.deepEqual(s.pages.map((x) => x[0]), [at('/b'), at('/c')]);
    const tr = await trace(p, 'remindTrace');
    assert.deepEqual(tr.tags.list, {});
    assert.equal(tr.ref, undefined);
    assert.deepEqual(tr.previous.list, [], 'an expired visit is not a previous one');
  });

  await t.check('data-lifespan="1" on the script tag shortens the lifespan to a day', async () => {
    const p = await t.newPage();
    await p.goto(at('/short-life?utm_source=vk'));
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.lifespan), 1);
    await age(p, DAY / 2);
    await p.goto(at('/short-life'));
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.getUtmSource()), 'vk');
    await age(p, DAY);
    await p.goto(at('/short-life'));
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.getUtmSource()), null);
  });

  await t.check('getTrace() clears previous, remindTrace() keeps it, {previous:false} omits the key', async () => {
    const p = await t.newPage();
    await p.goto(at('/a?utm_source=google'));
    await p.goto(at('/b?utm_source=fb'));
    let tr = await trace(p, 'remindTrace');
    assert.equal(tr.previous.list.length, 1);
    tr = await trace(p, 'remindTrace');
    assert.equal(tr.previous.list.length, 1, 'remindTrace does not clear');
    tr = await trace(p, 'getTrace', { previous: false });
    assert.deepEqual(Object.keys(tr), ['url', 'device', 'tags', 'client', 'pages', 'gid']);
    assert.equal((await stored(p)).previous.length, 1, 'not sent, so not cleared');
    tr = await trace(p, 'getTrace');
    assert.equal(tr.previous.list.length, 1);
    assert.equal(tr.previous.list[0].tags.list.utm_source, 'google');
    tr = await trace(p, 'remindTrace');
    assert.deepEqual(tr.previous, { list: [] }, 'getTrace cleared it');
  });

  await t.check('previous keeps the last 5 visits; a new external referrer is a new source too; the server takes it', async () => {
    const p = await t.newPage();
    for (const n of [1, 2, 3, 4, 5, 6, 7]) await p.goto(at(`/s${n}?utm_source=src${n}`));
    let tr = await trace(p, 'remindTrace');
    assert.deepEqual(tr.previous.list.map((x) => x.tags.list.utm_source), ['src2', 'src3', 'src4', 'src5', 'src6']);
    await p.goto(at('/from-fb'), { referer: 'https://www.facebook.com/some/post' });
    tr = await trace(p, 'remindTrace');
    assert.equal(tr.ref, 'https://www.facebook.com/some/post');
    assert.deepEqual(tr.tags.list, {});
    assert.deepEqual(tr.previous.list.map((x) => x.tags.list.utm_source), ['src3', 'src4', 'src5', 'src6', 'src7']);
    // The same referrer host again is the same source: nothing pushed, the pages go on.
    await p.goto(at('/again'), { referer: 'https://www.facebook.com/other' });
    assert.equal((await trace(p, 'remindTrace')).previous.list.length, 5);
    assert.equal((await stored(p)).pages.length, 2);
    // Internal navigation (referrer = this site) is no source at all.
    await p.goto(at('/inside'), { referer: at('/again') });
    assert.equal((await stored(p)).ref.ref, 'https://www.facebook.com/some/post');
    for (const x of tr.previous.list) assert.equal(x.previous, undefined);
    const lead = await rest('crm.lead.add', { fields: { TITLE: 'rules' } });
    const id = await rest('crm.tracking.trace.add', { TRACE: await p.evaluate(() => window.b24Tracker.guest.getTrace()), ENTITIES: [{ TYPE: 'LEAD', ID: lead }] });
    const j = await rest('leadtrace.tracking.entity.get', { TYPE: 'LEAD', ID: lead });
    const bound = j.TRACES.find((x) => x.ID === id);
    assert.ok(bound, 'the tracker trace is bound');
    assert.deepEqual(bound.PREVIOUS.map((x) => x.UTM.UTM_SOURCE), tr.previous.list.map((x) => x.tags.list.utm_source));
    assert.equal(j.SOURCE.CODE, 'fb', 'facebook.com referrer → Facebook');
  });

  await t.check('gclid is captured; analytics client ids come from the _ga and _ym_uid cookies', async () => {
    const p = await t.newPage();
    await p.context().addCookies([
      { name: '_ga', value: 'GA1.2.209629315.1579004207', url: site.origin },
      { name: '_ym_uid', value: '1564470991512487271', url: site.origin },
    ]);
    await p.goto(at('/landing?gclid=EAIaIQobChMI'));
    const tr = await trace(p, 'remindTrace');
    assert.deepEqual(tr.tags.list, {});
    assert.equal(tr.tags.gclid, 'EAIaIQobChMI');
    assert.deepEqual(tr.client, { gaId: '209629315.1579004207', yaId: '1564470991512487271' });
    // Still there on the next page (no gclid in its URL).
    await p.goto(at('/next'));
    assert.equal((await trace(p, 'remindTrace')).tags.gclid, 'EAIaIQobChMI');
  });

  await t.check('device.isMobile: true in a mobile browser, and the server records it', async () => {
    const p = await t.newPage({
      userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
      isMobile: true,
      viewport: { width: 412, height: 915 },
    });
    await p.goto(at('/m?utm_source=instagram&utm_medium=social'));
    const text = await p.evaluate(() => window.b24Tracker.guest.getTrace());
    assert.deepEqual(JSON.parse(text).device, { isMobile: true });
    const lead = await rest('crm.lead.add', { fields: { TITLE: 'mobile', TRACE: text } });
    const j = await rest('leadtrace.tracking.entity.get', { TYPE: 'LEAD', ID: lead });
    assert.equal(j.TRACES[0].IS_MOBILE, 'Y');
    assert.equal(j.SOURCE.CODE, 'instagram');
    assert.equal(j.TRACES[0].CHANNEL_GROUP.CODE, 'organic_social');
  });

  await t.check('guest id: setGid() stores it (localStorage b24_crm_guest_id and cookie) and the trace carries it', async () => {
    const p = await t.newPage();
    await p.goto(at('/a'));
    assert.equal((await trace(p, 'remindTrace')).gid, null);
    await p.evaluate(() => window.b24Tracker.guest.setGid('guest-42'));
    assert.equal(await p.evaluate(() => localStorage.getItem('b24_crm_guest_id')), 'guest-42');
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.getGidCookie()), 'guest-42');
    await p.goto(at('/b'));
    assert.equal((await trace(p, 'remindTrace')).gid, 'guest-42');
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.register()), null, 'needs a portal endpoint');
  });

  await t.check('orders: window.b24order.push({id, sum}) builds the order trace (channel order) before and after load', async () => {
    const p = await t.newPage();
    await p.goto(at('/cart?utm_source=google&utm_medium=cpc'));
    await p.goto(at('/orders'));
    let tr = JSON.parse(await p.evaluate(() => window.b24Tracker.guest.getStoredTrace('order')));
    assert.deepEqual(Object.keys(tr).slice(-3), ['previous', 'channels', 'order']);
    assert.deepEqual(tr.channels, [{ code: 'order', value: 'ORDER-1' }]);
    assert.deepEqual(tr.order, { id: 'ORDER-1', sum: 1500.5 });
    assert.equal(tr.tags.list.utm_source, 'google');
    const fromEvent = await p.evaluate(() => new Promise((resolve) => {
      document.addEventListener('b24:order', (e) => resolve(e.detail), { once: true });
      window.b24order.push({ id: 77, sum: 10 });
    }));
    assert.equal(fromEvent.id, '77');
    tr = JSON.parse(fromEvent.trace);
    assert.deepEqual(tr.order, { id: '77', sum: 10 });
    assert.equal(await p.evaluate(() => window.b24Tracker.guest.getStoredTrace('order')), fromEvent.trace);
    const id = await rest('crm.tracking.trace.add', { TRACE: fromEvent.trace });
    assert.ok(Number.isInteger(id) && id > 0);
  });

  await site.close();
});
