'use strict';
// Client for the scan-gateway API (POST /mp/v1/scan, /confirm, /status, /cancel).
//
// wx.request is callback based; requestJson wraps it in a promise and turns
// every outcome into either the parsed 2xx body or a GatewayError with a
// stable `code`: the gateway's own error code, or one of
//   network_error  the request never got an HTTP answer (offline, DNS, TLS)
//   timeout        no answer within the timeout
//   bad_response   an answer we cannot understand (not JSON, wrong shape)
//   http_error     an error status without the JSON error envelope

const DEFAULT_TIMEOUT_MS = 10000;
// A store outage (503 temporarily_unavailable) or load shedding (503 overloaded) passes in
// seconds: wait as Retry-After says and ask again, a few times, before showing an error.
const BUSY_CODES = { temporarily_unavailable: true, overloaded: true };
const BUSY_RETRIES = 4;
const BUSY_WAIT_DEFAULT_S = 1;
const BUSY_WAIT_MAX_S = 5;

function GatewayError(code, fields) {
  const f = fields || {};
  this.name = 'GatewayError';
  this.code = code;
  this.status = f.status || 0;
  this.message = f.message || code;
  this.requestId = f.requestId || null;
  this.retryAfter = f.retryAfter || null;
  // What the error's `details` say, unchecked: read it through a normalizer.
  this.details = f.details && typeof f.details === 'object' ? f.details : null;
}
GatewayError.prototype = Object.create(Error.prototype);
GatewayError.prototype.constructor = GatewayError;

function headerValue(headers, name) {
  if (!headers || typeof headers !== 'object') return null;
  const wanted = name.toLowerCase();
  for (const k in headers) {
    if (Object.prototype.hasOwnProperty.call(headers, k) && k.toLowerCase() === wanted) {
      return headers[k];
    }
  }
  return null;
}

function parseRetryAfter(headers) {
  const v = headerValue(headers, 'Retry-After');
  if (v === null || v === undefined) return null;
  const n = parseInt(String(v), 10);
  return isFinite(n) && n >= 0 && n <= 3600 ? n : null;
}

// wx.request parses JSON itself when it can and hands over the raw string
// otherwise; accept both.
function asObject(data) {
  if (data && typeof data === 'object') return data;
  if (typeof data === 'string' && data !== '') {
    try {
      const parsed = JSON.parse(data);
      return parsed && typeof parsed === 'object' ? parsed : null;
    } catch (e) {
      return null;
    }
  }
  return null;
}

function errorFromResponse(res) {
  const status = res.statusCode;
  const body = asObject(res.data);
  const err = body && body.error && typeof body.error === 'object' ? body.error : null;
  const fields = {
    status: status,
    retryAfter: parseRetryAfter(res.header),
    requestId: err && typeof err.request_id === 'string' ? err.request_id : headerValue(res.header, 'X-Request-Id'),
    details: err ? err.details : null,
  };
  if (err && typeof err.code === 'string' && /^[a-z0-9_]{1,64}$/.test(err.code)) {
    fields.message = typeof err.message === 'string' ? err.message : err.code;
    return new GatewayError(err.code, fields);
  }
  // No usable envelope (a proxy's HTML page, an empty body): classify by status.
  if (status === 429) return new GatewayError('rate_limited', fields);
  if (status === 503) return new GatewayError('service_unavailable', fields);
  if (status >= 500) return new GatewayError('upstream_error', fields);
  fields.message = 'HTTP ' + status;
  return new GatewayError('http_error', fields);
}

function joinUrl(base, path) {
  return String(base).replace(/\/+$/, '') + path;
}

function requestJson(wx, options) {
  return new Promise(function (resolve, reject) {
    let settled = false;
    function done(fn, value) {
      if (settled) return;
      settled = true;
      fn(value);
    }
    try {
      wx.request({
        url: options.url,
        method: options.method || 'POST',
        data: options.data,
        header: options.header || { 'content-type': 'application/json' },
        timeout: options.timeout || DEFAULT_TIMEOUT_MS,
        dataType: 'json',
        responseType: 'text',
        success: function (res) {
          const status = res && typeof res.statusCode === 'number' ? res.statusCode : 0;
          if (status >= 200 && status < 300) {
            const body = asObject(res.data);
            if (!body) done(reject, new GatewayError('bad_response', { status: status }));
            else done(resolve, body);
          } else if (status === 0) {
            done(reject, new GatewayError('network_error', {}));
          } else {
            done(reject, errorFromResponse(res));
          }
        },
        fail: function (err) {
          const msg = err && typeof err.errMsg === 'string' ? err.errMsg : '';
          done(reject, new GatewayError(/time ?out/i.test(msg) ? 'timeout' : 'network_error', { message: msg }));
        },
      });
    } catch (e) {
      done(reject, new GatewayError('network_error', { message: e && e.message }));
    }
  });
}

