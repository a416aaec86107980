/*
 * leadtrace website tracker: window.b24Tracker.guest, served by leadtrace at GET /tracker.js.
 *
 * Collects what Bitrix24's Sales Intelligence tracker collects (spec/sales-intelligence.md
 * §4.1-4.2) in the visitor's browser and hands it to the site as the TRACE JSON string:
 *
 *   <script src="https://crm.example.com/tracker.js"></script>
 *   form.TRACE.value = b24Tracker.guest.getTrace();   // right before the form is sent
 *
 * The site's backend passes that string unchanged to crm.tracking.trace.add or to the TRACE field
 * of crm.lead.add (or deal, contact, company, quote).
 *
 * Storage (localStorage of the site's origin; everything expires after the lifespan):
 *   b24_crm_guest_utm      {ts, list, gclid}   the current visit's UTM tags (ts: capture time)
 *   b24_crm_guest_ref      {ts, ref}           the remembered external referrer
 *   b24_crm_guest_pages    {list}              the last 5 distinct pages [url, unix s, title]
 *   b24_crm_guest_previous {list}              up to 5 earlier visits (trace objects)
 *   b24_crm_guest_id       gid                 the guest id (a plain string, not JSON)
 *   b24_crm_guest_stored   {action: {ts, trace}}  traces kept by storeTrace() / registerOrder()
 *
 * Lifespan (days): the portal's attribution window, baked in when the script is served, unless
 * the script tag carries data-lifespan="N" (1-365).
 *
 * No dependencies; plain ES5 so that old browsers on a customer's site do not choke on it.
 */
