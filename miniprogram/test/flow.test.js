'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { createLoginFlow } = require('../lib/flow');
const h = require('./helpers/fake-wx');

const CONFIRMED = h.ok({ ticket: h.TICKET, status: 'confirmed' });
const CANCELLED = h.ok({ ticket: h.TICKET, status: 'cancelled' });

function setup(opts) {
  const o = opts || {};
  const wx = h.createFakeWx(Object.assign({ language: 'en', launchScene: 1047 }, o.wx || {}));
  const views = [];
  const flow = createLoginFlow({
    wx: wx,
    config: h.config(o.config),
    now: h.fixedNow,
    tzOffsetMinutes: o.tz === undefined ? 480 : o.tz,
    wait: o.wait,
    onChange: (v) => views.push(v),
  });
  return { wx: wx, flow: flow, views: views, phases: () => views.map((v) => v.phase) };
}

function paths(wx) {
  return wx.requests.map((r) => r.path);
}

test('wxacode happy path: scene -> wx.login -> scan -> review -> confirm', async () => {
  const { wx, flow, phases } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(v.phase, 'review');
  assert.equal(v.site.name, 'Demo Shop');
  assert.equal(v.site.logoUrl, 'https://cdn.example.com/logo.png');
  assert.equal(v.ask, 'Demo Shop wants to log you in on a computer');
  assert.deepEqual(v.rows.map((r) => [r.key, r.value]), [
    ['ip', '203.0.113.7'],
    ['place', 'Shanghai, CN'],
    ['browser', 'Chrome 120 on Windows'],
    ['time', '2026-11-25 18:00 · 5 min ago'],
  ]);
  assert.equal(v.warning.show, false);
  assert.equal(v.canConfirm, true);
  // nothing was granted by scanning alone
  assert.deepEqual(paths(wx), ['/mp/v1/scan']);
  assert.deepEqual(wx.requests[0].data, { ticket: h.TICKET, code: 'js-code-1', launch_scene: 1047 });

  await flow.confirm();
  assert.equal(flow.view().phase, 'done');
  // the gateway did not pass on the account service's decision: no claim of success
  assert.equal(flow.view().message.title, 'Confirmed');
  assert.equal(flow.view().message.text, 'Confirmed — look at your computer to see the result.');
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/confirm']);
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 'sess-opaque-1' });
  assert.deepEqual(wx.callNames(), ['hideShareMenu', 'setNavigationBarTitle', 'login', 'request', 'request']);
  assert.deepEqual(phases(), ['checking', 'review', 'confirming', 'done']);
});

test('url QR happy path: q decoded once, scene 1011', async () => {
  const { wx, flow } = setup({
    wx: { launchScene: 1011, routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.qQuery());
  assert.equal(flow.view().phase, 'review');
  assert.equal(flow.getState().scancodeTime, 1764064800);
  assert.equal(flow.getState().kind, 'url');
  assert.deepEqual(wx.requests[0].data, { ticket: h.TICKET, code: 'js-code-1', launch_scene: 1011 });
  await flow.confirm();
  assert.equal(flow.view().phase, 'done');
});

test('the page hides sharing so the login page cannot be forwarded', async () => {
  const { wx, flow } = setup({ wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } } });
  await flow.start(h.sceneQuery());
  assert.deepEqual(wx.calls[0], { name: 'hideShareMenu', args: { menus: ['shareAppMessage', 'shareTimeline'] } });
});

test('cancel from review', async () => {
  const { wx, flow, phases } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [CANCELLED] } },
  });
  await flow.start(h.sceneQuery());
  await flow.cancel();
  assert.equal(flow.view().phase, 'cancelled');
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 'sess-opaque-1' });
  assert.deepEqual(phases(), ['checking', 'review', 'cancelling', 'cancelled']);
  // nothing left to cancel on close
  await flow.close();
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel']);
  assert.equal(wx.callNames().at(-1), 'exitMiniProgram');
});

test('cancel of an already expired or cancelled ticket still ends as cancelled', async () => {
  for (const [status, code] of [[410, 'ticket_expired'], [409, 'ticket_cancelled'], [404, 'ticket_not_found']]) {
    const { flow } = setup({
      wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [h.gwError(status, code)] } },
    });
    await flow.start(h.sceneQuery());
    await flow.cancel();
    assert.equal(flow.view().phase, 'cancelled', code);
  }
});

