'use strict';
// Cross-device phishing: where the computer is, how near it is to the phone, the strong
// warning when it is far away, the second "I am sure" step and the refusal screen.
const test = require('node:test');
const assert = require('node:assert/strict');
const { createLoginFlow } = require('../lib/flow');
const g = require('../lib/gateway');
const h = require('./helpers/fake-wx');

const CONFIRMED = h.ok({ ticket: h.TICKET, status: 'confirmed' });
const CANCELLED = h.ok({ ticket: h.TICKET, status: 'cancelled' });

function location(en, zh, kind) {
  return {
    kind: kind || 'located',
    country_code: null,
    en: { text: en, country: null, region: null, city: null },
    zh: { text: zh, country: null, region: null, city: null },
  };
}

const BEIJING = location('Beijing, China', '中国 北京市');
const TOKYO = location('Tokyo, Japan', '日本 东京都');
const SHANGHAI = location('Shanghai, China', '中国 上海市');

function scanFrom(computer, phone, level, far, risk) {
  return h.scanBody({
    request: { ip: '133.11.0.1', place: computer.en.text, browser: 'Chrome 120 on Windows', time: '2026-11-25T10:00:00Z', location: computer },
    proximity: { level: level, far: far, phone_location: phone },
    risk: risk || (far ? { warning: true, reason: 'far_away' } : { warning: false, reason: null }),
  });
}

const FAR_SCAN = scanFrom(TOKYO, BEIJING, 'different_country', true);

// setup(routes, lang, {upload, config}): a flow over a fake wx launched by a camera scan.
function setup(routes, language, opts) {
  const o = opts || {};
  const wx = h.createFakeWx({ language: language || 'en', launchScene: 1011, routes: routes, upload: o.upload });
  const flow = createLoginFlow({ wx: wx, config: h.config(o.config), now: h.fixedNow, tzOffsetMinutes: 480 });
  return { wx: wx, flow: flow };
}

function row(view, key) {
  const found = view.rows.find((r) => r.key === key);
  return found ? found.value : undefined;
}

test('a computer in the same city: its place and how near it is, no warning', async () => {
  for (const [lang, place, near] of [['en', 'Beijing, China', 'Same city as you'], ['zh', '中国 北京市', '与你在同一城市']]) {
    const { flow } = setup({ '/mp/v1/scan': [h.ok(scanFrom(BEIJING, BEIJING, 'same_city', false))] }, lang);
    await flow.start(h.sceneQuery());
    const v = flow.view();
    assert.equal(row(v, 'place'), place);
    assert.equal(row(v, 'proximity'), near);
    assert.deepEqual(v.rows.map((r) => r.key), ['ip', 'place', 'proximity', 'browser', 'time']);
    assert.equal(v.far.show, false);
    assert.equal(v.warning.show, false);
    assert.equal(v.canConfirm, true);
  }
  // An older gateway without location or proximity: its place text, no proximity row.
  const { flow } = setup({ '/mp/v1/scan': [h.ok(h.scanBody())] });
  await flow.start(h.sceneQuery());
  assert.equal(row(flow.view(), 'place'), 'Shanghai, CN');
  assert.equal(row(flow.view(), 'proximity'), undefined);
});

test('a computer in another country: a strong warning naming both places, ticked before confirming', async () => {
  const { wx, flow } = setup({ '/mp/v1/scan': [h.ok(FAR_SCAN)], '/mp/v1/confirm': [CONFIRMED] });
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(row(v, 'proximity'), 'Another country');
  assert.equal(v.far.show, true);
  assert.equal(v.far.title, 'This computer is far away from you');
  assert.equal(
    v.far.text,
    'The computer asking to log in is in Tokyo, Japan, in another country. You are in Beijing, China. If you are not at that computer yourself, someone is trying to log in to Demo Shop as you: tap Cancel.',
  );
  // The far-away risk reason is not repeated as a vague "flagged as unusual".
  assert.deepEqual(v.warning.texts, []);
  assert.equal(v.warning.needAck, true);
  assert.equal(v.canConfirm, false);
  await flow.confirm();
  assert.equal(wx.requests.length, 1); // nothing sent before the tick
  flow.setAcknowledged(true);
  await flow.confirm();
  assert.equal(flow.view().phase, 'done');
  assert.equal(wx.requests[1].data.far_away_acknowledged, undefined);
});

