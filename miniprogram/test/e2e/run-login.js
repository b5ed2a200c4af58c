#!/usr/bin/env node
'use strict';
// End-to-end runner: the mini program's own lib/flow.js, driven from Node
// against a real scan-gateway and the WeChat sandbox.
//
// The `wx` shim below stands in for the WeChat runtime:
//   wx.login    mints a js_code from the sandbox:
//               POST {ML_SANDBOX_URL}{ML_SANDBOX_LOGIN_CODE_PATH} {"appid","openid"} -> {"code"}
//   wx.request  real HTTP with Node's fetch
//   launch options: scene ML_LAUNCH_SCENE (default 1011, an ordinary QR scanned by camera)
//
// Steps: parse the QR URL (as WeChat hands it over: `q` URL-encoded once, plus
// scancode_time) -> wx.login -> POST /mp/v1/scan -> POST /mp/v1/confirm (or /cancel).
// Prints ONE JSON line and exits 0 on success, 1 when the flow failed, 2 on bad usage.
//
// Environment:
//   ML_GATEWAY_URL    scan-gateway base URL                           (required)
//   ML_SANDBOX_URL    WeChat sandbox base URL                         (required)
//   ML_APPID          mini program AppID registered in the sandbox    (required)
//   ML_OPENID         sandbox user who "scans"                        (required)
//   ML_QR_URL         the URL inside the QR, https://<host>/q/<ticket> (required)
//   ML_SANDBOX_LOGIN_CODE_PATH  default /__sandbox/login-code
//   ML_QR_URL_PREFIX  accepted QR URL prefix; default <scheme://host>/q/
//   ML_LAUNCH_SCENE   default 1011
//   ML_ACTION         confirm (default) | cancel
//   ML_PHONE_CODE     a getPhoneNumber code to hand over (as if the user tapped the button)
//   ML_PHONE_DENY     1 = the user refuses the phone number
//   ML_NICKNAME       nickname typed by the user
//   ML_ACK            1 (default) = tick "my own computer" when a warning asks for it
//   ML_LANGUAGE       en (default) | zh
//   ML_TIMEOUT_MS     request timeout, default 10000

const path = require('node:path');
const { createLoginFlow } = require(path.join(__dirname, '..', '..', 'lib', 'flow'));

const DEFAULT_LOGIN_CODE_PATH = '/__sandbox/login-code';

function fetchWithTimeout(url, init, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  return fetch(url, Object.assign({}, init, { signal: controller.signal })).finally(() => clearTimeout(timer));
}

function headersToObject(headers) {
  const out = {};
  headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

// A wx object good enough for lib/flow.js, backed by real HTTP.
function createNodeWx(opts) {
  const log = opts.log || [];
  const timeoutMs = opts.timeoutMs || 10000;
  const launch = { scene: opts.launchScene, query: opts.query || {}, path: 'pages/login/login' };
  return {
    log: log,
    login(args) {
      const url = opts.sandboxUrl.replace(/\/+$/, '') + opts.loginCodePath;
      log.push({ api: 'login', url: url });
      fetchWithTimeout(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appid: opts.appid, openid: opts.openid }),
      }, args.timeout || timeoutMs)
        .then(async (res) => {
          const text = await res.text();
          let body = null;
          try {
            body = JSON.parse(text);
          } catch (e) {
            body = null;
          }
          if (res.ok && body && typeof body.code === 'string' && body.code) {
            args.success({ code: body.code, errMsg: 'login:ok' });
          } else {
            args.fail({ errMsg: 'login:fail sandbox answered HTTP ' + res.status + ' ' + text.slice(0, 200) });
          }
        })
        .catch((err) => args.fail({ errMsg: 'login:fail ' + String(err && err.message) }));
    },
    request(args) {
      const method = args.method || 'GET';
      log.push({ api: 'request', method: method, url: args.url });
      const init = { method: method, headers: args.header || {} };
      if (args.data !== undefined && method !== 'GET') {
        init.body = typeof args.data === 'string' ? args.data : JSON.stringify(args.data);
      }
      fetchWithTimeout(args.url, init, args.timeout || timeoutMs)
        .then(async (res) => {
          const text = await res.text();
          let data = text;
          // like wx.request with dataType json: parsed when possible, else the text
          try {
            data = JSON.parse(text);
          } catch (e) {
            data = text;
          }
          args.success({ statusCode: res.status, data: data, header: headersToObject(res.headers), errMsg: 'request:ok' });
        })
        .catch((err) => {
          const aborted = err && err.name === 'AbortError';
          args.fail({ errMsg: aborted ? 'request:fail timeout' : 'request:fail ' + String(err && err.message) });
        });
    },
    getLaunchOptionsSync() {
      return launch;
    },
    getEnterOptionsSync() {
      return launch;
    },
    getAppBaseInfo() {
      return { language: opts.language || 'en' };
    },
    scanCode(args) {
      args.fail({ errMsg: 'scanCode:fail no camera in the e2e runner' });
    },
    uploadFile(args) {
      args.fail({ errMsg: 'uploadFile:fail not available in the e2e runner' });
    },
    exitMiniProgram() {},
    navigateBack() {},
    hideShareMenu() {},
    setNavigationBarTitle() {},
  };
}