test('cancel failing on the network can be retried', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [{ fail: 'request:fail' }, CANCELLED] } },
  });
  await flow.start(h.sceneQuery());
  await flow.cancel();
  assert.equal(flow.view().phase, 'error');
  assert.equal(flow.view().error.code, 'network_error');
  await flow.retry();
  assert.equal(flow.view().phase, 'cancelled');
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel', '/mp/v1/cancel']);
});

test('double tap on Confirm sends one confirm', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  await Promise.all([flow.confirm(), flow.confirm(), flow.cancel()]);
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/confirm']);
  assert.equal(flow.view().phase, 'done');
});

test('confirm before the scan answered does nothing', async () => {
  const { wx, flow } = setup({ wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } } });
  const started = flow.start(h.sceneQuery());
  await flow.confirm();
  await started;
  assert.deepEqual(paths(wx), ['/mp/v1/scan']);
});

// ---- launch scenes --------------------------------------------------------

for (const scene of [1048, 1012, 1049, 1013, 1001, 1089]) {
  test('launch scene ' + scene + ': warning and an extra step before Confirm', async () => {
    const { wx, flow } = setup({
      wx: { launchScene: scene, routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
    });
    await flow.start(h.sceneQuery());
    let v = flow.view();
    assert.equal(v.phase, 'review');
    assert.equal(v.warning.show, true);
    assert.equal(v.warning.needAck, true);
    assert.match(v.warning.texts[0], /Someone may be trying to log in to Demo Shop as you/);
    assert.equal(v.canConfirm, false);
    assert.equal(wx.requests[0].data.launch_scene, scene);

    await flow.confirm(); // refused: not acknowledged
    assert.deepEqual(paths(wx), ['/mp/v1/scan']);

    flow.setAcknowledged(true);
    v = flow.view();
    assert.equal(v.ack, true);
    assert.equal(v.canConfirm, true);
    flow.setAcknowledged(false);
    assert.equal(flow.view().canConfirm, false);
    flow.setAcknowledged(true);
    await flow.confirm();
    assert.equal(flow.view().phase, 'done');
  });
}

test('the server flag for the same forwarded image is not repeated', async () => {
  const body = h.scanBody({ risk: { warning: true, reason: 'long_press_image' } });
  const { flow } = setup({ wx: { launchScene: 1048, routes: { '/mp/v1/scan': [h.ok(body)] } } });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(v.warning.texts.length, 1);
  assert.match(v.warning.texts[0], /picture in a chat/);
});

test("the server's unknown_scene flag is not repeated over the page's own warning", async () => {
  const body = h.scanBody({ risk: { warning: true, reason: 'unknown_scene' } });
  const { flow } = setup({ wx: { launchScene: 1036, routes: { '/mp/v1/scan': [h.ok(body)] } } });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(v.warning.texts.length, 1);
  assert.match(v.warning.texts[0], /not opened by scanning it with your camera/);
});

test('warning texts name the source: chat image, album, unknown', async () => {
  const texts = {};
  for (const scene of [1048, 1049, 1036]) {
    const { flow } = setup({ wx: { launchScene: scene, routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } } });
    await flow.start(h.sceneQuery());
    texts[scene] = flow.view().warning.texts[0];
  }
  assert.match(texts[1048], /picture in a chat/);
  assert.match(texts[1049], /album/);
  assert.match(texts[1036], /not opened by scanning it with your camera/);
});

test('no launch scene available at all: treated as unknown (warn)', async () => {
  const wx = h.createFakeWx({ language: 'en', routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } });
  const flow = createLoginFlow({ wx: wx, config: h.config(), now: h.fixedNow });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().warning.needAck, true);
  assert.deepEqual(wx.requests[0].data, { ticket: h.TICKET, code: 'js-code-1' });
});

test('the enter scene wins over the launch scene (warm start)', async () => {
  const { wx, flow } = setup({
    wx: { launchScene: 1047, enterScene: 1048, routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } },
  });
  await flow.start(h.sceneQuery());
  assert.equal(wx.requests[0].data.launch_scene, 1048);
  assert.equal(flow.view().warning.needAck, true);
});