function isString(v, max) {
  return typeof v === 'string' && v.length > 0 && v.length <= (max || 4096);
}

function optString(v, max) {
  return typeof v === 'string' && v !== '' ? v.slice(0, max) : null;
}

const PLACE_KINDS = { located: true, loopback: true, local_network: true, unknown: true };
const PROXIMITY_LEVELS = {
  same_address: true,
  same_network: true,
  same_city: true,
  same_country: true,
  different_country: true,
  unknown: true,
};

function placeNames(v) {
  const n = v && typeof v === 'object' ? v : {};
  return {
    text: optString(n.text, 128),
    country: optString(n.country, 64),
    region: optString(n.region, 64),
    city: optString(n.city, 64),
  };
}

// A place from the gateway ({kind, country_code, en: {text, ...}, zh: {...}}), or null.
function normalizeLocation(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  return {
    kind: typeof v.kind === 'string' && PLACE_KINDS[v.kind] ? v.kind : 'unknown',
    countryCode: typeof v.country_code === 'string' && /^[A-Z]{2}$/.test(v.country_code) ? v.country_code : null,
    en: placeNames(v.en),
    zh: placeNames(v.zh),
  };
}

// The place as a person reads it in `lang`, else in English; null when not known.
function placeText(location, lang) {
  if (!location) return null;
  const own = lang === 'zh' ? location.zh : location.en;
  return (own && own.text) || (location.en && location.en.text) || null;
}

function normalizeProximity(v) {
  const p = v && typeof v === 'object' ? v : {};
  return {
    level: typeof p.level === 'string' && PROXIMITY_LEVELS[p.level] ? p.level : 'unknown',
    far: p.far === true,
    phoneLocation: normalizeLocation(p.phone_location),
  };
}

// Keep only what the page shows, with types checked, so a surprising body can
// never reach the view as an object or a megabyte of text.
function normalizeScan(body, ticket, allowHttp) {
  const logoRe = allowHttp ? /^https?:\/\/\S{1,2000}$/ : /^https:\/\/\S{1,2000}$/;
  if (!body || body.ticket !== ticket || !isString(body.session, 1024)) return null;
  const site = body.site && typeof body.site === 'object' ? body.site : null;
  if (!site || !isString(site.name, 4096)) return null;
  const request = body.request && typeof body.request === 'object' ? body.request : {};
  const phone = body.phone && typeof body.phone === 'object' ? body.phone : {};
  const risk = body.risk && typeof body.risk === 'object' ? body.risk : {};
  return {
    ticket: body.ticket,
    session: body.session,
    expiresAt: typeof body.expires_at === 'number' && isFinite(body.expires_at) ? body.expires_at : null,
    site: {
      name: site.name.slice(0, 64),
      logoUrl: typeof site.logo_url === 'string' && logoRe.test(site.logo_url) ? site.logo_url : null,
      connection: optString(site.connection, 64),
    },
    request: {
      ip: optString(request.ip, 64),
      place: optString(request.place, 128),
      browser: optString(request.browser, 128),
      time: optString(request.time, 64),
      location: normalizeLocation(request.location),
    },
    proximity: normalizeProximity(body.proximity),
    phone: {
      requested: phone.requested === true,
      required: phone.requested === true && phone.required === true,
    },
    risk: {
      warning: risk.warning === true,
      reason: optString(risk.reason, 256),
    },
  };
}

// The account service's decision on a confirmed login, as the gateway passes it on.
// Anything unknown reads as "not said" (null): the phone then claims no result.
const FINAL = { succeeded: true, binding_required: true, failed: true };
// The confirm answer's own status; a gateway that already knows may name the final one.
const CONFIRMED = { confirmed: true, succeeded: true, binding_required: true, failed: true };

