'use strict';
// The nickname WeChat reviews after blur: only a nickname it passed (base library 2.29.1+),
// or the form's value at the tap (older), is ever sent.
const test = require('node:test');
const assert = require('node:assert/strict');
const { createLoginFlow, NICKNAME_REVIEW_WAIT_MS } = require('../lib/flow');
const h = require('./helpers/fake-wx');

const CONFIRMED = h.ok({ ticket: h.TICKET, status: 'confirmed' });

async function reviewing(opts) {
  const o = opts || {};
  const wx = h.createFakeWx({
    language: o.language || 'en',
    sdkVersion: o.sdkVersion || '3.3.4',
    launchScene: 1047,
    routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/confirm': [CONFIRMED] },
  });
  const wait = h.manualWait();
  const flow = createLoginFlow({ wx: wx, config: h.config(), now: h.fixedNow, wait: wait });
  await flow.start(h.sceneQuery());
  assert.equal(flow.view().phase, 'review');
  return { wx: wx, flow: flow, wait: wait, sent: () => wx.requests[1] && wx.requests[1].data };
}

test('a nickname WeChat refused is not sent, the field is emptied and the page says why', async () => {
  const { flow, sent } = await reviewing();
  flow.setNickname('Bad name');
  flow.onNicknameReview({ pass: false, timeout: false });
  const p = flow.view().profile;
  assert.equal(p.nickname, '');
  assert.equal(p.nicknameNote, 'WeChat did not accept this nickname, so it will not be sent. Choose another one, or leave the field empty.');
  // WeChat has emptied the field; the form submits it empty
  await flow.confirm({ nickname: '' });
  assert.equal(flow.view().phase, 'done');
  assert.equal(sent().nickname, undefined);
});

test('the blurred value alone is never sent, even if the form still shows it', async () => {
  const { flow, wait, sent } = await reviewing();
  flow.setNickname('Bad name');
  const done = flow.confirm({ nickname: 'Bad name' });
  await h.turns();
  // Confirm waits for the review instead of sending what was typed; the review screen
  // stays (its input receives the review event), Confirm shows it is busy
  assert.equal(flow.view().phase, 'review');
  assert.equal(flow.view().confirmBusy, true);
  assert.equal(flow.view().canConfirm, false);
  assert.deepEqual(wait.pending(), [NICKNAME_REVIEW_WAIT_MS]);
  flow.onNicknameReview({ pass: false, timeout: false });
  await done;
  assert.equal(sent().nickname, undefined);
});

test('a nickname WeChat passed is sent, also when the review answers after the tap', async () => {
  const a = await reviewing();
  a.flow.setNickname('  Ming ');
  a.flow.onNicknameReview({ pass: true, timeout: false });
  assert.equal(a.flow.view().profile.nicknameNote, '');
  await a.flow.confirm({ nickname: 'Ming' });
  assert.equal(a.sent().nickname, 'Ming');

  const b = await reviewing();
  b.flow.setNickname('小明');
  const done = b.flow.confirm({ nickname: '小明' });
  await h.turns();
  b.flow.onNicknameReview({ pass: true, timeout: false });
  await done;
  assert.equal(b.sent().nickname, '小明');
});

test('no review answer in time, or a review that timed out: not sent, and the page says so', async () => {
  const a = await reviewing();
  a.flow.setNickname('Ming');
  const done = a.flow.confirm({ nickname: 'Ming' });
  await h.turns();
  assert.equal(a.wait.release(), 1);
  await done;
  assert.equal(a.sent().nickname, undefined);

  const b = await reviewing({ language: 'zh_CN' });
  b.flow.setNickname('Ming');
  b.flow.onNicknameReview({ pass: true, timeout: true });
  assert.equal(b.flow.view().profile.nicknameNote, '微信未能及时审核该昵称，因此不会发送。你可以重新填写。');
  await b.flow.confirm({ nickname: '' });
  assert.equal(b.sent().nickname, undefined);
});

test('blur and change reporting the same value keep a passed review; a new value needs a new one', async () => {
  const { flow, wait, sent } = await reviewing();
  flow.setNickname('Ming');
  flow.onNicknameReview({ pass: true, timeout: false });
  flow.setNickname('Ming');
  assert.equal(flow.getState().profile.review, 'passed');
  flow.setNickname('Ming2');
  assert.equal(flow.getState().profile.review, 'pending');
  const done = flow.confirm({ nickname: 'Ming2' });
  await h.turns();
  wait.release();
  await done;
  assert.equal(sent().nickname, undefined);
});

test('a review event nobody waits for changes nothing', async () => {
  const { flow } = await reviewing();
  flow.onNicknameReview({ pass: false, timeout: false });
  assert.equal(flow.view().profile.nicknameNote, '');
});

test('before 2.29.1 (no review event) the nickname is the form value at the tap', async () => {
  const a = await reviewing({ sdkVersion: '2.25.0' });
  a.flow.setNickname('Typed');
  // WeChat's review emptied the field before the tap: the blurred value is not used
  await a.flow.confirm({ nickname: '' });
  assert.equal(a.sent().nickname, undefined);

  const b = await reviewing({ sdkVersion: '2.25.0' });
  b.flow.setNickname('Ming');
  await b.flow.confirm({ nickname: ' Ming ' });
  assert.equal(b.sent().nickname, 'Ming');
  // nothing waited for a review that this base library never sends
  assert.deepEqual(b.wait.pending(), []);
});
