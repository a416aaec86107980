// Shared by e2e/tests/*.mjs: the environment e2e/run provides, Chromium through playwright-core,
// a tiny local web site, REST calls to leadtrace, and a runner that reports and exits non-zero.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set: run the tests with e2e/run`);
    process.exit(2);
  }
  return v;
}

export const env = {
  base: need('LT_BASE_URL').replace(/\/$/, ''),
  webhook: need('LT_WEBHOOK'),
  backend: process.env.LT_BACKEND || 'unknown',
  out: need('LT_OUT'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};
fs.mkdirSync(env.out, { recursive: true });

export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  return chromium.launch({ executablePath: env.chromium, args: FLAGS, timeout: 60_000 });
}

/** `leadtrace` method call through the inbound webhook (JSON body); returns `result` or throws. */
export async function rest(method, params) {
  const r = await fetch(`${env.webhook}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = await r.json();
  if (r.status !== 200 || body.error) {
    throw new Error(`${method} answered ${r.status}: ${JSON.stringify(body)}`);
  }
  return body.result;
}

/**
 * A local web site on 127.0.0.1 (free port). `handler(req, body, url)` returns
 * `{status?, type?, body}` or null for 404.
 */
export async function startSite(handler) {
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      const url = new URL(req.url, 'http://site.invalid');
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end(); // keeps 404s out of the browser console
        return;
      }
      const reply = await handler(req, body, url);
      if (!reply) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(reply.status || 200, { 'content-type': reply.type || 'text/html; charset=utf-8' });
      res.end(reply.body);
    } catch (e) {
      console.error('site handler failed:', e);
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e && e.stack || e));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** A page that embeds the tracker exactly as the README tells site owners to. */
export function page({ title, h1, body = '', head = '', scriptAttrs = '' }) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
${head}<script src="${env.base}/tracker.js"${scriptAttrs}></script>
<style>body{font-family:sans-serif;margin:2em;max-width:40em} nav a{margin-right:1em} label{display:block;margin:.5em 0}</style>
</head>
<body>
${h1 === null ? '' : `<h1>${escapeHtml(h1)}</h1>`}
${body}
</body>
</html>`;
}

/**
 * Runs `fn(ctx)` with a browser; on failure prints the error, saves a screenshot of every open
 * page to LT_OUT and exits 1. `ctx.check(name, fn)` logs each named check.
 */
export async function run(name, fn) {
  const started = Date.now();
  let browser;
  const pages = [];
  let checks = 0;
  const ctx = {
    async newPage(options = {}) {
      const context = await browser.newContext(options);
      const p = await context.newPage();
      p.on('console', (m) => { if (m.type() === 'error') console.error(`[browser console] ${m.text()}`); });
      p.on('pageerror', (e) => console.error(`[browser page error] ${e.message}`));
      pages.push(p);
      return p;
    },
    async check(what, f) {
      await f();
      checks += 1;
      console.log(`  ok - ${what}`);
    },
    shot: (p, file) => p.screenshot({ path: path.join(env.out, file), fullPage: true }),
  };
  try {
    browser = await launch();
    console.log(`${name} (${env.backend}, Chromium ${browser.version()})`);
    await fn(ctx);
    console.log(`${name}: ${checks} checks passed in ${Date.now() - started} ms`);
    await browser.close();
    process.exit(0);
  } catch (e) {
    console.error(`${name} FAILED: ${e && e.stack || e}`);
    for (const [i, p] of pages.entries()) {
      try {
        if (!p.isClosed()) await p.screenshot({ path: path.join(env.out, `${name}-failure-${i}.png`), fullPage: true });
      } catch { /* the page may be gone */ }
    }
    try { if (browser) await browser.close(); } catch { /* already gone */ }
    process.exit(1);
  }
}