test('a server risk flag also warns and needs the extra step', async () => {
  const { flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody({ risk: { warning: true, reason: 'new_location' } }))] } },
  });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(v.warning.show, true);
  assert.deepEqual(v.warning.texts, ['The server flagged this login request as unusual. (new_location)']);
  assert.equal(v.canConfirm, false);
  flow.setAcknowledged(true);
  assert.equal(flow.view().canConfirm, true);
});

// ---- phone number ---------------------------------------------------------

function phoneSetup(required, extraRoutes) {
  return setup({
    wx: {
      routes: Object.assign(
        { '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: required } }))] },
        extraRoutes || {},
      ),
    },
  });
}

test('phone granted: the code is sent with confirm', async () => {
  const { wx, flow } = phoneSetup(true, { '/mp/v1/confirm': [CONFIRMED] });
  await flow.start(h.sceneQuery());
  let v = flow.view();
  assert.equal(v.phone.show, true);
  assert.equal(v.phone.required, true);
  assert.equal(v.phone.ask, 'Demo Shop needs your phone number to log you in.');
  assert.equal(v.canConfirm, false);
  await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:ok', code: 'phone-code-64hex' });
  v = flow.view();
  assert.equal(v.phone.status, 'granted');
  assert.equal(v.phone.canTap, false);
  assert.equal(v.canConfirm, true);
  await flow.confirm();
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 'sess-opaque-1', phone_code: 'phone-code-64hex' });
});

test('phone refused, optional: continue without the phone', async () => {
  for (const detail of [
    { errMsg: 'getPhoneNumber:fail user deny' },
    { errMsg: 'getPhoneNumber:fail:user deny' },
    { errMsg: 'getPhoneNumber:fail no permission' },
    {},
    undefined,
  ]) {
    const { wx, flow } = phoneSetup(false, { '/mp/v1/confirm': [CONFIRMED] });
    await flow.start(h.sceneQuery());
    assert.equal(flow.view().phone.ask, 'Demo Shop asks for your phone number (optional).');
    assert.equal(flow.view().canConfirm, true);
    await flow.onPhoneNumber(detail);
    const v = flow.view();
    assert.equal(v.phone.status, 'declined');
    assert.equal(v.phone.note, 'You chose not to share your phone number. You can still log in.');
    assert.equal(v.canConfirm, true);
    await flow.confirm();
    assert.equal(flow.view().phase, 'done');
    assert.equal(wx.requests[1].data.phone_code, undefined);
  }
});

test('phone refused, required: explained, button offered again, Confirm stays off', async () => {
  const { wx, flow } = phoneSetup(true, { '/mp/v1/confirm': [CONFIRMED] });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:fail user deny' });
  let v = flow.view();
  assert.equal(v.phase, 'review');
  assert.equal(v.phone.note, 'This site cannot log you in without your phone number. Tap the button to share it, or cancel.');
  assert.equal(v.phone.canTap, true);
  assert.equal(v.canConfirm, false);
  await flow.confirm();
  assert.deepEqual(paths(wx), ['/mp/v1/scan']);
  // the user changes their mind
  await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:ok', code: 'pc2' });
  v = flow.view();
  assert.equal(v.canConfirm, true);
  await flow.confirm();
  assert.equal(wx.requests[1].data.phone_code, 'pc2');
});

test('phone quota (errno 1400001), optional: continue without the phone', async () => {
  const { wx, flow } = phoneSetup(false, { '/mp/v1/confirm': [CONFIRMED] });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:fail quota', errno: 1400001 });
  const v = flow.view();
  assert.equal(v.phone.status, 'quota');
  assert.equal(v.phone.canTap, false);
  assert.equal(v.phone.note, 'Phone number sharing is unavailable right now. You can log in without it.');
  assert.equal(v.canConfirm, true);
  await flow.confirm();
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 'sess-opaque-1' });
});

test('phone quota, required: explained, the PC is released, only Close', async () => {
  const { wx, flow } = phoneSetup(true, { '/mp/v1/cancel': [CANCELLED] });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:fail', errno: 1400001 });
  const v = flow.view();
  assert.equal(v.phase, 'error');
  assert.equal(v.error.code, 'phone_unavailable');
  assert.match(v.error.message, /Demo Shop needs your phone number/);
  assert.deepEqual(v.error.actions, { rescan: false, retry: false, close: true, update: false });
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel']);
  await flow.close();
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel']);
  assert.equal(wx.callNames().at(-1), 'exitMiniProgram');
});

