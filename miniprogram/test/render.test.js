'use strict';
// The login page as WeChat compiles it: login.wxml through wcc (WeChat's WXML compiler, from
// miniprogram-compiler) rendered by miniprogram-simulate, login.js as its code, events
// fired on the rendered elements.  Every state a person can meet is rendered once.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { renderPage, fire, ROOT } = require('./helpers/render-page');
const h = require('./helpers/fake-wx');

const CONFIRMED = h.ok({ ticket: h.TICKET, status: 'confirmed' });
const CANCELLED = h.ok({ ticket: h.TICKET, status: 'cancelled' });

// Handlers the rendered states bound, collected across this file's tests.
const bound = new Set();

function open(wxOpts, query) {
  const wx = h.createFakeWx(Object.assign({ language: 'en', launchScene: 1047 }, wxOpts || {}));
  const r = renderPage(wx);
  r.wx = wx;
  r.load = async () => {
    r.page.onLoad(query === undefined ? { scene: h.TICKET } : query);
    await h.turns();
  };
  r.collect = () => {
    for (const n of r.nodes()) for (const k of Object.keys(n.on)) bound.add(n.on[k]);
  };
  return r;
}

function labels(r) {
  r.collect();
  return r.buttons().map((b) => b.label);
}

function has(r, text) {
  assert.ok(r.text().includes(text), 'missing "' + text + '" in: ' + r.text());
}

test('WeChat compilers accept the shipped WXML and WXSS (wcc, wcsc), and reject a broken file', () => {
  const wcc = require('miniprogram-compiler/src/wcc');
  const wcsc = require('miniprogram-compiler/src/wcsc');
  const wxml = wcc(ROOT, ['pages/login/login'], [], {});
  assert.ok(!(wxml instanceof Error), String(wxml));
  const wxss = wcsc(ROOT, ['app', 'pages/login/login'], {});
  assert.ok(!(wxss instanceof Error), String(wxss));
  assert.match(wxss['pages/login/login.wxss'], /btn-primary/);
  // the same check on a broken copy fails, so the check above means something
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-broken-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.wxss'), '.x { color: red; ');
    fs.writeFileSync(path.join(dir, 'b.wxml'), '<view>{{unclosed</view>');
    assert.ok(wcsc(dir, ['a'], {}) instanceof Error);
    assert.throws(() => wcc(dir, ['b'], [], {}), /unexpected end/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('starting and checking: a spinner with its text, no buttons', async () => {
  const r = open({ routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } });
  assert.ok(r.nodes().some((n) => n.attrs.class === 'spinner'));
  assert.deepEqual(labels(r), []);
  r.page.onLoad({ scene: h.TICKET });
  has(r, 'Checking the QR code…');
  assert.deepEqual(labels(r), []);
  await h.turns();
  assert.equal(r.view().phase, 'review');
});

test('idle: asks to scan, Scan again opens the camera, Close exits', async () => {
  const r = open({}, {});
  await r.load();
  has(r, 'Scan the QR code on your computer');
  assert.deepEqual(labels(r), ['Scan again', 'Close']);
  fire(r.button('Scan again'), 'tap');
  await h.turns();
  assert.ok(r.wx.callNames().includes('scanCode'));
  fire(r.button('Close'), 'tap');
  assert.equal(r.wx.callNames().at(-1), 'exitMiniProgram');
});

test('review: who asks, the rows, a nickname field WeChat reviews, Confirm submits the form', async () => {
  const r = open({ routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [h.ok({ ticket: h.TICKET, status: 'confirmed', outcome: 'succeeded' })] } });
  await r.load();
  has(r, 'Demo Shop wants to log you in on a computer');
  for (const t of ['IP address', '203.0.113.7', 'Location', 'Shanghai, CN', 'Browser', 'Chrome 120 on Windows']) has(r, t);
  assert.deepEqual(labels(r), ['Confirm login', 'Cancel']);
  const confirm = r.buttons()[0];
  assert.equal(confirm.formType, 'submit');
  assert.equal(confirm.disabled, false);
  const input = r.first('input');
  assert.equal(input.attrs.type, 'nickname');
  assert.equal(input.attrs.name, 'nickname');
  assert.deepEqual(input.on, { blur: 'onNicknameInput', change: 'onNicknameInput', nicknamereview: 'onNicknameReview' });
  assert.equal(r.first('form').on.submit, 'onConfirm');
  // the whole nickname path through the rendered elements
  fire(input, 'blur', { value: 'Ming' });
  fire(input, 'nicknamereview', { pass: true, timeout: false });
  fire(r.first('form'), 'submit', { value: { nickname: 'Ming' } });
  await h.turns();
  assert.equal(r.wx.requests[1].data.nickname, 'Ming');
  has(r, 'Logged in');
  assert.deepEqual(labels(r), ['Close']);
});

test('review: a nickname WeChat refused shows a note under the field and is not sent', async () => {
  const r = open({ routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] } });
  await r.load();
  fire(r.first('input'), 'blur', { value: 'Bad' });
  fire(r.first('input'), 'nicknamereview', { pass: false, timeout: false });
  has(r, 'WeChat did not accept this nickname');
  assert.equal(r.first('input').attrs.value, '');
  fire(r.first('form'), 'submit', { value: { nickname: '' } });
  await h.turns();
  assert.equal(r.wx.requests[1].data.nickname, undefined);
});

