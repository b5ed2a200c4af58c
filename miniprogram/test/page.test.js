'use strict';
// The page adapter and the shipped files: wiring only, the behaviour is in lib/.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers/fake-wx');
const { normalizeConfig } = require('../lib/config');

const ROOT = path.join(__dirname, '..');

function loadPage(wx) {
  let def = null;
  global.wx = wx;
  global.Page = (d) => {
    def = d;
  };
  const file = require.resolve('../pages/login/login.js');
  delete require.cache[file];
  require(file);
  delete global.Page;
  const page = Object.assign({}, def, {
    data: JSON.parse(JSON.stringify(def.data)),
    setData(d) {
      Object.assign(this.data, d);
    },
  });
  return { def: def, page: page };
}

// The fake wx answers on setImmediate; let the page run through a bounded number of event
// loop turns rather than a stretch of time (a loaded machine stretches time, not turns).
async function tick() {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

test('the shipped config.js is valid', () => {
  const r = normalizeConfig(require('../config'));
  assert.deepEqual(r.problems, []);
  assert.equal(r.config.allowInsecureHttp, false);
});

test('page adapter: onLoad -> review, handlers reach the flow, onUnload cancels', async () => {
  const wx = h.createFakeWx({
    language: 'en',
    launchScene: 1048,
    routes: { '/mp/v1/scan': [h.ok(h.scanBody({ phone: { requested: true, required: false } }))], '/mp/v1/confirm': [h.ok({ ticket: h.TICKET, status: 'confirmed' })] },
  });
  const { page } = loadPage(wx);
  page.onLoad({ scene: h.TICKET });
  assert.equal(page.data.view.phase, 'checking');
  await tick();
  assert.equal(page.data.view.phase, 'review');
  assert.equal(page.data.view.canConfirm, false);
  page.onAckChange({ detail: { value: ['own'] } });
  assert.equal(page.data.view.canConfirm, true);
  page.onAckChange({ detail: { value: [] } });
  assert.equal(page.data.view.canConfirm, false);
  page.onAckChange({ detail: { value: ['own'] } });
  page.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
  await tick();
  assert.equal(page.data.view.phone.status, 'declined');
  page.onNicknameInput({ detail: { value: 'Ming' } });
  page.onNicknameReview({ detail: { pass: true, timeout: false } });
  page.onConfirm({ detail: { value: { nickname: 'Ming' } } });
  await tick();
  assert.equal(page.data.view.phase, 'done');
  assert.equal(wx.requests[1].data.nickname, 'Ming');
  page.onUnload();
  await tick();
  assert.equal(wx.requests.length, 2);
});

test('page adapter: close and rescan buttons', async () => {
  const wx = h.createFakeWx({ language: 'en', launchScene: 1047 });
  const { page } = loadPage(wx);
  page.onLoad({});
  await tick();
  assert.equal(page.data.view.phase, 'idle');
  page.onRescan();
  await tick();
  assert.ok(wx.callNames().includes('scanCode'));
  page.onClose();
  await tick();
  assert.equal(wx.callNames().at(-1), 'exitMiniProgram');
});

test('every handler named in login.wxml exists on the page', () => {
  const { def } = loadPage(h.createFakeWx({}));
  const wxml = fs.readFileSync(path.join(ROOT, 'pages/login/login.wxml'), 'utf8');
  const names = [...wxml.matchAll(/\bbind\w+="(\w+)"/g)].map((m) => m[1]);
  assert.ok(names.length >= 8);
  for (const n of names) assert.equal(typeof def[n], 'function', n);
  // the components the issue requires
  assert.match(wxml, /open-type="getPhoneNumber"/);
  assert.match(wxml, /open-type="chooseAvatar"/);
  assert.match(wxml, /type="nickname"/);
});

test('app.json lists the login page, and every page has its four files', () => {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  assert.deepEqual(app.pages, ['pages/login/login']);
  for (const p of app.pages) {
    for (const ext of ['js', 'wxml', 'wxss', 'json']) assert.ok(fs.existsSync(path.join(ROOT, p + '.' + ext)), p + '.' + ext);
  }
  const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'));
  assert.equal(typeof project.appid, 'string');
  const ignored = project.packOptions.ignore.map((i) => i.value);
  assert.ok(ignored.includes('test'));
});

test('page adapter: a far computer, the "are you sure" screen and its button', async () => {
  const far = h.scanBody({
    proximity: { level: 'different_country', far: true, phone_location: null },
    risk: { warning: true, reason: 'far_away' },
  });
  const wx = h.createFakeWx({
    language: 'en',
    launchScene: 1011,
    routes: {
      '/mp/v1/scan': [h.ok(far)],
      '/mp/v1/confirm': [h.gwError(409, 'far_away_confirmation_required'), h.ok({ ticket: h.TICKET, status: 'confirmed' })],
    },
  });
  const { page } = loadPage(wx);
  page.onLoad({ scene: h.TICKET });
  await tick();
  assert.equal(page.data.view.far.show, true);
  page.onAckChange({ detail: { value: ['own'] } });
  page.onConfirm();
  await tick();
  assert.equal(page.data.view.phase, 'sure');
  assert.equal(page.data.view.sure.title, 'Are you sure?');
  page.onConfirmFarAway();
  await tick();
  assert.equal(page.data.view.phase, 'done');
  assert.equal(wx.requests[2].data.far_away_acknowledged, true);
});