// {outcome: 'succeeded'|'binding_required'|'failed'|'pending'|null, reason: code|null}
// `outcome` says it; else a final ticket `status` does; a ticket still `confirmed` (read
// through /status) is still waiting for the account service.
function normalizeOutcome(body, confirmedMeansPending) {
  let outcome = null;
  if (typeof body.outcome === 'string' && (FINAL[body.outcome] || body.outcome === 'pending')) outcome = body.outcome;
  else if (typeof body.status === 'string' && FINAL[body.status]) outcome = body.status;
  else if (confirmedMeansPending && body.status === 'confirmed') outcome = 'pending';
  const reason = typeof body.reason === 'string' && /^[a-z0-9_]{1,64}$/.test(body.reason) ? body.reason : null;
  return { status: body.status, outcome: outcome, reason: outcome === 'failed' ? reason : null };
}

function defaultWait(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

// How long to wait before asking again after `err`, in ms; null: do not ask again.
function busyWaitMs(err, attempt) {
  if (!err || err.status !== 503 || !BUSY_CODES[err.code] || attempt >= BUSY_RETRIES) return null;
  const s = err.retryAfter === null ? BUSY_WAIT_DEFAULT_S : err.retryAfter;
  return Math.min(Math.max(s, 0.5), BUSY_WAIT_MAX_S) * 1000;
}

// createGateway({wx, baseUrl, timeoutMs, lang, allowInsecureHttp, wait}) -> {scan, confirm, status, cancel}
// (allowInsecureHttp: also show http:// site logos, for local development; wait(ms): the
// pause before retrying a busy answer, a promise)
function createGateway(opts) {
  const wx = opts.wx;
  const baseUrl = opts.baseUrl;
  const timeout = opts.timeoutMs || DEFAULT_TIMEOUT_MS;
  const header = { 'content-type': 'application/json' };
  if (opts.lang) header['accept-language'] = opts.lang === 'zh' ? 'zh-CN' : 'en';

  const wait = opts.wait || defaultWait;

  function post(path, data) {
    const req = { url: joinUrl(baseUrl, path), method: 'POST', data: data, header: header, timeout: timeout };
    function attempt(n) {
      return requestJson(wx, req).catch(function (err) {
        const ms = busyWaitMs(err, n);
        if (ms === null) throw err;
        return wait(ms).then(function () {
          return attempt(n + 1);
        });
      });
    }
    return attempt(0);
  }

  return {
    scan: function (ticket, code, launchScene) {
      const data = { ticket: ticket, code: code };
      if (launchScene !== null && launchScene !== undefined) data.launch_scene = launchScene;
      return post('/mp/v1/scan', data).then(function (body) {
        const scan = normalizeScan(body, ticket, opts.allowInsecureHttp === true);
        if (!scan) throw new GatewayError('bad_response', { status: 200 });
        return scan;
      });
    },
    confirm: function (ticket, session, extra) {
      const data = { ticket: ticket, session: session };
      const e = extra || {};
      if (e.phoneCode) data.phone_code = e.phoneCode;
      if (e.nickname) data.nickname = e.nickname;
      if (e.avatarUrl) data.avatar_url = e.avatarUrl;
      if (e.farAwayAcknowledged) data.far_away_acknowledged = true;
      return post('/mp/v1/confirm', data).then(function (body) {
        if (!body || !CONFIRMED[body.status]) throw new GatewayError('bad_response', { status: 200 });
        return normalizeOutcome(body, false);
      });
    },
    // What became of a confirmed login (see README, "Outcome after confirm").
    status: function (ticket, session) {
      return post('/mp/v1/status', { ticket: ticket, session: session }).then(function (body) {
        if (!body || typeof body.status !== 'string') throw new GatewayError('bad_response', { status: 200 });
        return normalizeOutcome(body, true);
      });
    },
    cancel: function (ticket, session) {
      return post('/mp/v1/cancel', { ticket: ticket, session: session }).then(function (body) {
        if (!body || body.status !== 'cancelled') throw new GatewayError('bad_response', { status: 200 });
        return body;
      });
    },
  };
}

module.exports = {
  DEFAULT_TIMEOUT_MS: DEFAULT_TIMEOUT_MS,
  BUSY_RETRIES: BUSY_RETRIES,
  GatewayError: GatewayError,
  createGateway: createGateway,
  requestJson: requestJson,
  normalizeScan: normalizeScan,
  normalizeOutcome: normalizeOutcome,
  normalizeLocation: normalizeLocation,
  placeText: placeText,
  joinUrl: joinUrl,
};