test('review with a warning, the phone button and the avatar picker, each wired', async () => {
  const r = open({
    launchScene: 1048,
    routes: { '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: true } }))] },
  });
  r.page.onLoad({ scene: h.TICKET });
  await h.turns();
  // the avatar picker shows only with an upload URL: render it with one
  const withAvatar = open({ routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } });
  const config = require('../config');
  const saved = config.profile.avatarUploadUrl;
  config.profile.avatarUploadUrl = 'https://login.example.com/mp/v1/avatar';
  try {
    await withAvatar.load();
  } finally {
    config.profile.avatarUploadUrl = saved;
  }

  has(r, 'Check before you continue');
  has(r, 'You opened this login code from a picture in a chat');
  has(r, 'Demo Shop needs your phone number to log you in.');
  assert.deepEqual(labels(r), ['Share my phone number', 'Confirm login', 'Cancel']);
  const phone = r.button('Share my phone number');
  assert.equal(phone.attrs.openType, 'getPhoneNumber');
  assert.equal(r.buttons()[1].disabled, true);
  fire(r.first('checkbox-group'), 'change', { value: ['own'] });
  // still disabled: the phone number is required
  assert.equal(r.buttons()[1].disabled, true);
  fire(phone, 'getphonenumber', { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' });
  await h.turns();
  has(r, 'Your phone number will be shared.');
  assert.equal(r.buttons().find((b) => b.label === 'Confirm login').disabled, false);

  const avatar = withAvatar.buttons().find((b) => b.openType === 'chooseAvatar');
  assert.ok(avatar, 'avatar button rendered');
  assert.equal(avatar.on.chooseavatar, 'onChooseAvatar');
  fire(avatar.node, 'chooseavatar', { avatarUrl: 'wxfile://tmp/a.png' });
  const picture = withAvatar.nodes().find((n) => n.tag === 'image' && n.attrs.class === 'avatar');
  assert.equal(picture.attrs.src, 'wxfile://tmp/a.png');
  withAvatar.collect();
});

test('far away, then "are you sure": both places, Cancel first, the second confirmation wired', async () => {
  const far = h.scanBody({
    proximity: { level: 'different_country', far: true, phone_location: { kind: 'located', en: { text: 'Beijing, China' } } },
    request: { ip: '198.51.100.9', browser: 'Firefox', time: '2026-11-25T10:00:00Z', location: { kind: 'located', en: { text: 'Tokyo, Japan' } } },
    risk: { warning: true, reason: 'far_away' },
  });
  const r = open({
    routes: {
      '/mp/v1/scan': [h.ok(far)],
      '/mp/v1/confirm': [h.gwError(409, 'far_away_confirmation_required'), CONFIRMED],
    },
  });
  await r.load();
  has(r, 'This computer is far away from you');
  has(r, 'is in Tokyo, Japan, in another country. You are in Beijing, China.');
  // a far computer alone (no other warning) still shows the tick Confirm waits for
  assert.equal(r.view().warning.show, false);
  assert.equal(r.buttons().find((b) => b.label === 'Confirm login').disabled, true);
  fire(r.first('checkbox-group'), 'change', { value: ['own'] });
  assert.equal(r.buttons().find((b) => b.label === 'Confirm login').disabled, false);
  fire(r.first('form'), 'submit', { value: { nickname: '' } });
  await h.turns();
  has(r, 'Are you sure?');
  assert.deepEqual(labels(r), ['Cancel', 'I am sure, log in']);
  fire(r.button('I am sure, log in'), 'tap');
  await h.turns();
  assert.equal(r.wx.requests.at(-1).data.far_away_acknowledged, true);
  has(r, 'Confirmed — look at your computer to see the result.');
});

test('waiting for the nickname review, confirming, finishing: the page shows it is busy', async () => {
  const r = open({
    routes: {
      '/mp/v1/scan': [h.ok(h.scanBody())],
      '/mp/v1/confirm': [h.ok({ ticket: h.TICKET, status: 'confirmed', outcome: 'pending' })],
      '/mp/v1/status': [h.ok({ ticket: h.TICKET, status: 'failed', reason: 'user_disabled' })],
    },
  });
  await r.load();
  fire(r.first('input'), 'blur', { value: 'Ming' });
  fire(r.first('form'), 'submit', { value: { nickname: 'Ming' } });
  await h.turns();
  // Confirm was tapped before WeChat's review answered: the field stays to receive it
  const confirm = r.buttons().find((b) => b.label === 'Confirm login');
  assert.equal(confirm.node._vt.attrs.find((a) => a.name === 'loading').value, true);
  assert.equal(confirm.disabled, true);
  fire(r.first('input'), 'nicknamereview', { pass: true, timeout: false });
  // one event loop turn: the confirm is sent; the fake answers it on the next one
  await h.turns(1);
  has(r, 'Logging in…');
  assert.deepEqual(labels(r), []);
  assert.equal(r.wx.requests[1].data.nickname, 'Ming');
  await h.turns();
  has(r, 'Checking the result…');
  assert.deepEqual(labels(r), []);
});

const OUTCOMES = [
  [{ outcome: 'succeeded' }, 'Logged in', 'title-ok'],
  [{}, 'Confirmed', 'title-info'],
  [{ outcome: 'binding_required' }, 'Continue on your computer', 'title-info'],
  [{ outcome: 'failed', reason: 'login_only' }, 'No account to log in to', 'title-bad'],
  [{ outcome: 'failed', reason: 'user_disabled' }, 'Account disabled', 'title-bad'],
  [{ outcome: 'failed', reason: 'wechat_refused' }, 'WeChat refused the request', 'title-bad'],
  [{ outcome: 'failed', reason: 'internal_error' }, 'Login failed', 'title-bad'],
];

for (const [extra, title, tone] of OUTCOMES) {
  test(`done, ${extra.reason || extra.outcome || 'no outcome'}: "${title}" and Close`, async () => {
    const r = open({ routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [h.ok(Object.assign({ ticket: h.TICKET, status: 'confirmed' }, extra))] } });
    await r.load();
    fire(r.first('form'), 'submit', { value: { nickname: '' } });
    await h.turns();
    const heading = r.nodes().find((n) => /\btitle\b/.test(n.attrs.class || ''));
    assert.equal(heading.text, title);
    assert.match(heading.attrs.class, new RegExp(tone));
    assert.deepEqual(labels(r), ['Close']);
  });
}

test('cancelling, then cancelled', async () => {
  const r = open({ routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [CANCELLED] } });
  await r.load();
  fire(r.button('Cancel'), 'tap');
  has(r, 'Cancelling…');
  assert.deepEqual(labels(r), []);
  await h.turns();
  has(r, 'Login cancelled');
  has(r, 'Nobody was logged in.');
  assert.deepEqual(labels(r), ['Close']);
});