test('phone events are ignored when no phone was requested', async () => {
  const { flow } = setup({ wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } } });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ code: 'x' });
  assert.equal(flow.getState().phone.code, null);
  assert.equal(flow.view().phone.show, false);
});

test('a refused phone code on confirm asks for the phone again', async () => {
  const { wx, flow } = phoneSetup(true, {
    '/mp/v1/confirm': [h.gwError(400, 'wechat_invalid_code'), CONFIRMED],
  });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ code: 'stale' });
  await flow.confirm();
  assert.equal(flow.view().error.code, 'wechat_invalid_code');
  await flow.retry();
  let v = flow.view();
  assert.equal(v.phase, 'review');
  assert.equal(v.canConfirm, false);
  await flow.onPhoneNumber({ code: 'fresh' });
  await flow.confirm();
  v = flow.view();
  assert.equal(v.phase, 'done');
  assert.equal(wx.requests[2].data.phone_code, 'fresh');
});

test('phone_required on confirm: explained, Try again goes back to the phone button', async () => {
  const { wx, flow } = phoneSetup(true, {
    '/mp/v1/confirm': [h.gwError(400, 'phone_required'), CONFIRMED],
  });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ code: 'p1' });
  await flow.confirm();
  let v = flow.view();
  assert.equal(v.error.code, 'phone_required');
  assert.match(v.error.message, /Demo Shop needs your phone number/);
  await flow.retry();
  v = flow.view();
  assert.equal(v.phase, 'review');
  assert.equal(v.canConfirm, false);
  assert.equal(v.phone.canTap, true);
  await flow.onPhoneNumber({ code: 'p2' });
  await flow.confirm();
  assert.equal(flow.view().phase, 'done');
  assert.equal(wx.requests[2].data.phone_code, 'p2');
});

// ---- profile --------------------------------------------------------------

test('nickname is optional, trimmed, capped and sent', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().profile.showNickname, true);
  assert.equal(flow.view().profile.showAvatar, false);
  flow.setNickname('  小明\u0007 ' + '字'.repeat(40));
  assert.equal(Array.from(flow.getState().profile.nickname).length, 32);
  flow.setNickname('  Ming  ');
  flow.onNicknameReview({ pass: true, timeout: false });
  await flow.confirm();
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 'sess-opaque-1', nickname: 'Ming' });
});

test('nickname switched off in config is neither shown nor sent', async () => {
  const { wx, flow } = setup({
    config: { profile: { nickname: false } },
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().profile.showNickname, false);
  flow.setNickname('Ming');
  await flow.confirm();
  assert.equal(wx.requests[1].data.nickname, undefined);
});

test('avatar: uploaded through the configured endpoint, only the returned URL is sent', async () => {
  const { wx, flow } = setup({
    config: { profile: { nickname: true, avatarUploadUrl: 'https://up.example.com/avatar' } },
    wx: {
      routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] },
      upload: [{ status: 200, data: JSON.stringify({ url: 'https://thirdwx.qlogo.cn/mmopen/a/132' }) }],
    },
  });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().profile.showAvatar, true);
  flow.onChooseAvatar({ avatarUrl: 'http://tmp/abc.jpeg' });
  assert.equal(flow.view().profile.avatarPath, 'http://tmp/abc.jpeg');
  await flow.confirm();
  const up = wx.calls.find((c) => c.name === 'uploadFile').args;
  assert.equal(up.url, 'https://up.example.com/avatar');
  assert.equal(up.filePath, 'http://tmp/abc.jpeg');
  assert.deepEqual(up.formData, { ticket: h.TICKET, session: 'sess-opaque-1' });
  assert.equal(wx.requests[1].data.avatar_url, 'https://thirdwx.qlogo.cn/mmopen/a/132');
});

