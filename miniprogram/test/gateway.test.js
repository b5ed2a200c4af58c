'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const g = require('../lib/gateway');
const h = require('./helpers/fake-wx');

function gw(routes) {
  const wx = h.createFakeWx({ routes: routes });
  return { wx: wx, api: g.createGateway({ wx: wx, baseUrl: h.GATEWAY + '/', timeoutMs: 4321, lang: 'zh' }) };
}

test('scan posts the contract body and normalizes the answer', async () => {
  const { wx, api } = gw({ '/mp/v1/scan': [h.ok(h.scanBody())] });
  const r = await api.scan(h.TICKET, 'js-code', 1047);
  assert.equal(wx.requests.length, 1);
  const req = wx.requests[0];
  assert.equal(req.url, h.GATEWAY + '/mp/v1/scan');
  assert.equal(req.method, 'POST');
  assert.equal(req.timeout, 4321);
  assert.equal(req.header['content-type'], 'application/json');
  assert.equal(req.header['accept-language'], 'zh-CN');
  assert.deepEqual(req.data, { ticket: h.TICKET, code: 'js-code', launch_scene: 1047 });
  assert.equal(r.session, 'sess-opaque-1');
  assert.equal(r.site.name, 'Demo Shop');
  assert.equal(r.site.logoUrl, 'https://cdn.example.com/logo.png');
  assert.equal(r.request.place, 'Shanghai, CN');
  assert.deepEqual(r.phone, { requested: false, required: false });
  assert.equal(r.expiresAt, 1764065100);
});

test('scan answer: odd values are dropped, wrong shapes refused', async () => {
  const odd = h.scanBody({
    site: { name: 'X'.repeat(500), logo_url: 'javascript:alert(1)', connection: 7 },
    request: { ip: null, place: null, browser: { a: 1 }, time: 5, location: 'Beijing' },
    phone: { requested: false, required: true },
    proximity: { level: 'next door', far: 'yes', phone_location: [1, 2] },
    risk: { warning: 'yes', reason: 3 },
  });
  const { api } = gw({ '/mp/v1/scan': [h.ok(odd)] });
  const r = await api.scan(h.TICKET, 'c', 1011);
  assert.equal(r.site.name.length, 64);
  assert.equal(r.site.logoUrl, null);
  assert.equal(r.site.connection, null);
  assert.deepEqual(r.request, { ip: null, place: null, browser: null, time: null, location: null });
  assert.deepEqual(r.proximity, { level: 'unknown', far: false, phoneLocation: null });
  assert.deepEqual(r.phone, { requested: false, required: false });
  assert.deepEqual(r.risk, { warning: false, reason: null });

  for (const body of [h.scanBody({ ticket: h.TICKET2 }), h.scanBody({ session: '' }), h.scanBody({ site: null }), 'not json', [1, 2]]) {
    const t = gw({ '/mp/v1/scan': [h.ok(body)] });
    await assert.rejects(t.api.scan(h.TICKET, 'c', 1047), (e) => e.code === 'bad_response');
  }
});

test('a JSON string body is parsed (wx.request hands over text when it cannot parse)', async () => {
  const { api } = gw({ '/mp/v1/scan': [h.ok(JSON.stringify(h.scanBody()))] });
  assert.equal((await api.scan(h.TICKET, 'c', 1047)).session, 'sess-opaque-1');
});

test('launch_scene is omitted when unknown', async () => {
  const { wx, api } = gw({ '/mp/v1/scan': [h.ok(h.scanBody())] });
  await api.scan(h.TICKET, 'c', null);
  assert.deepEqual(wx.requests[0].data, { ticket: h.TICKET, code: 'c' });
});

test('error envelope becomes GatewayError with code, status and request id', async () => {
  const { api } = gw({ '/mp/v1/scan': [h.gwError(410, 'ticket_expired')] });
  await assert.rejects(api.scan(h.TICKET, 'c', 1047), (e) => {
    assert.ok(e instanceof g.GatewayError);
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'ticket_expired');
    assert.equal(e.status, 410);
    assert.equal(e.requestId, 'req-ticket_expired');
    return true;
  });
});

test('Retry-After is read case-insensitively', async () => {
  const answer = h.gwError(429, 'rate_limited');
  answer.header = { 'retry-after': '17' };
  const { api } = gw({ '/mp/v1/scan': [answer] });
  await assert.rejects(api.scan(h.TICKET, 'c', 1047), (e) => e.code === 'rate_limited' && e.retryAfter === 17);
});

test('errors without an envelope are classified by status', async () => {
  const cases = [
    [{ status: 429, body: '<html>' }, 'rate_limited'],
    [{ status: 503, body: '' }, 'service_unavailable'],
    [{ status: 502, body: '<html>bad gateway</html>' }, 'upstream_error'],
    [{ status: 500, body: { error: 'string' } }, 'upstream_error'],
    [{ status: 404, body: 'nope' }, 'http_error'],
    [{ status: 400, body: { error: { code: 'Bad Code!' } } }, 'http_error'],
  ];
  for (const [answer, code] of cases) {
    const { api } = gw({ '/mp/v1/cancel': [answer] });
    await assert.rejects(api.cancel(h.TICKET, 's'), (e) => e.code === code, code);
  }
});

