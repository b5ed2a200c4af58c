'use strict';
// Reading the login ticket out of the page query.
//
// Two QR kinds reach the login page:
//   wxacode  the round mini program code; WeChat hands us `query.scene`, the
//            scene string given to getwxacodeunlimit, URL-encoded once.
//   url      an ordinary QR holding https://<public host>/q/<ticket>; WeChat's
//            "scan ordinary link QR codes" rule opens the page with `query.q`
//            (the whole URL, URL-encoded once) and `query.scancode_time`.
//
// Everything here is pure: no wx, no clock.  Every function returns a result
// object instead of throwing, so the caller can show a precise message.

const TICKET_RE = /^[0-9A-Za-z]{22}$/;
const SCENE_MAX = 32; // getwxacodeunlimit refuses longer scenes
const URL_MAX = 2048; // longer than any QR URL we issue
// Encoded input may be up to three times the decoded length (%XX per byte).
const ENCODED_FACTOR = 3;

function ok(kind, ticket, extra) {
  const r = { ok: true, kind: kind, ticket: ticket };
  if (extra) {
    for (const k in extra) {
      if (Object.prototype.hasOwnProperty.call(extra, k)) r[k] = extra[k];
    }
  }
  return r;
}

function fail(kind, reason) {
  return { ok: false, kind: kind, reason: reason };
}

function isTicket(value) {
  return typeof value === 'string' && TICKET_RE.test(value);
}

// decodeURIComponent that reports bad escapes instead of throwing URIError.
function decodeOnce(raw) {
  try {
    return { ok: true, value: decodeURIComponent(raw) };
  } catch (e) {
    return { ok: false };
  }
}

// The scene is normally the bare ticket.  A `key=value&...` scene with the
// ticket under `t` or `ticket` is accepted too, so an operator who prefixes
// the scene does not break the page.
function ticketFromScene(scene) {
  if (scene.indexOf('=') < 0) return scene;
  const parts = scene.split('&');
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq < 0) continue;
    const key = parts[i].slice(0, eq);
    if (key === 't' || key === 'ticket') return parts[i].slice(eq + 1);
  }
  return '';
}

function parseScene(raw) {
  if (raw === undefined || raw === null || raw === '') return fail('wxacode', 'missing');
  if (typeof raw !== 'string') return fail('wxacode', 'malformed');
  if (raw.length > SCENE_MAX * ENCODED_FACTOR) return fail('wxacode', 'too_long');
  const d = decodeOnce(raw);
  if (!d.ok) return fail('wxacode', 'bad_encoding');
  const scene = d.value;
  if (scene.length > SCENE_MAX) return fail('wxacode', 'too_long');
  const ticket = ticketFromScene(scene);
  if (ticket === '') return fail('wxacode', 'missing');
  if (!isTicket(ticket)) return fail('wxacode', 'bad_ticket');
  return ok('wxacode', ticket);
}