class UsageError extends Error {}

function required(env, name) {
  const v = env[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError('missing environment variable ' + name);
  return v.trim();
}

function defaultPrefix(qrUrl) {
  const m = /^(https?:\/\/[^/?#]+)/i.exec(qrUrl);
  if (!m) throw new UsageError('ML_QR_URL is not an http(s) URL');
  return m[1] + '/q/';
}

function readSettings(env) {
  const qrUrl = required(env, 'ML_QR_URL');
  const gatewayUrl = required(env, 'ML_GATEWAY_URL');
  const settings = {
    gatewayUrl: gatewayUrl,
    sandboxUrl: required(env, 'ML_SANDBOX_URL'),
    appid: required(env, 'ML_APPID'),
    openid: required(env, 'ML_OPENID'),
    qrUrl: qrUrl,
    loginCodePath: (env.ML_SANDBOX_LOGIN_CODE_PATH || DEFAULT_LOGIN_CODE_PATH).trim(),
    prefix: (env.ML_QR_URL_PREFIX || '').trim() || defaultPrefix(qrUrl),
    launchScene: parseInt(env.ML_LAUNCH_SCENE || '1011', 10),
    action: (env.ML_ACTION || 'confirm').trim(),
    phoneCode: env.ML_PHONE_CODE || '',
    phoneDeny: env.ML_PHONE_DENY === '1',
    nickname: env.ML_NICKNAME || '',
    ack: env.ML_ACK !== '0',
    language: env.ML_LANGUAGE === 'zh' ? 'zh' : 'en',
    timeoutMs: parseInt(env.ML_TIMEOUT_MS || '10000', 10),
  };
  if (settings.loginCodePath.charAt(0) !== '/') settings.loginCodePath = '/' + settings.loginCodePath;
  if (settings.action !== 'confirm' && settings.action !== 'cancel') throw new UsageError('ML_ACTION must be confirm or cancel');
  if (!isFinite(settings.launchScene)) throw new UsageError('ML_LAUNCH_SCENE must be a number');
  if (!isFinite(settings.timeoutMs)) throw new UsageError('ML_TIMEOUT_MS must be a number');
  return settings;
}

function summary(flow, settings, extra) {
  const v = flow.view();
  const s = flow.getState();
  const out = {
    ok: false,
    phase: v.phase,
    action: settings.action,
    ticket: s.ticket,
    launch_scene: s.launch.scene,
    warning: v.warning.show,
    warning_texts: v.warning.texts,
    site: v.site ? { name: v.site.name, logo_url: v.site.logoUrl || null } : null,
    request: s.scan ? s.scan.request : null,
    phone: s.scan ? { requested: s.scan.phone.requested, required: s.scan.phone.required, status: s.phone.status } : null,
    error: v.error ? { code: v.error.code, title: v.error.title, message: v.error.message, request_id: s.error && s.error.requestId } : null,
    // the account service's decision as the gateway passed it on; null: not said
    outcome: s.outcome ? s.outcome.outcome : null,
    outcome_reason: s.outcome ? s.outcome.reason : null,
    message: v.message ? { title: v.message.title, text: v.message.text } : null,
  };
  return Object.assign(out, extra || {});
}

// Runs the flow; resolves to {exitCode, result}.
async function runLogin(env) {
  let settings;
  try {
    settings = readSettings(env || process.env);
  } catch (e) {
    if (e instanceof UsageError) return { exitCode: 2, result: { ok: false, phase: 'usage', error: { code: 'usage', message: e.message } } };
    throw e;
  }
  const insecure = /^http:/i.test(settings.gatewayUrl) || /^http:/i.test(settings.prefix);
  const query = {
    q: encodeURIComponent(settings.qrUrl),
    scancode_time: String(Math.floor(Date.now() / 1000)),
  };
  const wx = createNodeWx({
    sandboxUrl: settings.sandboxUrl,
    loginCodePath: settings.loginCodePath,
    appid: settings.appid,
    openid: settings.openid,
    launchScene: settings.launchScene,
    query: query,
    language: settings.language,
    timeoutMs: settings.timeoutMs,
  });
  const phases = [];
  const flow = createLoginFlow({
    wx: wx,
    config: {
      gatewayBaseUrl: settings.gatewayUrl,
      qrUrlPrefixes: [settings.prefix],
      allowInsecureHttp: insecure,
      requestTimeoutMs: settings.timeoutMs,
      language: settings.language,
    },
    onChange: (v) => {
      if (phases[phases.length - 1] !== v.phase) phases.push(v.phase);
    },
  });
  if (flow.configProblems.length) {
    return { exitCode: 2, result: { ok: false, phase: 'usage', error: { code: 'config_error', message: flow.configProblems.join('; ') } } };
  }

  await flow.start(query);
  if (flow.view().phase === 'review') {
    const v = flow.view();
    if (v.phone.show) {
      if (settings.phoneCode) await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:ok', code: settings.phoneCode });
      else if (settings.phoneDeny) await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:fail user deny' });
    }
    if (settings.nickname) flow.setNickname(settings.nickname);
    if (flow.view().warning.needAck && settings.ack) flow.setAcknowledged(true);
    if (settings.action === 'cancel') {
      await flow.cancel();
    } else if (flow.canConfirm()) {
      // as the page's form submit hands it over: the field's value at the tap
      await flow.confirm({ nickname: settings.nickname || '' });
    }
  }
  const wanted = settings.action === 'cancel' ? 'cancelled' : 'done';
  const phase = flow.view().phase;
  const state = flow.getState();
  // a login the account service refused is not a success, even though it was confirmed
  const refused = phase === 'done' && state.outcome && state.outcome.outcome === 'failed';
  const ok = phase === wanted && !refused;
  const extra = { ok: ok, phases: phases };
  if (refused) extra.error = { code: state.outcome.reason || 'failed', message: flow.view().message.text };
  if (!ok && phase === 'review') {
    extra.error = { code: 'not_confirmable', message: 'Confirm stays disabled (phone required or warning not acknowledged)' };
  }
  return { exitCode: ok ? 0 : 1, result: summary(flow, settings, extra) };
}

async function main() {
  let outcome;
  try {
    outcome = await runLogin(process.env);
  } catch (e) {
    outcome = { exitCode: 1, result: { ok: false, phase: 'crash', error: { code: 'crash', message: String(e && e.stack) } } };
  }
  process.stdout.write(JSON.stringify(outcome.result) + '\n');
  process.exitCode = outcome.exitCode;
}

module.exports = { createNodeWx, runLogin, readSettings };

// Node's test runner (`node --test test/`) also loads every file under test/;
// it sets NODE_TEST_CONTEXT, and then this file only defines its exports.
if (require.main === module && !process.env.NODE_TEST_CONTEXT) {
  main();
}
