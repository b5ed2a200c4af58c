'use strict';
// After Confirm the phone shows the account service's decision when the gateway passes it
// on, and otherwise says only that the login was confirmed: never "logged in" for a login
// that was refused.  (README, "Outcome after confirm".)
const test = require('node:test');
const assert = require('node:assert/strict');
const { createLoginFlow, STATUS_POLLS, STATUS_WAIT_MS } = require('../lib/flow');
const gatewayLib = require('../lib/gateway');
const h = require('./helpers/fake-wx');

function confirmAnswer(extra) {
  return h.ok(Object.assign({ ticket: h.TICKET, status: 'confirmed' }, extra));
}

async function confirmWith(answers, opts) {
  const o = opts || {};
  const wx = h.createFakeWx({
    language: o.language || 'en',
    launchScene: 1047,
    routes: Object.assign({ '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [answers.confirm] }, answers.status ? { '/mp/v1/status': answers.status } : {}),
  });
  const wait = o.wait || h.manualWait();
  const phases = [];
  const flow = createLoginFlow({
    wx: wx,
    config: h.config(),
    now: h.fixedNow,
    wait: wait,
    onChange: (v) => {
      if (phases[phases.length - 1] !== v.phase) phases.push(v.phase);
    },
  });
  await flow.start(h.sceneQuery());
  return { wx: wx, flow: flow, wait: wait, phases: phases, done: flow.confirm() };
}

const NOT_CLAIMED = /logged in to Demo Shop|Logged in|^Confirmed$/;

test('succeeded: the phone says the computer is logged in', async () => {
  const r = await confirmWith({ confirm: confirmAnswer({ outcome: 'succeeded' }) });
  await r.done;
  const m = r.flow.view().message;
  assert.equal(m.title, 'Logged in');
  assert.equal(m.text, 'You are now logged in to Demo Shop on your computer. You can close this page.');
  assert.equal(m.tone, 'ok');
});

test('no outcome from the server: "Confirmed — look at your computer", not a success', async () => {
  for (const extra of [{}, { outcome: 'mystery' }, { outcome: 42 }]) {
    const r = await confirmWith({ confirm: confirmAnswer(extra) });
    await r.done;
    const m = r.flow.view().message;
    assert.equal(m.title, 'Confirmed');
    assert.equal(m.text, 'Confirmed — look at your computer to see the result.');
    assert.doesNotMatch(m.text, /logged in/i);
  }
  const zh = await confirmWith({ confirm: confirmAnswer({}) }, { language: 'zh_CN' });
  await zh.done;
  assert.equal(zh.flow.view().message.text, '已确认——请在电脑上查看登录结果。');
});

test('binding required: the phone sends the person back to the computer', async () => {
  const r = await confirmWith({ confirm: confirmAnswer({ outcome: 'binding_required' }) });
  await r.done;
  const m = r.flow.view().message;
  assert.equal(m.title, 'Continue on your computer');
  assert.match(m.text, /Continue on your computer: sign in to your existing account there, or create a new one/);
  assert.doesNotMatch(m.text, NOT_CLAIMED);
});

const REFUSALS = [
  ['login_only', 'No account to log in to', /only lets existing accounts log in/, '没有可登录的账号'],
  ['user_disabled', 'Account disabled', /account is disabled, so nobody was logged in/, '账号已停用'],
  ['wechat_refused', 'WeChat refused the request', /WeChat did not accept the request Demo Shop made/, '微信拒绝了请求'],
  ['internal_error', 'Login failed', /problem on its side, so nobody was logged in/, '登录失败'],
  ['something_new', 'Login failed', /did not log you in \(something_new\)/, '登录失败'],
];

for (const [reason, title, text, zhTitle] of REFUSALS) {
  test(`failed with ${reason}: the reason in words, in both languages, never "logged in"`, async () => {
    const r = await confirmWith({ confirm: confirmAnswer({ outcome: 'failed', reason: reason }) });
    await r.done;
    const m = r.flow.view().message;
    assert.equal(r.flow.view().phase, 'done');
    assert.equal(m.title, title);
    assert.match(m.text, text);
    assert.equal(m.tone, 'bad');
    assert.doesNotMatch(m.title, NOT_CLAIMED);
    const zh = await confirmWith({ confirm: confirmAnswer({ outcome: 'failed', reason: reason }) }, { language: 'zh_CN' });
    await zh.done;
    assert.equal(zh.flow.view().message.title, zhTitle);
  });
}

test('a gateway that answers with the final ticket status is understood too', async () => {
  const r = await confirmWith({ confirm: h.ok({ ticket: h.TICKET, status: 'failed', reason: 'user_disabled' }) });
  await r.done;
  assert.equal(r.flow.view().message.title, 'Account disabled');
});

test('pending: the phone asks /mp/v1/status until the decision comes, busy meanwhile', async () => {
  const r = await confirmWith({
    confirm: confirmAnswer({ outcome: 'pending' }),
    status: [h.ok({ ticket: h.TICKET, status: 'confirmed' }), h.ok({ ticket: h.TICKET, status: 'failed', outcome: 'failed', reason: 'login_only' })],
  });
  await h.turns();
  assert.equal(r.flow.view().phase, 'finishing');
  assert.equal(r.flow.view().busyText, 'Checking the result…');
  assert.equal(r.flow.inProgress(), true);
  assert.deepEqual(r.wait.pending(), [STATUS_WAIT_MS]);
  r.wait.release();
  await h.turns();
  // still confirmed: ask again after another pause
  assert.deepEqual(r.wait.pending(), [STATUS_WAIT_MS]);
  r.wait.release();
  await r.done;
  assert.equal(r.flow.view().message.title, 'No account to log in to');
  const status = r.wx.requests.filter((q) => q.path === '/mp/v1/status');
  assert.equal(status.length, 2);
  assert.deepEqual(status[0].data, { ticket: h.TICKET, session: 'sess-opaque-1' });
  assert.deepEqual(r.phases, ['checking', 'review', 'confirming', 'finishing', 'done']);
});

test('pending, and /status unknown to this gateway: one try, then "look at your computer"', async () => {
  const r = await confirmWith({ confirm: confirmAnswer({ outcome: 'pending' }), status: [h.gwError(404, 'not_found')] });
  await h.turns();
  r.wait.release();
  await r.done;
  assert.equal(r.flow.view().message.title, 'Confirmed');
  assert.equal(r.wx.requests.filter((q) => q.path === '/mp/v1/status').length, 1);
});

test('pending that never resolves: a bounded number of asks, then "look at your computer"', async () => {
  const still = [];
  for (let i = 0; i < STATUS_POLLS + 3; i++) still.push(h.ok({ ticket: h.TICKET, status: 'confirmed' }));
  const r = await confirmWith({ confirm: confirmAnswer({ outcome: 'pending' }), status: still });
  for (let i = 0; i < STATUS_POLLS + 3 && r.flow.view().phase !== 'done'; i++) {
    await h.turns();
    r.wait.release();
  }
  await r.done;
  assert.equal(r.flow.view().message.title, 'Confirmed');
  assert.equal(r.wx.requests.filter((q) => q.path === '/mp/v1/status').length, STATUS_POLLS);
});

test('normalizeOutcome keeps only known outcomes and well-formed reasons', () => {
  const n = gatewayLib.normalizeOutcome;
  assert.deepEqual(n({ status: 'confirmed', outcome: 'failed', reason: 'user_disabled' }, false), { status: 'confirmed', outcome: 'failed', reason: 'user_disabled' });
  assert.deepEqual(n({ status: 'confirmed', outcome: 'failed', reason: '<b>x</b>' }, false).reason, null);
  // a reason only means something for a refusal
  assert.deepEqual(n({ status: 'confirmed', outcome: 'succeeded', reason: 'login_only' }, false).reason, null);
  assert.equal(n({ status: 'confirmed' }, false).outcome, null);
  assert.equal(n({ status: 'confirmed' }, true).outcome, 'pending');
  assert.equal(n({ status: 'expired' }, true).outcome, null);
});