(function (window, document) {
  'use strict';

  if (window.b24Tracker && window.b24Tracker.guest) {
    return; // embedded twice: the first copy keeps working
  }

  // Replaced by the server with the portal's attribution window; 28 days when served verbatim.
  var PORTAL_LIFESPAN_DAYS = +'{{LIFESPAN_DAYS}}' || 28;

  var KEY_UTM = 'b24_crm_guest_utm';
  var KEY_REF = 'b24_crm_guest_ref';
  var KEY_PAGES = 'b24_crm_guest_pages';
  var KEY_PREVIOUS = 'b24_crm_guest_previous';
  var KEY_GID = 'b24_crm_guest_id';
  var KEY_STORED = 'b24_crm_guest_stored';
  var GID_COOKIE = 'b24_crm_guest_id';

  var UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'];
  var RECAPTURE_SECONDS = 3600;
  var MAX_PAGES = 5;
  var MAX_PREVIOUS = 5;
  var TITLE_CHARS = 40;
  // The server refuses longer values (crm::tracking::parse); cut them here instead.
  var MAX_URL_CHARS = 1024;
  var MAX_TEXT_CHARS = 256;

  var script = document.currentScript;
  var lifespanDays = PORTAL_LIFESPAN_DAYS;
  (function () {
    var attr = script && script.getAttribute ? script.getAttribute('data-lifespan') : null;
    var days = attr === null ? NaN : parseInt(attr, 10);
    if (days >= 1 && days <= 365) {
      lifespanDays = days;
    }
  })();

  // ------------------------------------------------------------------ helpers

  function now() {
    return Math.floor(new Date().getTime() / 1000);
  }

  function chars(s, max) {
    s = String(s);
    // Code points, not UTF-16 units: a title cut must not split a surrogate pair.
    var out = '';
    var n = 0;
    for (var i = 0; i < s.length && n < max; i++, n++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        out += s.charAt(i) + s.charAt(i + 1);
        i++;
      } else {
        out += s.charAt(i);
      }
    }
    return out;
  }

  function clean(s, max) {
    if (s === null || s === undefined) {
      return '';
    }
    return chars(String(s).replace(/\s+/g, ' ').replace(/^ | $/g, ''), max);
  }

  var memory = {};
  var storage = (function () {
    try {
      var ls = window.localStorage;
      var probe = '__b24_probe__';
      ls.setItem(probe, '1');
      ls.removeItem(probe);
      return ls;
    } catch (e) {
      return null; // disabled or full: keep the state for this page only
    }
  })();

  function readRaw(key) {
    try {
      return storage ? storage.getItem(key) : (memory.hasOwnProperty(key) ? memory[key] : null);
    } catch (e) {
      return null;
    }
  }

  function read(key) {
    var raw = readRaw(key);
    if (raw === null || raw === undefined) {
      return null;
    }
    try {
      return JSON.parse(raw);
    } catch (e) {
      return null;
    }
  }

  function write(key, value) {
    writeRaw(key, JSON.stringify(value));
  }

  function writeRaw(key, raw) {
    try {
      if (storage) {
        storage.setItem(key, raw);
        return;
      }
    } catch (e) {
      // quota: fall through to memory
    }
    memory[key] = raw;
  }

  function remove(key) {
    try {
      if (storage) {
        storage.removeItem(key);
      }
    } catch (e) {
      // ignore
    }
    delete memory[key];
  }

  function isObject(v) {
    return v !== null && typeof v === 'object' && !(v instanceof Array);
  }

  function copy(v) {
    return v === null || v === undefined ? v : JSON.parse(JSON.stringify(v));
  }

  function query(search) {
    var out = {};
    var s = String(search || '').replace(/^\?/, '');
    if (!s) {
      return out;
    }
    var parts = s.split('&');
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      var k = eq < 0 ? parts[i] : parts[i].slice(0, eq);
      var v = eq < 0 ? '' : parts[i].slice(eq + 1);
      try {
        k = decodeURIComponent(k.replace(/\+/g, ' '));
        v = decodeURIComponent(v.replace(/\+/g, ' '));
      } catch (e) {
        continue; // malformed escape: skip the parameter
      }
      if (!out.hasOwnProperty(k)) {
        out[k] = v; // the first occurrence wins
      }
    }
    return out;
  }

  function hostOf(url) {
    var m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@\/?#]*@)?([^:\/?#]+)/i.exec(String(url || ''));
    return m ? m[1].toLowerCase() : '';
  }

  function pageUrl() {
    return chars(String(window.location.href).replace(/#.*$/, ''), MAX_URL_CHARS);
  }

  function cookie(name) {
    var parts = String(document.cookie || '').split(';');
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i].replace(/^\s+/, '');
      if (p.indexOf(name + '=') === 0) {
        try {
          return decodeURIComponent(p.slice(name.length + 1));
        } catch (e) {
          return p.slice(name.length + 1);
        }
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ stored state

  function readTags() {
    var t = read(KEY_UTM);
    if (!isObject(t) || typeof t.ts !== 'number') {
      return null;
    }
    return { ts: t.ts, list: isObject(t.list) ? t.list : {}, gclid: t.gclid ? String(t.gclid) : null };
  }

  function readRef() {
    var r = read(KEY_REF);
    return isObject(r) && typeof r.ts === 'number' && r.ref ? r : null;
  }

  function readPages() {
    var p = read(KEY_PAGES);
    var list = isObject(p) && p.list instanceof Array ? p.list : [];
    var out = [];
    for (var i = 0; i < list.length; i++) {
      if (list[i] instanceof Array && list[i][0]) {
        out.push(list[i]);
      }
    }
    return out;
  }

  function readPrevious() {
    var p = read(KEY_PREVIOUS);
    var list = isObject(p) && p.list instanceof Array ? p.list : [];
    var out = [];
    for (var i = 0; i < list.length; i++) {
      if (isObject(list[i])) {
        out.push(list[i]);
      }
    }
    return out;
  }

  function lifespanSeconds() {
    return lifespanDays * 86400;
  }

  /** Forgets tags, referrer, pages and previous visits older than the lifespan. */
  function expire(t) {
    var oldest = t - lifespanSeconds();
    var tags = readTags();
    if (tags && tags.ts < oldest) {
      remove(KEY_UTM);
    }
    var ref = readRef();
    if (ref && ref.ts < oldest) {
      remove(KEY_REF);
    }
    var pages = readPages();
    var kept = [];
    for (var i = 0; i < pages.length; i++) {
      if (typeof pages[i][1] === 'number' && pages[i][1] >= oldest) {
        kept.push(pages[i]);
      }
    }
    if (kept.length !== pages.length) {
      write(KEY_PAGES, { list: kept });
    }
    var previous = readPrevious();
    var recent = [];
    for (var j = 0; j < previous.length; j++) {
      var ts = previous[j].tags && previous[j].tags.ts;
      if (typeof ts === 'number' && ts >= oldest) {
        recent.push(previous[j]);
      }
    }
    if (recent.length !== previous.length) {
      write(KEY_PREVIOUS, { list: recent });
    }
  }

  // ------------------------------------------------------------------ collection

  function utmFromUrl(params) {
    var list = {};
    for (var i = 0; i < UTM_KEYS.length; i++) {
      var v = clean(params[UTM_KEYS[i]], MAX_TEXT_CHARS);
      if (v) {
        list[UTM_KEYS[i]] = v;
      }
    }
    return list;
  }

  /** document.referrer when it is another host's page, else ''. */
  function externalReferrer() {
    var ref = String(document.referrer || '');
    var host = hostOf(ref);
    if (!host || host === String(window.location.hostname).toLowerCase()) {
      return '';
    }
    return chars(ref, MAX_URL_CHARS);
  }

  /** The stored state holds a visit worth remembering as a previous one. */
  function hasVisit() {
    var tags = readTags();
    return readPages().length > 0 || !!readRef() ||
      !!(tags && (tags.gclid || tags.list.utm_source));
  }

  /** A visit from a new source starts: the current one becomes a previous entry. */
  function startVisit(t, tags, ref) {
    if (hasVisit()) {
      var entry = build({ previous: false }, true);
      var previous = readPrevious();
      previous.push(entry);
      while (previous.length > MAX_PREVIOUS) {
        previous.shift();
      }
      write(KEY_PREVIOUS, { list: previous });
    }
    write(KEY_UTM, tags);
    if (ref) {
      write(KEY_REF, { ts: t, ref: ref });
    } else {
      remove(KEY_REF);
    }
    write(KEY_PAGES, { list: [] });
  }

  /**
   * Source detection (§4.2): a non-empty utm_source different from the stored one, a new gclid,
   * or an external referrer from another host than the remembered one is a new source; the same
   * utm_source after more than 3600 s re-captures the tags without starting a new visit.
   */
  function detect(t) {
    var params = query(window.location.search);
    var list = utmFromUrl(params);
    var gclid = clean(params.gclid, MAX_TEXT_CHARS) || null;
    var stored = readTags();
    var storedRef = readRef();
    var ref = externalReferrer();
    if (list.utm_source) {
      if (!stored || stored.list.utm_source !== list.utm_source) {
        startVisit(t, { ts: t, list: list, gclid: gclid }, ref);
      } else if (t - stored.ts > RECAPTURE_SECONDS) {
        write(KEY_UTM, { ts: t, list: list, gclid: gclid });
      }
    } else if (gclid && (!stored || stored.gclid !== gclid)) {
      startVisit(t, { ts: t, list: {}, gclid: gclid }, ref);
    } else if (ref && (!storedRef || hostOf(storedRef.ref) !== hostOf(ref))) {
      startVisit(t, { ts: t, list: {}, gclid: null }, ref);
    } else if (!stored) {
      write(KEY_UTM, { ts: t, list: {}, gclid: null }); // a direct visit starts
    }
  }

  function pageTitle() {
    var h1 = document.getElementsByTagName('h1')[0];
    var title = h1 ? clean(h1.textContent || h1.innerText, TITLE_CHARS) : '';
    return title || clean(document.title, TITLE_CHARS);
  }

  function collectPage(t) {
    var url = pageUrl();
    var pages = readPages();
    var kept = [];
    for (var i = 0; i < pages.length; i++) {
      if (pages[i][0] !== url) {
        kept.push(pages[i]);
      }
    }
    kept.push([url, t, pageTitle()]);
    while (kept.length > MAX_PAGES) {
      kept.shift();
    }
    write(KEY_PAGES, { list: kept });
  }

  // ------------------------------------------------------------------ the trace

  function isMobile() {
    var nav = window.navigator || {};
    if (nav.userAgentData && typeof nav.userAgentData.mobile === 'boolean') {
      return nav.userAgentData.mobile;
    }
    return /Mobi|Android|iPhone|iPad|iPod|IEMobile|Opera Mini|BlackBerry/i.test(String(nav.userAgent || ''));
  }

  function clientIds() {
    var client = {};
    var ga = cookie('_ga'); // GA1.2.<random>.<first visit>: the client id is the last two parts
    var m = ga ? /(\d+\.\d+)$/.exec(ga) : null;
    if (m) {
      client.gaId = m[1];
    }
    var ya = cookie('_ym_uid');
    if (ya && /^\d+$/.test(ya)) {
      client.yaId = ya;
    }
    return client;
  }

  function getGid() {
    var gid = readRaw(KEY_GID); // a plain string, not JSON
    if (gid === null || gid === undefined || gid === '') {
      gid = getGidCookie();
    }
    return gid === null || gid === undefined || gid === '' ? null : clean(gid, MAX_TEXT_CHARS);
  }

  /**
   * The trace object, keys in Bitrix24's order. `snapshot`: a previous-visit entry, whose url is
   * the last page of that visit rather than the current location.
   */
  function build(options, snapshot) {
    options = options || {};
    var t = now();
    var pages = readPages();
    var trace = {};
    if (snapshot) {
      trace.url = pages.length ? pages[pages.length - 1][0] : '';
    } else {
      trace.url = chars(String(window.location.href), MAX_URL_CHARS);
    }
    var ref = readRef();
    if (ref) {
      trace.ref = ref.ref;
    }
    trace.device = { isMobile: isMobile() };
    var tags = readTags() || { ts: t, list: {}, gclid: null };
    trace.tags = { ts: tags.ts, list: copy(tags.list), gclid: tags.gclid || null };
    trace.client = clientIds();
    trace.pages = { list: pages.length ? pages : null };
    trace.gid = getGid();
    if (options.previous !== false) {
      trace.previous = { list: readPrevious() };
    }
    if (options.channels instanceof Array && options.channels.length) {
      trace.channels = copy(options.channels);
    }
    if (isObject(options.order)) {
      trace.order = copy(options.order);
    }
    return trace;
  }

  // ------------------------------------------------------------------ public API

  var initialized = false;

  function init() {
    if (initialized) {
      return;
    }
    initialized = true;
    var t = now();
    var cookieGid = getGidCookie();
    if (cookieGid && !readRaw(KEY_GID)) {
      writeRaw(KEY_GID, clean(cookieGid, MAX_TEXT_CHARS));
    }
    expire(t);
    detect(t);
    collectPage(t);
    drainOrders();
  }

  function getTrace(options) {
    init();
    options = options || {};
    var text = JSON.stringify(build(options, false));
    if (options.previous !== false) {
      write(KEY_PREVIOUS, { list: [] }); // sent: the previous visits are consumed
    }
    return text;
  }

  function remindTrace(options) {
    init();
    return JSON.stringify(build(options || {}, false));
  }

  function getPages() {
    return copy(readPages());
  }

  function getTags() {
    var tags = readTags();
    return tags ? copy(tags.list) : {};
  }

  function getUtmSource() {
    var tags = readTags();
    return tags && tags.list.utm_source ? tags.list.utm_source : null;
  }

  function isUtmSourceDetected() {
    return getUtmSource() !== null;
  }

  function getGidCookie() {
    var v = cookie(GID_COOKIE);
    return v ? v : null;
  }

  function setGid(gid) {
    gid = clean(gid, MAX_TEXT_CHARS);
    if (!gid) {
      remove(KEY_GID);
      document.cookie = GID_COOKIE + '=; path=/; max-age=0';
      return;
    }
    writeRaw(KEY_GID, gid);
    document.cookie = GID_COOKIE + '=' + encodeURIComponent(gid) + '; path=/; max-age=' +
      lifespanSeconds() + '; SameSite=Lax';
  }

  // Guest registration and linking need the portal's guest endpoint, which leadtrace does not
  // have (docs/compatibility.md): both keep working as calls and return null.
  function link() {
    return null;
  }

  function register() {
    return null;
  }

  /** Keeps a trace string for an action (e.g. "order"); getStoredTrace(action) reads it back. */
  function storeTrace(trace, action) {
    var text = typeof trace === 'string' ? trace : JSON.stringify(trace);
    var stored = read(KEY_STORED);
    if (!isObject(stored)) {
      stored = {};
    }
    stored[String(action || 'default')] = { ts: now(), trace: text };
    write(KEY_STORED, stored);
    return text;
  }

  function getStoredTrace(action) {
    var stored = read(KEY_STORED);
    var entry = isObject(stored) ? stored[String(action || 'default')] : null;
    return entry && typeof entry.trace === 'string' ? entry.trace : null;
  }

  /**
   * An order: the trace with channel `order` and `{id, sum}`, kept with storeTrace(trace,
   * "order") and announced as the DOM event "b24:order" (detail: {id, sum, trace}); returns the
   * trace string. Previous visits stay (remindTrace semantics).
   */
  function registerOrder(order) {
    init();
    if (!isObject(order) || order.id === undefined || order.id === null || order.id === '') {
      return null;
    }
    var id = clean(order.id, MAX_TEXT_CHARS);
    var sum = parseFloat(order.sum);
    sum = isFinite(sum) ? sum : 0;
    var text = JSON.stringify(build({
      channels: [{ code: 'order', value: id }],
      order: { id: id, sum: sum }
    }, false));
    storeTrace(text, 'order');
    try {
      var ev;
      if (typeof window.CustomEvent === 'function') {
        ev = new window.CustomEvent('b24:order', { detail: { id: id, sum: sum, trace: text } });
      } else {
        ev = document.createEvent('CustomEvent');
        ev.initCustomEvent('b24:order', false, false, { id: id, sum: sum, trace: text });
      }
      document.dispatchEvent(ev);
    } catch (e) {
      // no events in this browser: the stored trace is still there
    }
    return text;
  }

  /** window.b24order: orders pushed before the tracker loaded are registered now, later ones at once. */
  function drainOrders() {
    var queue = window.b24order;
    var pending = queue instanceof Array ? queue.splice(0, queue.length) : [];
    if (!(queue instanceof Array)) {
      queue = [];
      window.b24order = queue;
    }
    queue.push = function () {
      for (var i = 0; i < arguments.length; i++) {
        registerOrder(arguments[i]);
      }
      return 0;
    };
    for (var i = 0; i < pending.length; i++) {
      registerOrder(pending[i]);
    }
  }

  window.b24Tracker = window.b24Tracker || {};
  window.b24Tracker.guest = {
    init: init,
    getTrace: getTrace,
    remindTrace: remindTrace,
    getPages: getPages,
    getTags: getTags,
    getUtmSource: getUtmSource,
    isUtmSourceDetected: isUtmSourceDetected,
    getGidCookie: getGidCookie,
    setGid: setGid,
    getGid: getGid,
    link: link,
    register: register,
    storeTrace: storeTrace,
    getStoredTrace: getStoredTrace,
    registerOrder: registerOrder,
    lifespan: lifespanDays
  };

  if (document.readyState === 'loading') {
    // The page's <h1> is not parsed yet: collect once the document is.
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})(window, document);