test('a computer in another city, in Chinese', async () => {
  const { flow } = setup({ '/mp/v1/scan': [h.ok(scanFrom(SHANGHAI, BEIJING, 'same_country', true))] }, 'zh');
  await flow.start(h.sceneQuery());
  const v = flow.view();
  assert.equal(row(v, 'proximity'), '与你在同一国家的另一城市');
  assert.equal(
    v.far.text,
    '请求登录的电脑位于中国 上海市，在另一个城市，而你在中国 北京市。如果你本人不在那台电脑前，说明有人正试图以你的身份登录 Demo Shop：请点击“取消”。',
  );
});

test('confirm twice: the site asks again, the phone asks "are you sure", and says so the second time', async () => {
  const again = h.gwError(409, 'far_away_confirmation_required');
  const { wx, flow } = setup({ '/mp/v1/scan': [h.ok(FAR_SCAN)], '/mp/v1/confirm': [again, CONFIRMED] });
  await flow.start(h.sceneQuery());
  flow.setAcknowledged(true);
  await flow.confirm();
  const v = flow.view();
  assert.equal(v.phase, 'sure');
  assert.equal(v.error, null);
  assert.equal(v.sure.title, 'Are you sure?');
  assert.match(v.sure.text, /it is in Tokyo, Japan, and you are in Beijing, China/);
  assert.equal(v.labels.sureConfirm, 'I am sure, log in');
  assert.equal(wx.requests[1].data.far_away_acknowledged, undefined);

  await flow.confirmFarAway();
  assert.equal(flow.view().phase, 'done');
  assert.deepEqual(wx.requests[2].data, { ticket: h.TICKET, session: 'sess-opaque-1', far_away_acknowledged: true });
});

test('confirm twice: the phone code and the uploaded avatar go again with the second confirm, uploaded once', async () => {
  const again = h.gwError(409, 'far_away_confirmation_required');
  const scan = Object.assign({}, FAR_SCAN, { phone: { requested: true, required: true } });
  const avatar = 'data:image/png;base64,iVBORw0KGgo=';
  const { wx, flow } = setup({ '/mp/v1/scan': [h.ok(scan)], '/mp/v1/confirm': [again, CONFIRMED] }, 'en', {
    upload: [{ status: 200, data: JSON.stringify({ url: avatar }) }],
    config: { profile: { nickname: true, avatarUploadUrl: h.GATEWAY + '/mp/v1/avatar' } },
  });
  await flow.start(h.sceneQuery());
  flow.setAcknowledged(true);
  await flow.onPhoneNumber({ code: 'phone-code-1' });
  flow.onChooseAvatar({ avatarUrl: 'wxfile://tmp/a.png' });
  await flow.confirm();
  assert.equal(flow.view().phase, 'sure');
  await flow.confirmFarAway();
  assert.equal(flow.view().phase, 'done');
  assert.equal(wx.callNames().filter((n) => n === 'uploadFile').length, 1);
  for (const r of wx.requests.slice(1)) {
    assert.equal(r.data.phone_code, 'phone-code-1');
    assert.equal(r.data.avatar_url, avatar);
  }
});

test('confirm twice: Cancel on the "are you sure" screen cancels the login', async () => {
  const again = h.gwError(409, 'far_away_confirmation_required');
  const { wx, flow } = setup({ '/mp/v1/scan': [h.ok(FAR_SCAN)], '/mp/v1/confirm': [again], '/mp/v1/cancel': [CANCELLED] });
  await flow.start(h.sceneQuery());
  flow.setAcknowledged(true);
  await flow.confirm();
  await flow.cancel();
  assert.equal(flow.view().phase, 'cancelled');
  assert.deepEqual(wx.requests.map((r) => r.path), ['/mp/v1/scan', '/mp/v1/confirm', '/mp/v1/cancel']);
});

