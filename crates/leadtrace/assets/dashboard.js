// The leadtrace Sales Intelligence dashboard (served at /dashboard). Plain browser JavaScript, no
// dependencies: it calls `leadtrace.tracking.report.get` over the REST API with the visitor's
// credentials (kept in sessionStorage) and draws the table, a revenue/expenses chart (inline SVG)
// and a CSV export. Every value from the server is inserted as text, never as markup.
'use strict';

(function () {
  const AUTH_KEY = 'leadtrace.dashboard.auth';
  const FILTER_KEY = 'leadtrace.dashboard.filters';
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // The report's metrics (spec §12.3 names), in table order, with how to show them.
  const METRICS = [
    { key: 'visits', label: 'Visits', kind: 'count' },
    { key: 'leads', label: 'Leads', kind: 'count' },
    { key: 'leads_sum', label: 'Leads sum', kind: 'money' },
    { key: 'converted_leads', label: 'Converted leads', kind: 'count' },
    { key: 'deals', label: 'Deals', kind: 'count' },
    { key: 'deals_sum', label: 'Deals sum', kind: 'money' },
    { key: 'closed_deals', label: 'Won deals', kind: 'count' },
    { key: 'revenue', label: 'Revenue', kind: 'money' },
    { key: 'expenses', label: 'Expenses', kind: 'money' },
    { key: 'impressions', label: 'Impressions', kind: 'count' },
    { key: 'actions', label: 'Clicks', kind: 'count' },
    { key: 'cpl', label: 'CPL', kind: 'money' },
    { key: 'cpa', label: 'CPA', kind: 'money' },
    { key: 'roi', label: 'ROI', kind: 'ratio' },
    { key: 'lead_to_deal', label: 'Lead → deal', kind: 'ratio' },
    { key: 'deal_to_won', label: 'Deal → won', kind: 'ratio' },
  ];
  // Metrics a per-responsible split carries (no expense metrics there).
  const RESPONSIBLE_METRICS = new Set([
    'leads', 'leads_sum', 'converted_leads', 'deals', 'deals_sum', 'closed_deals', 'revenue',
  ]);
  const KPIS = [
    ['visits', 'Visits'], ['leads', 'Leads'], ['deals', 'Deals'], ['closed_deals', 'Won deals'],
    ['revenue', 'Revenue'], ['expenses', 'Expenses'], ['roi', 'ROI'],
  ];

  const $ = (id) => document.getElementById(id);
  // userNames: id → display name (null when it cannot be read, e.g. without the `user` scope).
  const state = { auth: null, report: null, seq: 0, debounce: null, userNames: new Map() };

  // ------------------------------------------------------------------ formatting

  function group3(intPart) {
    return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function fixed(n, digits) {
    const s = Math.abs(n).toFixed(digits);
    const [i, f] = s.split('.');
    return (n < 0 && Number(s) !== 0 ? '−' : '') + group3(i) + (f ? '.' + f : '');
  }

  // Counts are whole numbers under Bitrix24's model; touch models make them fractional (≤ 4 places).
  function formatValue(kind, v) {
    if (v === null || v === undefined || v === '') return '—';
    const n = Number(v);
    if (!Number.isFinite(n)) return String(v);
    switch (kind) {
      case 'money':
        return fixed(n, 2);
      case 'ratio':
        return fixed(n * 100, 2) + ' %';
      default: {
        if (Number.isInteger(n)) return fixed(n, 0);
        return fixed(n, 4).replace(/0+$/, '').replace(/\.$/, '');
      }
    }
  }

  function isoDay(d) {
    const p = (x) => String(x).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  function daysAgo(n) {
    const d = new Date();
    d.setHours(12, 0, 0, 0);
    d.setDate(d.getDate() - n);
    return isoDay(d);
  }

  // ------------------------------------------------------------------ credentials and calls

  function loadAuth() {
    try {
      const a = JSON.parse(sessionStorage.getItem(AUTH_KEY) || 'null');
      if (a && (a.kind === 'webhook' ? a.url : a.base && a.token)) return a;
    } catch (_) { /* a broken entry counts as none */ }
    return null;
  }

  function saveAuth(a) {
    if (a) sessionStorage.setItem(AUTH_KEY, JSON.stringify(a));
    else sessionStorage.removeItem(AUTH_KEY);
  }

  // `…/rest/{user}/{code}/` (a method name after it is dropped); relative URLs resolve here.
  function parseWebhook(text) {
    let url;
    try {
      url = new URL(text.trim(), window.location.origin);
    } catch (_) {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    const m = url.pathname.match(/^(.*?\/rest\/[^/]+\/[^/]+)(?:\/[^/]*)?\/?$/);
    if (!m || /\/rest\/api\//.test(m[1])) return null;
    return url.origin + m[1] + '/';
  }

  function parseBase(text) {
    let url;
    try {
      url = new URL((text || '').trim() || window.location.origin, window.location.origin);
    } catch (_) {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin + url.pathname.replace(/\/+$/, '').replace(/\/rest$/, '');
  }

  class ApiError extends Error {
    constructor(status, code, description) {
      super(description || code || 'Request failed');
      this.status = status;
      this.code = code || '';
      this.description = description || '';
    }
  }

  // One REST call; resolves to the `result`, rejects with an ApiError.
  async function call(auth, method, params) {
    let url;
    const body = Object.assign({}, params || {});
    if (auth.kind === 'webhook') {
      url = auth.url + method + '.json';
    } else {
      url = auth.base + '/rest/' + method + '.json';
      body.auth = auth.token;
    }
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, 'NETWORK', 'Cannot reach the server (' + (e && e.message ? e.message : e) + ').');
    }
    const text = await response.text();
    let data = null;
    try {
      data = JSON.parse(text);
    } catch (_) {
      throw new ApiError(response.status, 'HTTP_' + response.status,
        'The server answered HTTP ' + response.status + ' with something that is not JSON.');
    }
    if (data && data.error !== undefined) {
      throw new ApiError(response.status, String(data.error), String(data.error_description || ''));
    }
    if (!response.ok) {
      throw new ApiError(response.status, 'HTTP_' + response.status, 'HTTP ' + response.status);
    }
    return data ? data.result : null;
  }

  function explain(e) {
    if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
    const head = e.status ? 'HTTP ' + e.status + (e.code ? ' · ' + e.code : '') : e.code;
    let text = e.description || e.message;
    const hints = {
      expired_token: 'The access token has expired: log out and sign in with a fresh one.',
      invalid_token: 'The access token is not valid: log out and sign in again.',
      INVALID_CREDENTIALS: 'The webhook code is not valid for this user.',
      NO_AUTH_FOUND: 'The server did not accept the credentials.',
      insufficient_scope: 'These credentials lack the crm scope.',
      ERROR_METHOD_NOT_FOUND: 'This server does not offer the report method (leadtrace.tracking.report.get).',
    };
    if (hints[e.code]) text = text ? text + ' — ' + hints[e.code] : hints[e.code];
    return head ? head + ': ' + text : text;
  }

  function isAuthError(e) {
    return e instanceof ApiError && (e.status === 401 ||
      ['expired_token', 'invalid_token', 'INVALID_CREDENTIALS', 'NO_AUTH_FOUND', 'authorization_error',
        'insufficient_scope', 'WRONG_AUTH_TYPE', 'ACCESS_DENIED'].includes(e.code));
  }

  // ------------------------------------------------------------------ views

  function show(view) {
    $('login').hidden = view !== 'login';
    $('app').hidden = view !== 'app';
    $('session').hidden = view !== 'app';
  }

  function setError(id, message) {
    const el = $(id);
    el.textContent = message || '';
    el.hidden = !message;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    }
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ------------------------------------------------------------------ filters

  function filters() {
    return {
      from: $('from').value,
      to: $('to').value,
      model: $('model').value,
      groupBy: $('group-by').value,
      byResponsible: $('by-responsible').checked ? 'Y' : 'N',
    };
  }

  function restoreFilters() {
    let f = null;
    try {
      f = JSON.parse(sessionStorage.getItem(FILTER_KEY) || 'null');
    } catch (_) { /* defaults */ }
    $('from').value = (f && f.from) || daysAgo(29);
    $('to').value = (f && f.to) || daysAgo(0);
    if (f && f.model) $('model').value = f.model;
    if (f && f.groupBy) $('group-by').value = f.groupBy;
    $('by-responsible').checked = !!(f && f.byResponsible === 'Y');
  }

  function validFilters(f) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f.from) || !/^\d{4}-\d{2}-\d{2}$/.test(f.to)) {
      return 'Choose both dates.';
    }
    if (f.from > f.to) return 'The start date is after the end date.';
    return null;
  }

  // ------------------------------------------------------------------ rendering

  function rowKey(row, groupBy) {
    return groupBy === 'channel' ? 'channel:' + row.channel : 'source:' + row.source_id;
  }

  function rowLabel(row, groupBy) {
    if (groupBy === 'channel') return row.channel_name || row.channel || '(none)';
    return row.source_name || row.source_code || ('Source #' + row.source_id);
  }

  function rowIdAttrs(row, groupBy) {
    return groupBy === 'channel' ? { 'data-channel': row.channel } : { 'data-source-id': row.source_id };
  }

  function metricCell(m, value, idAttrs, missing) {
    const attrs = Object.assign({ 'data-metric': m.key, class: 'num ' + m.kind }, idAttrs);
    if (missing) {
      attrs['data-value'] = '';
      attrs.class += ' na';
      return el('td', attrs, '');
    }
    attrs['data-value'] = value === null || value === undefined ? '' : String(value);
    if (value === null || value === undefined || Number(value) === 0) attrs.class += ' zero';
    return el('td', attrs, formatValue(m.kind, value));
  }

  function renderTable(report, f) {
    const table = $('report-table');
    const groupBy = report.groupBy || f.groupBy;
    const thead = table.tHead;
    const tbody = table.tBodies[0];
    const tfoot = table.tFoot;
    thead.replaceChildren();
    tbody.replaceChildren();
    tfoot.replaceChildren();

    const head = el('tr');
    head.appendChild(el('th', { scope: 'col', class: 'label', 'data-metric': 'name' },
      groupBy === 'channel' ? 'Channel group' : 'Source'));
    for (const m of METRICS) {
      head.appendChild(el('th', { scope: 'col', class: 'num', 'data-metric': m.key, title: m.key }, m.label));
    }
    thead.appendChild(head);

    const rows = Array.isArray(report.rows) ? report.rows : [];
    for (const row of rows) {
      const ids = rowIdAttrs(row, groupBy);
      const tr = el('tr', Object.assign({ 'data-row-key': rowKey(row, groupBy) }, ids));
      const th = el('th', { scope: 'row', class: 'label' });
      th.appendChild(el('span', { class: 'name' }, rowLabel(row, groupBy)));
      if (groupBy !== 'channel' && row.source_code) th.appendChild(el('span', { class: 'code' }, row.source_code));
      tr.appendChild(th);
      for (const m of METRICS) tr.appendChild(metricCell(m, row[m.key], ids, false));
      tbody.appendChild(tr);
      if (Array.isArray(row.by_responsible)) {
        for (const r of row.by_responsible) {
          const rids = Object.assign({ 'data-responsible-id': r.assigned_by_id }, ids);
          const sub = el('tr', Object.assign({
            class: 'responsible',
            'data-row-key': rowKey(row, groupBy) + ':user:' + r.assigned_by_id,
          }, rids));
          sub.appendChild(el('th', { scope: 'row', class: 'label' }, responsibleLabel(r.assigned_by_id)));
          for (const m of METRICS) sub.appendChild(metricCell(m, r[m.key], rids, !RESPONSIBLE_METRICS.has(m.key)));
          tbody.appendChild(sub);
        }
      }
    }
    if (rows.length === 0) {
      const tr = el('tr', { class: 'empty' });
      tr.appendChild(el('td', { colspan: METRICS.length + 1 }, 'Nothing in this range.'));
      tbody.appendChild(tr);
    }
    const total = report.total || {};
    const tr = el('tr', { 'data-row-key': 'total', class: 'total' });
    tr.appendChild(el('th', { scope: 'row', class: 'label' }, 'Total'));
    for (const m of METRICS) tr.appendChild(metricCell(m, total[m.key], { 'data-total': 'Y' }, false));
    tfoot.appendChild(tr);

    table.dataset.from = report.from || f.from;
    table.dataset.to = report.to || f.to;
    table.dataset.model = report.model || f.model;
    table.dataset.groupBy = groupBy;
    table.dataset.byResponsible = f.byResponsible;
    table.dataset.currency = report.currency || '';
  }

  function responsibleLabel(id) {
    const name = state.userNames.get(String(id));
    return name ? name + ' (#' + id + ')' : 'Responsible #' + id;
  }

  // Names of the responsibles shown (user.get needs the `user` scope; without it ids stay).
  async function nameResponsibles(report, seq) {
    const ids = new Set();
    for (const row of report.rows || []) {
      for (const r of row.by_responsible || []) {
        if (!state.userNames.has(String(r.assigned_by_id))) ids.add(String(r.assigned_by_id));
      }
    }
    await Promise.all([...ids].slice(0, 50).map(async (id) => {
      try {
        const users = await call(state.auth, 'user.get', { ID: id });
        const u = Array.isArray(users) ? users[0] : null;
        const name = u ? [u.NAME, u.LAST_NAME].filter(Boolean).join(' ') : '';
        state.userNames.set(id, name || null);
      } catch (_) {
        state.userNames.set(id, null);
      }
    }));
    if (seq !== state.seq) return;
    for (const th of document.querySelectorAll('#report-table tr.responsible > th')) {
      th.textContent = responsibleLabel(th.parentElement.dataset.responsibleId);
    }
  }

  function renderKpis(report) {
    const box = $('kpis');
    box.replaceChildren();
    const total = report.total || {};
    const kinds = Object.fromEntries(METRICS.map((m) => [m.key, m.kind]));
    for (const [key, label] of KPIS) {
      const card = el('div', { class: 'kpi', 'data-metric': key });
      card.appendChild(el('div', { class: 'kpi-label' }, label));
      const value = formatValue(kinds[key], total[key]);
      const suffix = kinds[key] === 'money' && report.currency && value !== '—' ? ' ' + report.currency : '';
      card.appendChild(el('div', { class: 'kpi-value' }, value + suffix));
      box.appendChild(card);
    }
  }

  // A "nice" tick step (1, 2 or 5 × 10^k) for about four ticks up to `v`.
  function niceStep(v) {
    if (!(v > 0)) return 1;
    const raw = v / 4;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const step of [1, 2, 5, 10]) {
      if (step * p >= raw) return step * p;
    }
    return 10 * p;
  }

  function compact(n) {
    const a = Math.abs(n);
    if (a >= 1e9) return fixed(n / 1e9, a >= 1e10 ? 0 : 1) + 'B';
    if (a >= 1e6) return fixed(n / 1e6, a >= 1e7 ? 0 : 1) + 'M';
    if (a >= 1e3) return fixed(n / 1e3, a >= 1e4 ? 0 : 1) + 'k';
    return fixed(n, Number.isInteger(n) ? 0 : 2);
  }

  function renderChart(report, f) {
    const box = $('chart');
    box.replaceChildren();
    const groupBy = report.groupBy || f.groupBy;
    const rows = (Array.isArray(report.rows) ? report.rows : []).filter(
      (r) => Number(r.revenue || 0) > 0 || Number(r.expenses || 0) > 0);
    $('chart-title').textContent = 'Revenue and expenses by ' + (groupBy === 'channel' ? 'channel group' : 'source') +
      (report.currency ? ' (' + report.currency + ')' : '');
    if (rows.length === 0) {
      box.appendChild(el('p', { class: 'muted empty-chart' }, 'No revenue or expenses in this range.'));
      return;
    }
    // Drawn at the size it is shown, so the text keeps its natural size.
    const width = Math.max(480, Math.round(box.clientWidth || 860));
    const labelW = Math.min(200, Math.round(width * 0.28));
    const rightPad = 70;
    const barH = 14;
    const gap = 4;
    const groupGap = 14;
    const top = 24;
    const plotW = width - labelW - rightPad;
    const groupH = barH * 2 + gap + groupGap;
    const height = top + rows.length * groupH + 4;
    const topValue = Math.max(...rows.map((r) => Math.max(Number(r.revenue || 0), Number(r.expenses || 0))));
    const step = niceStep(topValue);
    const ticks = Math.max(1, Math.ceil(topValue / step));
    const max = step * ticks;
    const x = (v) => labelW + (Math.max(0, v) / max) * plotW;

    const root = svg('svg', {
      viewBox: '0 0 ' + width + ' ' + height, width, height, role: 'img',
      'aria-label': 'Revenue and expenses per ' + (groupBy === 'channel' ? 'channel group' : 'source'),
      id: 'chart-svg',
    });
    for (let i = 0; i <= ticks; i++) {
      const v = step * i;
      const gx = x(v);
      root.appendChild(svg('line', { x1: gx, x2: gx, y1: top - 6, y2: height - 4, class: 'grid' }));
      root.appendChild(svg('text', { x: gx, y: top - 10, class: 'tick', 'text-anchor': 'middle' }, compact(v)));
    }
    rows.forEach((r, i) => {
      const y0 = top + i * groupH;
      const g = svg('g', { class: 'bar-group', 'data-row-key': rowKey(r, groupBy) });
      const label = rowLabel(r, groupBy);
      g.appendChild(svg('text', { x: labelW - 10, y: y0 + barH + gap / 2 + 4, class: 'bar-label', 'text-anchor': 'end' },
        label.length > 26 ? label.slice(0, 25) + '…' : label));
      [['revenue', 0], ['expenses', 1]].forEach(([series, k]) => {
        const v = Number(r[series] || 0);
        const y = y0 + k * (barH + gap);
        const w = Math.max(v > 0 ? 1.5 : 0, x(v) - labelW);
        const rect = svg('rect', {
          x: labelW, y, width: w, height: barH, rx: 2, class: 'bar ' + series,
          'data-series': series, 'data-value': r[series] === null || r[series] === undefined ? '' : String(r[series]),
        });
        rect.appendChild(svg('title', {}, label + ' — ' + series + ': ' + formatValue('money', r[series])));
        g.appendChild(rect);
        g.appendChild(svg('text', { x: labelW + w + 6, y: y + barH - 3, class: 'bar-value' },
          r[series] === null || r[series] === undefined ? '—' : compact(v)));
      });
      root.appendChild(g);
    });
    root.appendChild(svg('line', { x1: labelW, x2: labelW, y1: top - 6, y2: height - 4, class: 'axis' }));
    box.appendChild(root);
  }

  // ------------------------------------------------------------------ CSV

  function csvField(v) {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  // The current table: a header of metric names, one line per row (and per responsible when
  // split), then the total. Values are the method's numbers, unformatted.
  function toCsv(report, f) {
    const groupBy = report.groupBy || f.groupBy;
    const split = f.byResponsible === 'Y';
    const idCols = groupBy === 'channel' ? ['channel', 'channel_name'] : ['source_id', 'source_code', 'source_name'];
    const header = idCols.concat(split ? ['assigned_by_id'] : [], METRICS.map((m) => m.key));
    const lines = [header.map(csvField).join(',')];
    const metricValues = (obj, only) => METRICS.map((m) => (only && !only.has(m.key) ? '' : obj[m.key]));
    for (const row of report.rows || []) {
      const ids = idCols.map((c) => row[c]);
      lines.push(ids.concat(split ? [''] : [], metricValues(row)).map(csvField).join(','));
      if (split && Array.isArray(row.by_responsible)) {
        for (const r of row.by_responsible) {
          lines.push(ids.concat([r.assigned_by_id], metricValues(r, RESPONSIBLE_METRICS)).map(csvField).join(','));
        }
      }
    }
    const totalIds = idCols.map((c) => (c === 'source_name' || c === 'channel_name' ? 'Total' : ''));
    lines.push(totalIds.concat(split ? [''] : [], metricValues(report.total || {})).map(csvField).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  function downloadCsv() {
    if (!state.report) return;
    const { report, f } = state.report;
    const blob = new Blob([toCsv(report, f)], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = el('a', {
      href: url,
      download: 'leadtrace-report_' + (report.from || f.from) + '_' + (report.to || f.to) + '_' +
        (report.model || f.model) + '_' + (report.groupBy || f.groupBy) + '.csv',
    });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ------------------------------------------------------------------ loading

  async function load() {
    const f = filters();
    const problem = validFilters(f);
    if (problem) {
      state.seq++; // answers still on their way are for other filters
      setError('error', problem);
      $('app').dataset.state = 'error';
      $('refresh-button').disabled = false;
      return;
    }
    sessionStorage.setItem(FILTER_KEY, JSON.stringify(f));
    const seq = ++state.seq;
    const app = $('app');
    app.dataset.state = 'loading';
    $('status').textContent = 'Loading…';
    $('refresh-button').disabled = true;
    try {
      const report = await call(state.auth, 'leadtrace.tracking.report.get', f);
      if (seq !== state.seq) return;
      if (!report || typeof report !== 'object') throw new Error('The report answer is empty.');
      setError('error', '');
      state.report = { report, f };
      renderTable(report, f);
      renderChart(report, f);
      renderKpis(report);
      $('table-title').textContent = 'Report ' + (report.from || f.from) + ' – ' + (report.to || f.to);
      $('status').textContent = (report.rows || []).length + ' rows · ' +
        $('model').selectedOptions[0].textContent + (report.currency ? ' · amounts in ' + report.currency : '');
      $('csv-button').disabled = false;
      app.dataset.state = 'ready';
      if (f.byResponsible === 'Y') nameResponsibles(report, seq);
    } catch (e) {
      if (seq !== state.seq) return;
      setError('error', explain(e));
      $('status').textContent = '';
      app.dataset.state = 'error';
      if (e instanceof ApiError && (e.code === 'expired_token' || e.code === 'invalid_token')) {
        $('csv-button').disabled = true;
      }
    } finally {
      if (seq === state.seq) $('refresh-button').disabled = false;
    }
  }

  function scheduleLoad() {
    clearTimeout(state.debounce);
    state.debounce = setTimeout(load, 250);
  }

  // ------------------------------------------------------------------ session

  async function describeUser(auth) {
    const me = await call(auth, 'profile', {});
    const name = [me && me.NAME, me && me.LAST_NAME].filter(Boolean).join(' ');
    const where = auth.kind === 'webhook' ? new URL(auth.url).host : new URL(auth.base).host;
    return (name || ('User #' + (me && me.ID))) + (me && me.ADMIN ? ' (administrator)' : '') + ' · ' + where;
  }

  async function login(event) {
    event.preventDefault();
    setError('login-error', '');
    const kind = $('kind-oauth').checked ? 'oauth' : 'webhook';
    let auth;
    if (kind === 'webhook') {
      const url = parseWebhook($('webhook-url').value);
      if (!url) {
        setError('login-error', 'That is not an inbound webhook URL: it looks like …/rest/{user id}/{code}/.');
        return;
      }
      auth = { kind, url };
    } else {
      const base = parseBase($('base-url').value);
      const token = $('access-token').value.trim();
      if (!base) {
        setError('login-error', 'The base URL is not a valid http(s) URL.');
        return;
      }
      if (!token) {
        setError('login-error', 'Enter an access token.');
        return;
      }
      auth = { kind, base, token };
    }
    $('login-button').disabled = true;
    try {
      const who = await describeUser(auth);
      saveAuth(auth);
      enter(auth, who);
    } catch (e) {
      setError('login-error', explain(e));
    } finally {
      $('login-button').disabled = false;
    }
  }

  function enter(auth, who) {
    state.auth = auth;
    $('session-user').textContent = who || '';
    show('app');
    load();
  }

  function logout() {
    saveAuth(null);
    state.auth = null;
    state.report = null;
    state.userNames.clear();
    state.seq++;
    $('access-token').value = '';
    $('webhook-url').value = '';
    $('report-table').tHead.replaceChildren();
    $('report-table').tBodies[0].replaceChildren();
    $('report-table').tFoot.replaceChildren();
    $('chart').replaceChildren();
    $('kpis').replaceChildren();
    $('csv-button').disabled = true;
    setError('error', '');
    $('app').dataset.state = 'idle';
    show('login');
  }

  function toggleKind() {
    const oauth = $('kind-oauth').checked;
    $('oauth-fields').hidden = !oauth;
    $('webhook-fields').hidden = oauth;
  }

  function init() {
    $('base-url').value = window.location.origin;
    restoreFilters();
    $('login-form').addEventListener('submit', login);
    $('kind-webhook').addEventListener('change', toggleKind);
    $('kind-oauth').addEventListener('change', toggleKind);
    $('logout-button').addEventListener('click', logout);
    $('controls').addEventListener('submit', (e) => {
      e.preventDefault();
      load();
    });
    for (const id of ['from', 'to', 'model', 'group-by', 'by-responsible']) {
      $(id).addEventListener('change', scheduleLoad);
    }
    for (const b of document.querySelectorAll('.presets [data-days]')) {
      b.addEventListener('click', () => {
        $('from').value = daysAgo(Number(b.dataset.days) - 1);
        $('to').value = daysAgo(0);
        scheduleLoad();
      });
    }
    $('csv-button').addEventListener('click', downloadCsv);
    let resize = null;
    window.addEventListener('resize', () => {
      clearTimeout(resize);
      resize = setTimeout(() => {
        if (state.report) renderChart(state.report.report, state.report.f);
      }, 150);
    });
    toggleKind();
    const auth = loadAuth();
    if (!auth) {
      show('login');
      return;
    }
    state.auth = auth;
    show('app');
    load();
    describeUser(auth).then((who) => {
      $('session-user').textContent = who;
    }, (e) => {
      if (isAuthError(e)) {
        logout();
        setError('login-error', explain(e));
      }
    });
  }

  // For tests and the curious: the formatter and CSV builder the page uses.
  window.leadtraceDashboard = { formatValue, toCsv, parseWebhook, METRICS };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