test('network failures and timeouts', async () => {
  let t = gw({ '/mp/v1/confirm': [{ fail: 'request:fail -2:net::ERR_INTERNET_DISCONNECTED' }] });
  await assert.rejects(t.api.confirm(h.TICKET, 's', {}), (e) => e.code === 'network_error');
  t = gw({ '/mp/v1/confirm': [{ fail: 'request:fail timeout' }] });
  await assert.rejects(t.api.confirm(h.TICKET, 's', {}), (e) => e.code === 'timeout');
  t = gw({ '/mp/v1/confirm': [{ status: 0, body: '' }] });
  await assert.rejects(t.api.confirm(h.TICKET, 's', {}), (e) => e.code === 'network_error');
  const throwing = { request() { throw new Error('boom'); } };
  const api = g.createGateway({ wx: throwing, baseUrl: h.GATEWAY });
  await assert.rejects(api.cancel(h.TICKET, 's'), (e) => e.code === 'network_error');
});

test('confirm sends only the optional fields that are set', async () => {
  const { wx, api } = gw({
    '/mp/v1/confirm': [h.ok({ ticket: h.TICKET, status: 'confirmed' }), h.ok({ ticket: h.TICKET, status: 'confirmed' })],
  });
  await api.confirm(h.TICKET, 's', {});
  await api.confirm(h.TICKET, 's', { phoneCode: 'p', nickname: 'n', avatarUrl: 'https://a/b.png' });
  assert.deepEqual(wx.requests[0].data, { ticket: h.TICKET, session: 's' });
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 's', phone_code: 'p', nickname: 'n', avatar_url: 'https://a/b.png' });
});

test('confirm/cancel refuse a 200 with the wrong status', async () => {
  const { api } = gw({
    '/mp/v1/confirm': [h.ok({ ticket: h.TICKET, status: 'scanned' })],
    '/mp/v1/cancel': [h.ok({})],
  });
  await assert.rejects(api.confirm(h.TICKET, 's', {}), (e) => e.code === 'bad_response');
  await assert.rejects(api.cancel(h.TICKET, 's'), (e) => e.code === 'bad_response');
});

test('joinUrl tolerates trailing slashes', () => {
  assert.equal(g.joinUrl('https://a.example.com//', '/mp/v1/scan'), 'https://a.example.com/mp/v1/scan');
  assert.equal(g.joinUrl('https://a.example.com/base', '/mp/v1/scan'), 'https://a.example.com/base/mp/v1/scan');
});

test('http logos only when insecure http is allowed (local development)', async () => {
  const body = h.scanBody({ site: { name: 'Dev', logo_url: 'http://127.0.0.1:8000/logo.png' } });
  const wx = h.createFakeWx({ routes: { '/mp/v1/scan': [h.ok(body), h.ok(body)] } });
  const strict = g.createGateway({ wx: wx, baseUrl: h.GATEWAY });
  const dev = g.createGateway({ wx: wx, baseUrl: h.GATEWAY, allowInsecureHttp: true });
  assert.equal((await strict.scan(h.TICKET, 'c', 1047)).site.logoUrl, null);
  assert.equal((await dev.scan(h.TICKET, 'c', 1047)).site.logoUrl, 'http://127.0.0.1:8000/logo.png');
});

function busy(code, retryAfter) {
  const header = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
  return { status: 503, body: { error: { code: code, message: 'busy' } }, header: header };
}

function gwWaiting(routes) {
  const wx = h.createFakeWx({ routes: routes });
  const waits = [];
  const wait = (ms) => {
    waits.push(ms);
    return Promise.resolve();
  };
  return { wx: wx, waits: waits, api: g.createGateway({ wx: wx, baseUrl: h.GATEWAY, wait: wait }) };
}

test('a store outage answer is retried after Retry-After, and the confirm goes through', async () => {
  const { wx, waits, api } = gwWaiting({
    '/mp/v1/confirm': [busy('temporarily_unavailable', 2), busy('overloaded'), h.ok({ status: 'confirmed' })],
  });
  const r = await api.confirm(h.TICKET, 'sess', {});
  assert.equal(r.status, 'confirmed');
  assert.equal(wx.requests.length, 3);
  // Retry-After: 2 is honoured; without one the phone waits a second.
  assert.deepEqual(waits, [2000, 1000]);
});

test('a long outage ends in a retryable error after a bounded number of tries', async () => {
  const answers = [];
  for (let i = 0; i < 10; i++) answers.push(busy('temporarily_unavailable', 3600));
  const { wx, waits, api } = gwWaiting({ '/mp/v1/scan': answers });
  await assert.rejects(api.scan(h.TICKET, 'c', 1047), (e) => e.code === 'temporarily_unavailable');
  assert.equal(wx.requests.length, g.BUSY_RETRIES + 1);
  // An absurd Retry-After cannot freeze the phone: each wait is capped at 5 s.
  assert.ok(waits.every((ms) => ms === 5000));
});

test('other 503s are not retried on their own (the user decides)', async () => {
  const { wx, waits, api } = gwWaiting({ '/mp/v1/cancel': [busy('wechat_busy', 1)] });
  await assert.rejects(api.cancel(h.TICKET, 'sess'), (e) => e.code === 'wechat_busy');
  assert.equal(wx.requests.length, 1);
  assert.deepEqual(waits, []);
});