test('confirm twice: leaving the "are you sure" screen frees the computer', async () => {
  const again = h.gwError(409, 'far_away_confirmation_required');
  const { wx, flow } = setup({ '/mp/v1/scan': [h.ok(FAR_SCAN)], '/mp/v1/confirm': [again], '/mp/v1/cancel': [CANCELLED] });
  await flow.start(h.sceneQuery());
  flow.setAcknowledged(true);
  await flow.confirm();
  assert.equal(flow.view().phase, 'sure');
  await flow.close();
  assert.deepEqual(wx.requests.map((r) => r.path), ['/mp/v1/scan', '/mp/v1/confirm', '/mp/v1/cancel']);
});

const REFUSED = h.gwError(403, 'far_away_refused', {
  details: { proximity: 'different_country', location: TOKYO, phone_location: BEIJING },
});

test('refused at the scan: the phone says why and where the computer is, and offers no retry', async () => {
  for (const [lang, title, place] of [['en', 'Login not allowed', 'Tokyo, Japan'], ['zh', '不允许登录', '日本 东京都']]) {
    const { wx, flow } = setup({ '/mp/v1/scan': [REFUSED] }, lang);
    await flow.start(h.sceneQuery());
    const v = flow.view();
    assert.equal(v.phase, 'error');
    assert.equal(v.error.code, 'far_away_refused');
    assert.equal(v.error.title, title);
    assert.ok(v.error.message.includes(place), v.error.message);
    assert.deepEqual(v.error.actions, { rescan: true, retry: false, close: true, update: false });
    await flow.close();
    // The login is over on the server: nothing to cancel.
    assert.deepEqual(wx.requests.map((r) => r.path), ['/mp/v1/scan']);
  }
});

test('refused without a place: the message does without it', async () => {
  const { flow } = setup({ '/mp/v1/scan': [h.gwError(403, 'far_away_refused')] });
  await flow.start(h.sceneQuery());
  assert.equal(
    flow.view().error.message,
    'The computer asking to log in is far from where you are, so this login is not allowed, and the computer has been told. If you did not start this login, someone may have tried to log in as you; you do not need to do anything.',
  );
});

test('refused at confirm (the site tightened its policy): the same screen, nothing left to cancel', async () => {
  const { wx, flow } = setup({ '/mp/v1/scan': [h.ok(FAR_SCAN)], '/mp/v1/confirm': [REFUSED] });
  await flow.start(h.sceneQuery());
  flow.setAcknowledged(true);
  await flow.confirm();
  assert.equal(flow.view().error.code, 'far_away_refused');
  flow.abandon();
  assert.deepEqual(wx.requests.map((r) => r.path), ['/mp/v1/scan', '/mp/v1/confirm']);
});

test('the gateway keeps only known places and levels, and sends the acknowledgement only when given', async () => {
  const wx = h.createFakeWx({ routes: { '/mp/v1/scan': [h.ok(FAR_SCAN)], '/mp/v1/confirm': [CONFIRMED, CONFIRMED] } });
  const api = g.createGateway({ wx: wx, baseUrl: h.GATEWAY });
  const scan = await api.scan(h.TICKET, 'c', 1011);
  assert.deepEqual(scan.proximity, {
    level: 'different_country',
    far: true,
    phoneLocation: { kind: 'located', countryCode: null, en: BEIJING.en, zh: BEIJING.zh },
  });
  assert.equal(g.placeText(scan.request.location, 'zh'), '日本 东京都');
  assert.equal(g.placeText(g.normalizeLocation({ kind: 'moon', en: { text: 'X'.repeat(300) }, zh: 5 }), 'zh').length, 128);
  await api.confirm(h.TICKET, 's', { farAwayAcknowledged: true });
  await api.confirm(h.TICKET, 's', { farAwayAcknowledged: false });
  assert.equal(wx.requests[1].data.far_away_acknowledged, true);
  assert.equal('far_away_acknowledged' in wx.requests[2].data, false);
});