for (const url of ['https://cdn.example.com/a/1.png', 'data:image/svg+xml;base64,PHN2Zz4=']) {
  test(`avatar: an upload answer scan-gateway would refuse (${url.slice(0, 16)}...) is not sent`, async () => {
    const { wx, flow } = setup({
      config: { profile: { nickname: true, avatarUploadUrl: 'https://up.example.com/avatar' } },
      wx: {
        routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] },
        upload: [{ status: 200, data: JSON.stringify({ url: url }) }],
      },
    });
    await flow.start(h.sceneQuery());
    flow.onChooseAvatar({ avatarUrl: 'wxfile://tmp_1.png' });
    await flow.confirm();
    assert.equal(wx.requests[1].data.avatar_url, undefined);
    assert.equal(flow.view().phase, 'done');
  });
}

test('avatar: a failed upload still logs in, without the avatar', async () => {
  const { wx, flow } = setup({
    config: { profile: { nickname: true, avatarUploadUrl: 'https://up.example.com/avatar' } },
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] }, upload: [{ fail: 'uploadFile:fail' }] },
  });
  await flow.start(h.sceneQuery());
  flow.onChooseAvatar({ avatarUrl: 'wxfile://tmp_1.png' });
  await flow.confirm();
  assert.equal(flow.view().phase, 'done');
  assert.equal(wx.requests[1].data.avatar_url, undefined);
});

test('avatar: ignored without an upload endpoint (a temp path is never sent)', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  flow.onChooseAvatar({ avatarUrl: 'http://tmp/abc.jpeg' });
  await flow.confirm();
  assert.equal(wx.requests[1].data.avatar_url, undefined);
  assert.equal(wx.calls.some((c) => c.name === 'uploadFile'), false);
});

// ---- errors ---------------------------------------------------------------

const GATEWAY_ERRORS = [
  // [status, code, expected message (en), ways out]
  [404, 'ticket_not_found', /does not exist or has already been used/, ['rescan', 'close']],
  [410, 'ticket_expired', /has expired/, ['rescan', 'close']],
  [409, 'ticket_already_scanned', /already scanned on another phone/, ['rescan', 'close']],
  [409, 'ticket_cancelled', /was cancelled/, ['rescan', 'close']],
  [409, 'illegal_transition', /already been completed or cancelled/, ['rescan', 'close']],
  [403, 'not_scanner', /Only the phone that scanned/, ['rescan', 'close']],
  [401, 'invalid_session', /no longer valid/, ['rescan', 'close']],
  [400, 'wechat_invalid_code', /could not verify/, ['retry', 'close']],
  [403, 'wechat_code_blocked', /restricted logins/, ['close']],
  [429, 'rate_limited', /wait a minute/, ['retry', 'close']],
  [429, 'wechat_rate_limited', /wait a minute/, ['retry', 'close']],
  [400, 'invalid_request', /did not accept/, ['rescan', 'close']],
  [400, 'malformed_json', /did not accept/, ['rescan', 'close']],
  [502, 'upstream_error', /busy or unavailable/, ['retry', 'close']],
  [503, 'service_unavailable', /busy or unavailable/, ['retry', 'close']],
  [503, 'wechat_busy', /busy or unavailable/, ['retry', 'close']],
  [502, 'wechat_unreachable', /busy or unavailable/, ['retry', 'close']],
  [502, 'wechat_error', /busy or unavailable/, ['retry', 'close']],
  [404, 'unknown_connection', /does not exist/, ['rescan', 'close']],
  [404, 'not_found', /not configured correctly/, ['close']],
  [418, 'some_new_code', /Login failed \(some_new_code\)/, ['retry', 'close']],
];

function actionList(actions) {
  return Object.keys(actions).filter((k) => actions[k]).sort();
}

for (const [status, code, message, ways] of GATEWAY_ERRORS) {
  test('scan error ' + code + ' -> message and way out', async () => {
    const { flow } = setup({ wx: { routes: { '/mp/v1/scan': [h.gwError(status, code)] } } });
    await flow.start(h.sceneQuery());
    const v = flow.view();
    assert.equal(v.phase, 'error');
    assert.equal(v.error.code, code);
    assert.match(v.error.message, message);
    assert.ok(v.error.title.length > 0);
    assert.equal(v.error.requestId, 'Reference: req-' + code);
    assert.deepEqual(actionList(v.error.actions), ways.slice().sort());
  });

  test('confirm error ' + code + ' -> message and way out', async () => {
    const { flow } = setup({
      wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [h.gwError(status, code)] } },
    });
    await flow.start(h.sceneQuery());
    await flow.confirm();
    const v = flow.view();
    assert.equal(v.phase, 'error');
    assert.equal(v.error.code, code);
    assert.match(v.error.message, message);
    assert.deepEqual(actionList(v.error.actions), ways.slice().sort());
  });
}

