'use strict';
// The base library floor (2.21.2): an older WeChat is told to update, not treated as a refusal.
const test = require('node:test');
const assert = require('node:assert/strict');
const { createLoginFlow } = require('../lib/flow');
const baselib = require('../lib/baselib');
const h = require('./helpers/fake-wx');

function setup(wxOpts, config) {
  const wx = h.createFakeWx(Object.assign({ language: 'en', launchScene: 1047 }, wxOpts || {}));
  const flow = createLoginFlow({ wx: wx, config: h.config(config), now: h.fixedNow, tzOffsetMinutes: 480, wait: h.manualWait() });
  return { wx: wx, flow: flow };
}

test('compareVersion orders base library versions part by part', () => {
  assert.equal(baselib.compareVersion('2.21.2', '2.9.10'), 1);
  assert.equal(baselib.compareVersion('2.21.1', '2.21.2'), -1);
  assert.equal(baselib.compareVersion('2.21', '2.21.0'), 0);
  assert.equal(baselib.compareVersion('3.0.0', '2.99.99'), 1);
});

test('capabilities: the floor and the nickname review come from SDKVersion', () => {
  const at = (v) => baselib.capabilities(h.createFakeWx({ sdkVersion: v }));
  assert.deepEqual(at('2.21.1'), { version: '2.21.1', tooOld: true, nicknameReview: false });
  assert.deepEqual(at('2.21.2'), { version: '2.21.2', tooOld: false, nicknameReview: false });
  assert.deepEqual(at('2.29.1'), { version: '2.29.1', tooOld: false, nicknameReview: true });
  // older WeChat without getAppBaseInfo still reports it through getSystemInfoSync
  const old = h.createFakeWx({});
  old.getSystemInfoSync = () => ({ language: 'en', SDKVersion: '2.10.4' });
  assert.equal(baselib.capabilities(old).tooOld, true);
  // a version WeChat does not report is not called too old
  assert.deepEqual(baselib.capabilities(h.createFakeWx({})), { version: null, tooOld: false, nicknameReview: false });
});

test('below 2.21.2 the page asks for a WeChat update before scanning, in both languages', async () => {
  const { wx, flow } = setup({ sdkVersion: '2.20.0' });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(v.phase, 'error');
  assert.equal(v.error.title, 'Update WeChat');
  assert.match(v.error.message, /newer version of WeChat \(base library 2\.21\.2 or later\)/);
  assert.deepEqual(v.error.actions, { rescan: false, retry: false, close: true, update: true });
  // nothing was sent: the computer was not told "scanned" by a phone that cannot finish
  assert.equal(wx.requests.length, 0);
  assert.ok(!wx.callNames().includes('login'));
  flow.updateWeChat();
  assert.equal(wx.callNames().at(-1), 'updateWeChatApp');

  const zh = setup({ sdkVersion: '2.20.0', language: 'zh_CN' });
  await zh.flow.start(h.sceneQuery());
  assert.equal(zh.flow.view().error.title, '请更新微信');
  assert.match(zh.flow.view().error.message, /基础库 2\.21\.2 或更高/);
});

test('the update button is offered only where WeChat has its update page', async () => {
  const { wx, flow } = setup({ sdkVersion: '2.11.0' });
  delete wx.updateWeChatApp;
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().error.actions.update, false);
  assert.equal(flow.view().error.actions.close, true);
});

// Base libraries before 2.21.2 answer the phone button with encrypted data and no code.
const OLD_PHONE_GRANT = { errMsg: 'getPhoneNumber:ok', encryptedData: 'ZW5j', iv: 'aXY=' };

test('phone granted the old way, optional: no "you refused", login goes on without it', async () => {
  const { wx, flow } = setup({
    sdkVersion: undefined,
    routes: {
      '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: false } }))],
      '/mp/v1/confirm': [h.ok({ ticket: h.TICKET, status: 'confirmed' })],
    },
  });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber(OLD_PHONE_GRANT);
  const v = flow.view();
  assert.equal(v.phone.status, 'outdated');
  assert.equal(v.phone.note, 'Sharing your phone number needs a newer version of WeChat. You can log in without it.');
  assert.doesNotMatch(v.phone.note, /chose not to/);
  assert.equal(v.phone.canTap, false);
  assert.equal(v.canConfirm, true);
  await flow.confirm();
  assert.equal(wx.requests[1].data.phone_code, undefined);
});

test('phone granted the old way, required: the computer is freed and the page asks for an update', async () => {
  const { wx, flow } = setup({
    routes: {
      '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: true } }))],
      '/mp/v1/cancel': [h.ok({ ticket: h.TICKET, status: 'cancelled' })],
    },
  });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber(OLD_PHONE_GRANT);
  const v = flow.view();
  assert.equal(v.phase, 'error');
  assert.equal(v.error.code, 'wechat_update_required');
  assert.doesNotMatch(v.error.message, /refus|declin/i);
  assert.deepEqual(wx.requests.map((r) => r.path), ['/mp/v1/scan', '/mp/v1/cancel']);
});

test('a real refusal is still a refusal', async () => {
  const { flow } = setup({
    routes: { '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: false } }))] },
  });
  await flow.start(h.sceneQuery());
  await flow.onPhoneNumber({ errMsg: 'getPhoneNumber:fail user deny' });
  assert.equal(flow.view().phone.status, 'declined');
  assert.equal(flow.view().phone.canTap, true);
});