test('errors: each way out is a button, and Close is always one', async () => {
  const r = open({ routes: { '/mp/v1/scan': [{ fail: 'request:fail timeout' }] } });
  await r.load();
  has(r, 'No answer');
  assert.deepEqual(labels(r), ['Try again', 'Close']);

  const gone = open({ routes: { '/mp/v1/scan': [h.gwError(410, 'ticket_expired')] } });
  await gone.load();
  has(gone, 'Login code expired');
  assert.deepEqual(labels(gone), ['Scan again', 'Close']);
  has(gone, 'Reference: req-ticket_expired');

  const old = open({ sdkVersion: '2.20.0' });
  await old.load();
  has(old, 'Update WeChat');
  assert.deepEqual(labels(old), ['Update WeChat', 'Close']);
  fire(old.button('Update WeChat'), 'tap');
  assert.equal(old.wx.callNames().at(-1), 'updateWeChatApp');

  // Try again repeats the step
  const again = open({ routes: { '/mp/v1/scan': [{ fail: 'request:fail timeout' }, h.ok(h.scanBody())] } });
  await again.load();
  fire(again.button('Try again'), 'tap');
  await h.turns();
  assert.equal(again.view().phase, 'review');
});

test('closing after a failed confirm, then closed when WeChat will not exit', async () => {
  const r = open({
    exitFails: 'exitMiniProgram:fail not from a tap',
    routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [{ fail: 'request:fail timeout' }], '/mp/v1/cancel': [CANCELLED] },
  });
  await r.load();
  fire(r.first('form'), 'submit', { value: { nickname: '' } });
  await h.turns();
  has(r, 'No answer');
  fire(r.button('Close'), 'tap');
  // inside the tap: busy, the cancel sent and the exit asked for
  has(r, 'Closing…');
  assert.deepEqual(labels(r), []);
  assert.deepEqual(r.wx.callNames().slice(-2), ['request', 'exitMiniProgram']);
  await h.turns();
  has(r, 'You can close this page');
  assert.deepEqual(labels(r), ['Close']);
});

test('Chinese: the same page in Chinese', async () => {
  const r = open({ language: 'zh_CN', routes: { '/mp/v1/scan': [h.ok(h.scanBody())] } });
  await r.load();
  has(r, 'Demo Shop 请求在电脑上登录你的账号');
  assert.deepEqual(labels(r), ['确认登录', '取消']);
});

// Runs last (tests in a file run in order): every binding in login.wxml was rendered above,
// and names a method of the page.
test('every event binding in login.wxml was rendered in some state and names a page handler', () => {
  const wxml = fs.readFileSync(path.join(ROOT, 'pages/login/login.wxml'), 'utf8');
  const declared = new Set([...wxml.matchAll(/\bbind(\w+)="(\w+)"/g)].map((m) => m[2]));
  assert.deepEqual([...bound].sort(), [...declared].sort());
  const r = open();
  for (const name of declared) assert.equal(typeof r.page[name], 'function', name);
});