test('network down, timeout, garbage answer -> retry works', async () => {
  const cases = [
    [{ fail: 'request:fail -2:net::ERR_INTERNET_DISCONNECTED' }, 'network_error', /Cannot reach the login service/],
    [{ fail: 'request:fail timeout' }, 'timeout', /did not answer in time/],
    [{ status: 200, body: '<html>captive portal</html>' }, 'bad_response', /does not understand/],
    [{ status: 502, body: '<html>Bad gateway</html>' }, 'upstream_error', /busy or unavailable/],
  ];
  for (const [answer, code, message] of cases) {
    const { wx, flow } = setup({
      wx: { routes: { '/mp/v1/scan': [answer, h.ok(h.scanBody())] } },
    });
    await flow.start(h.sceneQuery());
    const v = flow.view();
    assert.equal(v.error.code, code);
    assert.match(v.error.message, message);
    assert.deepEqual(actionList(v.error.actions), ['close', 'retry']);
    await flow.retry();
    assert.equal(flow.view().phase, 'review', code);
    // a fresh wx.login code for the second attempt (codes are single use)
    assert.deepEqual(wx.requests.map((r) => r.data.code), ['js-code-1', 'js-code-2']);
  }
});

test('rate limited with Retry-After says how long to wait', async () => {
  const answer = h.gwError(429, 'rate_limited');
  answer.header = { 'Retry-After': '30' };
  const { flow } = setup({ wx: { routes: { '/mp/v1/scan': [answer] } } });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().error.message, 'Too many attempts. Please wait 30 seconds and try again.');
});

test('wx.login failure -> retry with a new login', async () => {
  const { wx, flow } = setup({
    wx: { login: [{ fail: 'login:fail timeout' }, { code: 'c2' }], routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } },
  });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().error.code, 'wx_login_failed');
  assert.deepEqual(paths(wx), []);
  await flow.retry();
  assert.equal(flow.view().phase, 'review');
  assert.equal(wx.requests[0].data.code, 'c2');
});

test('network failure on confirm: retry confirms with the same session', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [{ fail: 'request:fail' }, CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  await flow.confirm();
  assert.equal(flow.view().error.code, 'network_error');
  await flow.retry();
  assert.equal(flow.view().phase, 'done');
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/confirm', '/mp/v1/confirm']);
  assert.deepEqual(wx.requests[2].data, wx.requests[1].data);
});

test('retry is refused where the error offers none', async () => {
  const { wx, flow } = setup({ wx: { routes: { '/mp/v1/scan': [h.gwError(410, 'ticket_expired')] } } });
  await flow.start(h.sceneQuery());
  await flow.retry();
  assert.equal(flow.view().error.code, 'ticket_expired');
  assert.equal(wx.requests.length, 1);
});

test('malformed QR query -> invalid_qr, no wx.login, no request', async () => {
  const bad = [
    { scene: '%zz' },
    { scene: 'A'.repeat(40) },
    { scene: 'short' },
    { q: encodeURIComponent('https://evil.example.net/q/' + h.TICKET) },
    { q: encodeURIComponent(h.QR_PREFIX) },
    { q: 'a'.repeat(7000) },
    { scene: h.TICKET, q: encodeURIComponent(h.QR_PREFIX + h.TICKET) },
  ];
  for (const query of bad) {
    const { wx, flow } = setup();
    await flow.start(query);
    const v = flow.view();
    assert.equal(v.phase, 'error', JSON.stringify(query).slice(0, 60));
    assert.equal(v.error.code, 'invalid_qr');
    assert.match(v.error.message, /not a valid login code/);
    assert.deepEqual(actionList(v.error.actions), ['close', 'rescan']);
    assert.equal(wx.calls.some((c) => c.name === 'login' || c.name === 'request'), false);
  }
});

test('opened without any code -> idle screen with a scan button', async () => {
  const { wx, flow } = setup();
  await flow.start({});
  const v = flow.view();
  assert.equal(v.phase, 'idle');
  assert.equal(v.message.title, 'Scan the QR code on your computer');
  assert.equal(wx.calls.some((c) => c.name === 'login'), false);
});

