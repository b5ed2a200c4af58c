'use strict';
// A fake `wx` that records every call and answers from scripted queues.
// (Node's runner also loads this file as a test file; it defines no tests.)

const GATEWAY = 'https://gw.example.com';
const QR_PREFIX = 'https://login.example.com/q/';
const TICKET = 'AbCdEfGhIjKlMnOpQrStUv';
const TICKET2 = 'ZyXwVuTsRqPoNmLkJiHgFe';

function stripFunctions(args) {
  const out = {};
  for (const k of Object.keys(args || {})) {
    if (typeof args[k] !== 'function') out[k] = args[k];
  }
  return out;
}

// opts:
//   language, launchScene, enterScene   numbers / strings, or undefined to omit the API
//   login: [{code} | {fail: errMsg}]    answers for successive wx.login calls
//   routes: {'/mp/v1/scan': [answer...]} answer = {status, body, header} | {fail: errMsg}
//   scanCode: [{res} | {fail}]
//   upload: [{status, data} | {fail}]
//   sdkVersion                          base library version (default '3.3.4' with getAppBaseInfo)
//   exitFails: errMsg                   wx.exitMiniProgram calls its fail callback (not from a tap)
function createFakeWx(opts) {
  const o = opts || {};
  const calls = [];
  const requests = [];
  const loginQueue = (o.login || [{ code: 'js-code-1' }, { code: 'js-code-2' }, { code: 'js-code-3' }]).slice();
  const routes = {};
  for (const k of Object.keys(o.routes || {})) routes[k] = o.routes[k].slice();
  const scanQueue = (o.scanCode || []).slice();
  const uploadQueue = (o.upload || []).slice();

  function later(fn) {
    setImmediate(fn);
  }

  const wx = {
    calls: calls,
    requests: requests,
    callNames() {
      return calls.map((c) => c.name);
    },
    login(args) {
      calls.push({ name: 'login', args: stripFunctions(args) });
      const a = loginQueue.length ? loginQueue.shift() : { fail: 'login:fail no more scripted codes' };
      later(() => (a.fail ? args.fail({ errMsg: a.fail }) : args.success({ code: a.code, errMsg: 'login:ok' })));
    },
    request(args) {
      const path = args.url.replace(/^https?:\/\/[^/]+/, '');
      calls.push({ name: 'request', args: stripFunctions(args) });
      requests.push({ url: args.url, path: path, method: args.method, data: args.data, header: args.header, timeout: args.timeout });
      const queue = routes[path];
      const a = queue && queue.length ? queue.shift() : { fail: 'request:fail unscripted ' + path };
      later(() => {
        if (a.fail) args.fail({ errMsg: a.fail });
        else args.success({ statusCode: a.status, data: a.body, header: a.header || {} });
      });
    },
    scanCode(args) {
      calls.push({ name: 'scanCode', args: stripFunctions(args) });
      const a = scanQueue.length ? scanQueue.shift() : { fail: 'scanCode:fail cancel' };
      later(() => (a.fail ? args.fail({ errMsg: a.fail }) : args.success(a.res)));
    },
    uploadFile(args) {
      calls.push({ name: 'uploadFile', args: stripFunctions(args) });
      const a = uploadQueue.length ? uploadQueue.shift() : { fail: 'uploadFile:fail unscripted' };
      later(() => (a.fail ? args.fail({ errMsg: a.fail }) : args.success({ statusCode: a.status, data: a.data })));
    },
    exitMiniProgram(args) {
      calls.push({ name: 'exitMiniProgram', args: stripFunctions(args) });
      if (o.exitFails && args && typeof args.fail === 'function') later(() => args.fail({ errMsg: o.exitFails }));
    },
    updateWeChatApp(args) {
      calls.push({ name: 'updateWeChatApp', args: stripFunctions(args) });
    },
    hideShareMenu(args) {
      calls.push({ name: 'hideShareMenu', args: stripFunctions(args) });
    },
    setNavigationBarTitle(args) {
      calls.push({ name: 'setNavigationBarTitle', args: stripFunctions(args) });
    },
  };
  if (o.language !== undefined || o.sdkVersion !== undefined) {
    wx.getAppBaseInfo = () => ({ language: o.language, SDKVersion: o.sdkVersion || '3.3.4' });
  }
  if (o.systemLanguage !== undefined) {
    wx.getSystemInfoSync = () => ({ language: o.systemLanguage });
  }
  if (o.launchScene !== undefined) {
    wx.getLaunchOptionsSync = () => ({ scene: o.launchScene, query: {} });
  }
  if (o.enterScene !== undefined) {
    wx.getEnterOptionsSync = () => ({ scene: o.enterScene, query: {} });
  }
  return wx;
}

function config(overrides) {
  return Object.assign(
    {
      gatewayBaseUrl: GATEWAY,
      qrUrlPrefixes: [QR_PREFIX],
      requestTimeoutMs: 5000,
      language: 'auto',
      brand: { name: 'TestBrand', nameZh: '测试', color: '#123456', logo: '' },
      profile: { nickname: true, avatarUploadUrl: '' },
    },
    overrides || {},
  );
}

function scanBody(overrides) {
  const o = overrides || {};
  return Object.assign(
    {
      ticket: TICKET,
      session: 'sess-opaque-1',
      expires_at: 1764065100,
      site: { name: 'Demo Shop', logo_url: 'https://cdn.example.com/logo.png', connection: 'wechat-demo' },
      request: { ip: '203.0.113.7', place: 'Shanghai, CN', browser: 'Chrome 120 on Windows', time: '2026-11-25T10:00:00Z' },
      phone: { requested: false, required: false },
      risk: { warning: false, reason: null },
    },
    o,
  );
}

// wait(ms) for the flow whose pauses the test releases itself: pending() lists the waits
// asked for, release() ends them all.
function manualWait() {
  const waits = [];
  function wait(ms) {
    return new Promise((resolve) => waits.push({ ms: ms, resolve: resolve }));
  }
  wait.pending = () => waits.map((w) => w.ms);
  wait.release = () => {
    const all = waits.splice(0);
    all.forEach((w) => w.resolve());
    return all.length;
  };
  return wait;
}

// Lets the fake's setImmediate answers and the flow's promise chains run, for a bounded
// number of event loop turns (a loaded machine stretches time, not turns).
async function turns(n) {
  for (let i = 0; i < (n || 50); i++) await new Promise((r) => setImmediate(r));
}

function ok(body) {
  return { status: 200, body: body };
}

function gwError(status, code, extra) {
  return {
    status: status,
    body: { error: Object.assign({ code: code, message: code.replace(/_/g, ' '), request_id: 'req-' + code }, extra || {}) },
    header: {},
  };
}

function sceneQuery(ticket) {
  return { scene: encodeURIComponent(ticket || TICKET) };
}

function qQuery(url, scancodeTime) {
  return { q: encodeURIComponent(url || QR_PREFIX + TICKET), scancode_time: String(scancodeTime || 1764064800) };
}

// Fixed clock: five minutes after the request time in scanBody().
function fixedNow() {
  return Date.parse('2026-11-25T10:05:00Z');
}

module.exports = {
  GATEWAY: GATEWAY,
  QR_PREFIX: QR_PREFIX,
  TICKET: TICKET,
  TICKET2: TICKET2,
  createFakeWx: createFakeWx,
  config: config,
  scanBody: scanBody,
  ok: ok,
  gwError: gwError,
  sceneQuery: sceneQuery,
  qQuery: qQuery,
  fixedNow: fixedNow,
  manualWait: manualWait,
  turns: turns,
};
