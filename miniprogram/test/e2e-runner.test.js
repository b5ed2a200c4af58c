'use strict';
// The e2e runner (test/e2e/run-login.js) against a tiny local stand-in for the
// scan-gateway and the WeChat sandbox, over real HTTP.  The real services are
// exercised by the Python end-to-end suite; this checks the runner itself.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');

const SCRIPT = path.join(__dirname, 'e2e', 'run-login.js');
const TICKET = 'AbCdEfGhIjKlMnOpQrStUv';
const EXPIRED = 'ExPiReDeXpIrEdExPiReD0';

function startServer(options) {
  const opts = options || {};
  const seen = [];
  let codes = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      let body = null;
      try {
        body = JSON.parse(raw);
      } catch (e) {
        body = null;
      }
      seen.push({ method: req.method, path: req.url, body: body, headers: req.headers });
      const send = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      const loginPath = opts.loginPath || '/__sandbox/login-code';
      if (req.method === 'POST' && req.url === loginPath) {
        codes += 1;
        return send(200, { code: 'jscode-' + codes });
      }
      if (req.method === 'POST' && req.url === '/mp/v1/scan') {
        if (!body || !/^jscode-/.test(body.code)) return send(400, { error: { code: 'wechat_invalid_code', message: 'bad code', request_id: 'r1' } });
        if (body.ticket === EXPIRED) return send(410, { error: { code: 'ticket_expired', message: 'expired', request_id: 'r2' } });
        return send(200, {
          ticket: body.ticket,
          session: 'sess-e2e',
          expires_at: Math.floor(Date.now() / 1000) + 120,
          site: { name: 'Demo Shop', logo_url: null, connection: 'wechat-demo' },
          request: { ip: '203.0.113.7', place: null, browser: 'Chrome 120 on Windows', time: new Date().toISOString() },
          phone: { requested: !!opts.phoneRequired, required: !!opts.phoneRequired },
          risk: { warning: false, reason: null },
        });
      }
      if (req.method === 'POST' && req.url === '/mp/v1/confirm') return send(200, { ticket: body.ticket, status: 'confirmed' });
      if (req.method === 'POST' && req.url === '/mp/v1/cancel') return send(200, { ticket: body.ticket, status: 'cancelled' });
      return send(404, { error: { code: 'not_found', message: 'no route', request_id: 'r0' } });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server: server, seen: seen, base: 'http://127.0.0.1:' + server.address().port });
    });
  });
}

function run(env) {
  const childEnv = Object.assign({}, process.env, env);
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT], { env: childEnv, timeout: 20000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const lines = stdout.trim().split('\n');
      let result = null;
      try {
        result = JSON.parse(lines[lines.length - 1]);
      } catch (e) {
        result = null;
      }
      resolve({ code: code, lines: lines, result: result, stderr: stderr });
    });
  });
}

function baseEnv(s, ticket) {
  return {
    ML_GATEWAY_URL: s.base,
    ML_SANDBOX_URL: s.base,
    ML_APPID: 'wx1234567890abcdef',
    ML_OPENID: 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M',
    ML_QR_URL: s.base + '/q/' + (ticket || TICKET),
  };
}

test('run-login.js: parse -> sandbox wx.login -> scan -> confirm, one JSON line, exit 0', async () => {
  const s = await startServer();
  try {
    const r = await run(baseEnv(s));
    assert.equal(r.code, 0, r.stderr + r.lines.join('\n'));
    assert.equal(r.lines.length, 1);
    assert.equal(r.result.ok, true);
    assert.equal(r.result.phase, 'done');
    assert.equal(r.result.ticket, TICKET);
    assert.equal(r.result.launch_scene, 1011);
    assert.equal(r.result.site.name, 'Demo Shop');
    assert.deepEqual(r.result.phases, ['checking', 'review', 'confirming', 'done']);
    assert.deepEqual(s.seen.map((x) => x.path), ['/__sandbox/login-code', '/mp/v1/scan', '/mp/v1/confirm']);
    assert.deepEqual(s.seen[0].body, { appid: 'wx1234567890abcdef', openid: 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M' });
    assert.deepEqual(s.seen[1].body, { ticket: TICKET, code: 'jscode-1', launch_scene: 1011 });
    assert.deepEqual(s.seen[2].body, { ticket: TICKET, session: 'sess-e2e' });
  } finally {
    s.server.close();
  }
});

test('run-login.js: sandbox path from ML_SANDBOX_LOGIN_CODE_PATH, cancel action, nickname', async () => {
  const s = await startServer({ loginPath: '/__sandbox/v2/mint-code' });
  try {
    const r = await run(Object.assign(baseEnv(s), { ML_SANDBOX_LOGIN_CODE_PATH: '/__sandbox/v2/mint-code', ML_ACTION: 'cancel' }));
    assert.equal(r.code, 0, r.lines.join('\n'));
    assert.equal(r.result.phase, 'cancelled');
    assert.deepEqual(s.seen.map((x) => x.path), ['/__sandbox/v2/mint-code', '/mp/v1/scan', '/mp/v1/cancel']);
    const r2 = await run(Object.assign(baseEnv(s), { ML_SANDBOX_LOGIN_CODE_PATH: '/__sandbox/v2/mint-code', ML_NICKNAME: 'Ming' }));
    assert.equal(r2.code, 0);
    assert.equal(s.seen[s.seen.length - 1].body.nickname, 'Ming');
  } finally {
    s.server.close();
  }
});

test('run-login.js: gateway error -> exit 1 with the mapped error', async () => {
  const s = await startServer();
  try {
    const r = await run(baseEnv(s, EXPIRED));
    assert.equal(r.code, 1);
    assert.equal(r.result.ok, false);
    assert.equal(r.result.phase, 'error');
    assert.equal(r.result.error.code, 'ticket_expired');
    assert.equal(r.result.error.request_id, 'r2');
  } finally {
    s.server.close();
  }
});

test('run-login.js: required phone without ML_PHONE_CODE cannot confirm -> exit 1', async () => {
  const s = await startServer({ phoneRequired: true });
  try {
    const r = await run(baseEnv(s));
    assert.equal(r.code, 1);
    assert.equal(r.result.phase, 'review');
    assert.equal(r.result.error.code, 'not_confirmable');
    const r2 = await run(Object.assign(baseEnv(s), { ML_PHONE_CODE: 'phone-code-1' }));
    assert.equal(r2.code, 0);
    assert.equal(s.seen[s.seen.length - 1].body.phone_code, 'phone-code-1');
  } finally {
    s.server.close();
  }
});

test('run-login.js: unreachable services, bad QR URL, missing env', async () => {
  const s = await startServer();
  const base = s.base;
  await new Promise((r) => s.server.close(r));
  let r = await run({ ML_GATEWAY_URL: base, ML_SANDBOX_URL: base, ML_APPID: 'a', ML_OPENID: 'o', ML_QR_URL: base + '/q/' + TICKET });
  assert.equal(r.code, 1);
  assert.equal(r.result.error.code, 'wx_login_failed');
  r = await run({ ML_GATEWAY_URL: base, ML_SANDBOX_URL: base, ML_APPID: 'a', ML_OPENID: 'o', ML_QR_URL: base + '/x/' + TICKET });
  assert.equal(r.code, 1);
  assert.equal(r.result.error.code, 'invalid_qr');
  r = await run({ ML_GATEWAY_URL: '', ML_SANDBOX_URL: base, ML_APPID: 'a', ML_OPENID: 'o', ML_QR_URL: base + '/q/' + TICKET });
  assert.equal(r.code, 2);
  assert.match(r.result.error.message, /ML_GATEWAY_URL/);
});