test('broken config -> "not set up", nothing called', async () => {
  for (const cfg of [
    { gatewayBaseUrl: 'http://gw.example.com' },
    { gatewayBaseUrl: '' },
    { qrUrlPrefixes: ['login.example.com/q/'] },
    { qrUrlPrefixes: 'https://login.example.com/q/' },
    { requestTimeoutMs: 5 },
    { profile: { avatarUploadUrl: 'ftp://x' } },
  ]) {
    const { wx, flow } = setup({ config: cfg });
    assert.ok(flow.configProblems.length > 0, JSON.stringify(cfg));
    await flow.start(h.sceneQuery());
    const v = flow.view();
    assert.equal(v.error.code, 'config_error');
    assert.deepEqual(actionList(v.error.actions), ['close']);
    assert.equal(wx.calls.some((c) => c.name === 'login'), false);
  }
});

test('http gateway accepted when allowInsecureHttp (local development)', async () => {
  const { flow } = setup({ config: { gatewayBaseUrl: 'http://127.0.0.1:8080', allowInsecureHttp: true } });
  assert.deepEqual(flow.configProblems, []);
});

// ---- rescan / close / abandon ---------------------------------------------

test('rescan with wx.scanCode (own mini program code) starts over as a camera scan', async () => {
  const { wx, flow } = setup({
    wx: {
      launchScene: 1048,
      scanCode: [{ res: { scanType: 'WX_CODE', path: 'pages/login/login?scene=' + h.TICKET2 } }],
      routes: {
        '/mp/v1/scan': [h.gwError(410, 'ticket_expired'), h.ok(h.scanBody({ ticket: h.TICKET2, session: 's2' }))],
      },
    },
  });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().error.code, 'ticket_expired');
  await flow.rescan();
  const sc = wx.calls.find((c) => c.name === 'scanCode').args;
  assert.equal(sc.onlyFromCamera, true);
  const v = flow.view();
  assert.equal(v.phase, 'review');
  assert.equal(v.warning.show, false); // the phone's own camera, not the forwarded image
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET2, code: 'js-code-2', launch_scene: 1047 });
});

test('rescan of an ordinary QR uses scene 1011', async () => {
  const { wx, flow } = setup({
    wx: {
      scanCode: [{ res: { scanType: 'QR_CODE', result: h.QR_PREFIX + h.TICKET2 } }],
      routes: { '/mp/v1/scan': [h.ok(h.scanBody({ ticket: h.TICKET2 }))] },
    },
  });
  await flow.start({});
  await flow.rescan();
  assert.deepEqual(wx.requests[0].data, { ticket: h.TICKET2, code: 'js-code-1', launch_scene: 1011 });
});

test('rescan cancelled by the user keeps the current screen', async () => {
  const { wx, flow } = setup({ wx: { routes: { '/mp/v1/scan': [h.gwError(410, 'ticket_expired')] } } });
  await flow.start(h.sceneQuery());
  await flow.rescan(); // fake scanCode fails with "cancel" by default
  assert.equal(flow.view().error.code, 'ticket_expired');
  assert.equal(wx.requests.length, 1);
});

test('rescan of something that is not a login code -> invalid_qr', async () => {
  const { flow } = setup({ wx: { scanCode: [{ res: { scanType: 'QR_CODE', result: 'https://evil.example.net/x' } }] } });
  await flow.start({});
  await flow.rescan();
  assert.equal(flow.view().error.code, 'invalid_qr');
});

test('rescan from review releases the first scan', async () => {
  const { wx, flow } = setup({
    wx: {
      scanCode: [{ res: { result: h.QR_PREFIX + h.TICKET2 } }],
      routes: {
        '/mp/v1/scan': [h.ok(h.scanBody()), h.ok(h.scanBody({ ticket: h.TICKET2, session: 's2' }))],
        '/mp/v1/cancel': [CANCELLED],
      },
    },
  });
  await flow.start(h.sceneQuery());
  await flow.rescan();
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel', '/mp/v1/scan']);
  assert.deepEqual(wx.requests[1].data, { ticket: h.TICKET, session: 'sess-opaque-1' });
  assert.equal(flow.view().phase, 'review');
});