// Split an absolute http(s) URL into lower-cased scheme+authority and the rest.
// Returns null for anything that is not a plain absolute URL.
const URL_RE = /^(https?):\/\/([^/?#\s]+)([^\s]*)$/i;

function splitUrl(url) {
  const m = URL_RE.exec(url);
  if (!m) return null;
  const authority = m[2];
  // user-info ("https://good.host@evil.host/") is never part of our URLs
  if (authority.indexOf('@') >= 0) return null;
  return {
    scheme: m[1].toLowerCase(),
    authority: authority.toLowerCase(),
    rest: m[3] || '/',
  };
}

// Check one configured prefix ("https://login.example.com/q/").  Returns the
// split form or null when the prefix is unusable.
function splitPrefix(prefix, allowHttp) {
  if (typeof prefix !== 'string' || prefix.charAt(prefix.length - 1) !== '/') return null;
  const p = splitUrl(prefix);
  if (!p) return null;
  if (p.scheme !== 'https' && !(allowHttp && p.scheme === 'http')) return null;
  // The prefix must name a path that ends in "/" so the ticket follows it.
  if (p.rest.charAt(p.rest.length - 1) !== '/' || /[?#]/.test(p.rest)) return null;
  return p;
}

// What follows the prefix: the ticket, optionally "/" and/or ?query / #fragment.
const TAIL_RE = /^([^/?#]*)\/?(?:[?#].*)?$/;

function ticketFromUrl(url, prefixes, allowHttp) {
  if (url.length > URL_MAX) return { reason: 'too_long' };
  const u = splitUrl(url);
  if (!u) return { reason: 'not_url' };
  if (u.scheme !== 'https' && !(allowHttp && u.scheme === 'http')) return { reason: 'not_https' };
  const list = prefixes || [];
  let sawHost = false;
  for (let i = 0; i < list.length; i++) {
    const p = splitPrefix(list[i], allowHttp);
    if (!p || p.scheme !== u.scheme || p.authority !== u.authority) continue;
    sawHost = true;
    if (u.rest.indexOf(p.rest) !== 0) continue;
    const m = TAIL_RE.exec(u.rest.slice(p.rest.length));
    if (!m) return { reason: 'wrong_path' };
    if (m[1] === '') return { reason: 'missing' };
    if (!isTicket(m[1])) return { reason: 'bad_ticket' };
    return { ticket: m[1] };
  }
  return { reason: sawHost ? 'wrong_path' : 'wrong_host' };
}

// options.prefixes: accepted URL prefixes; options.allowHttp: accept http://
// (local development only; WeChat itself only opens https URLs).
function parseQ(rawQ, rawScancodeTime, options) {
  const opts = options || {};
  if (rawQ === undefined || rawQ === null || rawQ === '') return fail('url', 'missing');
  if (typeof rawQ !== 'string') return fail('url', 'malformed');
  if (rawQ.length > URL_MAX * ENCODED_FACTOR) return fail('url', 'too_long');
  const d = decodeOnce(rawQ);
  if (!d.ok) return fail('url', 'bad_encoding');
  const r = ticketFromUrl(d.value, opts.prefixes, !!opts.allowHttp);
  if (!r.ticket) return fail('url', r.reason);
  return ok('url', r.ticket, { scancodeTime: parseScancodeTime(rawScancodeTime) });
}

// scancode_time is epoch seconds as a decimal string; null when absent or odd.
function parseScancodeTime(raw) {
  if (typeof raw === 'number' && isFinite(raw) && raw > 0) return Math.floor(raw);
  if (typeof raw !== 'string' || !/^[0-9]{1,12}$/.test(raw)) return null;
  const n = parseInt(raw, 10);
  return n > 0 ? n : null;
}

function hasValue(v) {
  return v !== undefined && v !== null && v !== '';
}

// The page's query object -> ticket.  `q` and `scene` together never come from
// a genuine scan, so that is refused rather than guessed at.
function parseLaunchQuery(query, options) {
  const q = query || {};
  const hasScene = hasValue(q.scene);
  const hasQ = hasValue(q.q);
  if (hasScene && hasQ) return fail('unknown', 'ambiguous');
  if (hasQ) return parseQ(q.q, q.scancode_time, options);
  if (hasScene) return parseScene(q.scene);
  return fail('unknown', 'missing');
}

// Query string of a mini program path ("pages/login/login?scene=abc") -> object
// of still-encoded values, the shape Page.onLoad receives.
function queryFromPath(path) {
  const out = {};
  if (typeof path !== 'string') return out;
  const qi = path.indexOf('?');
  if (qi < 0) return out;
  const pairs = path.slice(qi + 1).split('&');
  for (let i = 0; i < pairs.length; i++) {
    if (!pairs[i]) continue;
    const eq = pairs[i].indexOf('=');
    const key = eq < 0 ? pairs[i] : pairs[i].slice(0, eq);
    const val = eq < 0 ? '' : pairs[i].slice(eq + 1);
    if (!Object.prototype.hasOwnProperty.call(out, key)) out[key] = val;
  }
  return out;
}

// A wx.scanCode result -> ticket.  A code of our own mini program comes back
// with `path` (scene still URL-encoded); an ordinary QR with `result`, the
// plain (not encoded) text of the code.
function parseScanResult(res, options) {
  const opts = options || {};
  if (!res) return fail('unknown', 'missing');
  if (typeof res.path === 'string' && res.path !== '') {
    const query = queryFromPath(res.path);
    if (hasValue(query.scene)) return parseScene(query.scene);
    if (hasValue(query.q)) return parseQ(query.q, query.scancode_time, opts);
    return fail('wxacode', 'missing');
  }
  if (typeof res.result === 'string' && res.result !== '') {
    const r = ticketFromUrl(res.result, opts.prefixes, !!opts.allowHttp);
    if (!r.ticket) return fail('url', r.reason);
    return ok('url', r.ticket, { scancodeTime: null });
  }
  return fail('unknown', 'missing');
}

module.exports = {
  TICKET_RE: TICKET_RE,
  SCENE_MAX: SCENE_MAX,
  URL_MAX: URL_MAX,
  isTicket: isTicket,
  parseScene: parseScene,
  parseQ: parseQ,
  parseLaunchQuery: parseLaunchQuery,
  parseScanResult: parseScanResult,
  parseScancodeTime: parseScancodeTime,
  queryFromPath: queryFromPath,
  splitPrefix: splitPrefix,
};