test('close from review cancels the scan (the PC is told) and exits', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [CANCELLED] } },
  });
  await flow.start(h.sceneQuery());
  await flow.close();
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel']);
  assert.deepEqual(wx.callNames().slice(-2), ['request', 'exitMiniProgram']);
});

test('close after a dead-ticket error sends no cancel', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [h.gwError(403, 'not_scanner')] } },
  });
  await flow.start(h.sceneQuery());
  await flow.confirm();
  await flow.close();
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/confirm']);
  assert.equal(wx.callNames().at(-1), 'exitMiniProgram');
});

test('close falls back to navigateBack without exitMiniProgram', async () => {
  const { wx, flow } = setup();
  delete wx.exitMiniProgram;
  let back = null;
  wx.navigateBack = (a) => {
    back = a;
  };
  await flow.start({});
  await flow.close();
  assert.equal(back.delta, 1);
});

test('leaving the page (onUnload) during review cancels once', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [CANCELLED] } },
  });
  await flow.start(h.sceneQuery());
  flow.abandon();
  flow.abandon();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel']);
});

test('leaving while the scan is in flight cancels the late scan', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [CANCELLED] } },
  });
  const started = flow.start(h.sceneQuery());
  await new Promise((r) => setImmediate(r)); // wx.login answered, scan sent
  flow.abandon();
  await started;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/cancel']);
  assert.notEqual(flow.view().phase, 'review');
});

test('leaving after done sends nothing', async () => {
  const { wx, flow } = setup({
    wx: { routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } },
  });
  await flow.start(h.sceneQuery());
  await flow.confirm();
  flow.abandon();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(paths(wx), ['/mp/v1/scan', '/mp/v1/confirm']);
});

// ---- view details and i18n ------------------------------------------------

test('missing request details show "unknown", no logo shows the initial', async () => {
  const { flow } = setup({
    wx: {
      routes: {
        '/mp/v1/scan': [h.ok(h.scanBody({ site: { name: 'ācme', logo_url: null }, request: { ip: '198.51.100.2' } }))],
      },
    },
  });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(v.site.logoUrl, '');
  assert.equal(v.site.initial, 'ā');
  assert.deepEqual(v.rows.map((r) => r.value), ['198.51.100.2', 'Unknown location', 'Unknown', 'Unknown']);
});

test('Chinese UI end to end', async () => {
  const { wx, flow } = setup({
    wx: {
      language: 'zh_CN',
      launchScene: 1049,
      routes: { '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: false } }))], '/mp/v1/confirm': [h.gwError(410, 'ticket_expired')] },
    },
  });
  await flow.start(h.sceneQuery());
  let v = flow.view();
  assert.equal(v.lang, 'zh');
  assert.equal(v.brand.name, '测试');
  assert.equal(v.labels.confirm, '确认登录');
  assert.equal(v.labels.cancel, '取消');
  assert.equal(v.ask, 'Demo Shop 请求在电脑上登录你的账号');
  assert.match(v.warning.texts[0], /相册/);
  assert.equal(v.labels.ackLabel, '我正在自己的电脑上登录，并且是我本人扫描了该电脑屏幕上的二维码');
  assert.equal(v.rows[3].value, '2026-11-25 18:00 · 5 分钟前');
  assert.equal(v.phone.ask, 'Demo Shop 请求获取你的手机号（可选）。');
  assert.deepEqual(wx.calls[1], { name: 'setNavigationBarTitle', args: { title: '电脑端登录' } });
  flow.setAcknowledged(true);
  await flow.confirm();
  v = flow.view();
  assert.equal(v.error.title, '二维码已过期');
  assert.equal(v.error.requestId, '编号：req-ticket_expired');
  assert.equal(wx.requests[0].header['accept-language'], 'zh-CN');
});

test('English brand name is used when the phone is in English', async () => {
  const { flow } = setup();
  assert.equal(flow.view().brand.name, 'TestBrand');
  assert.equal(flow.view().phase, 'starting');
  assert.equal(flow.view().busyText, 'Loading…');
});

test('onChange errors do not break the flow', async () => {
  const wx = h.createFakeWx({ language: 'en', launchScene: 1047, routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } });
  const flow = createLoginFlow({
    wx: wx,
    config: h.config(),
    onChange: () => {
      throw new Error('page gone');
    },
  });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().phase, 'review');
});
