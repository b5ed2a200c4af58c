'use strict';
// Close exits inside the tap while the cancel runs; an app update never restarts a login.
const test = require('node:test');
const assert = require('node:assert/strict');
const { createLoginFlow } = require('../lib/flow');
const { watchForUpdates } = require('../lib/update');
const h = require('./helpers/fake-wx');

async function afterFailedConfirm(wxOpts) {
  const wx = h.createFakeWx(
    Object.assign(
      {
        language: 'en',
        launchScene: 1047,
        routes: {
          '/mp/v1/scan': [h.ok(h.scanBody())],
          '/mp/v1/confirm': [{ fail: 'request:fail timeout' }],
          '/mp/v1/cancel': [h.ok({ ticket: h.TICKET, status: 'cancelled' })],
        },
      },
      wxOpts || {},
    ),
  );
  const flow = createLoginFlow({ wx: wx, config: h.config(), now: h.fixedNow, wait: h.manualWait() });
  await flow.start(h.sceneQuery());
  await flow.confirm();
  assert.equal(flow.view().error.code, 'timeout');
  return { wx: wx, flow: flow };
}

test('Close after a failed confirm: busy at once, exit inside the tap, the cancel still sent', async () => {
  const { wx, flow } = await afterFailedConfirm();
  const closing = flow.close();
  // all of this happened synchronously, inside the tap, before any answer
  assert.deepEqual(wx.callNames().slice(-2), ['request', 'exitMiniProgram']);
  assert.equal(wx.requests.at(-1).path, '/mp/v1/cancel');
  assert.deepEqual(wx.requests.at(-1).data, { ticket: h.TICKET, session: 'sess-opaque-1' });
  assert.equal(flow.view().phase, 'closing');
  assert.equal(flow.view().busyText, 'Closing…');
  assert.equal(flow.view().error, null);
  await closing;
  // leaving the page afterwards does not cancel twice
  flow.abandon();
  await h.turns();
  assert.equal(wx.requests.filter((r) => r.path === '/mp/v1/cancel').length, 1);
});

test('WeChat refusing to exit: once the cancel is done the page says how to leave', async () => {
  const { wx, flow } = await afterFailedConfirm({ exitFails: 'exitMiniProgram:fail can only be invoked by user TAP gesture' });
  const closing = flow.close();
  assert.equal(flow.view().phase, 'closing');
  await closing;
  await h.turns();
  const v = flow.view();
  assert.equal(v.phase, 'closed');
  assert.equal(v.message.title, 'You can close this page');
  assert.equal(v.busyText, '');
  assert.equal(wx.requests.filter((r) => r.path === '/mp/v1/cancel').length, 1);
});

function fakeUpdater() {
  const u = { ready: null, applied: 0 };
  u.manager = {
    onUpdateReady: (fn) => {
      u.ready = fn;
    },
    applyUpdate: () => {
      u.applied++;
    },
  };
  return u;
}

function updateWx(answer) {
  const u = fakeUpdater();
  const modals = [];
  const wx = {
    getUpdateManager: () => u.manager,
    showModal: (args) => {
      modals.push(args);
      if (answer !== undefined) args.success(answer);
    },
  };
  return { wx: wx, u: u, modals: modals };
}

test('an update that is ready mid-login waits; it is offered after the login and applied on yes', () => {
  const { wx, u, modals } = updateWx({ confirm: true, cancel: false });
  const updates = watchForUpdates({ wx: wx, lang: 'en' });
  updates.setBusy(true);
  u.ready();
  assert.equal(modals.length, 0);
  assert.equal(u.applied, 0);
  updates.setBusy(true);
  assert.equal(modals.length, 0);
  updates.setBusy(false);
  assert.equal(modals.length, 1);
  assert.equal(modals[0].title, 'New version ready');
  assert.equal(u.applied, 1);
});

test('the update is not applied when the user says later, and not asked again', () => {
  const { wx, u, modals } = updateWx({ confirm: false, cancel: true });
  const updates = watchForUpdates({ wx: wx, lang: 'zh' });
  updates.setBusy(false);
  u.ready();
  assert.equal(modals.length, 1);
  assert.equal(modals[0].confirmText, '重启');
  updates.setBusy(true);
  updates.setBusy(false);
  assert.equal(modals.length, 1);
  assert.equal(u.applied, 0);
});

test('before the page reports, the app counts as mid-login', () => {
  const { wx, u, modals } = updateWx({ confirm: true });
  watchForUpdates({ wx: wx, lang: 'en' });
  u.ready();
  assert.equal(modals.length, 0);
  assert.equal(u.applied, 0);
});

test('a yes that arrives after a new login started waits for the next pause', () => {
  const { wx, u, modals } = updateWx();
  const updates = watchForUpdates({ wx: wx, lang: 'en' });
  updates.setBusy(false);
  u.ready();
  assert.equal(modals.length, 1);
  updates.setBusy(true);
  modals[0].success({ confirm: true });
  assert.equal(u.applied, 0);
  updates.setBusy(false);
  assert.equal(modals.length, 2);
});

test('app.js wires the watcher and the page reports whether a login is in progress', async () => {
  const { wx, u, modals } = updateWx({ confirm: true });
  const fake = h.createFakeWx({
    language: 'en',
    launchScene: 1047,
    routes: { '/mp/v1/scan': [h.ok(h.scanBody())], '/mp/v1/cancel': [h.ok({ ticket: h.TICKET, status: 'cancelled' })] },
  });
  Object.assign(fake, wx);
  let appDef = null;
  global.wx = fake;
  global.App = (d) => {
    appDef = d;
  };
  require('../app.js');
  delete global.App;
  appDef.onLaunch();
  let pageDef = null;
  global.getApp = () => appDef;
  global.Page = (d) => {
    pageDef = d;
  };
  const file = require.resolve('../pages/login/login.js');
  delete require.cache[file];
  require(file);
  delete global.Page;
  const page = Object.assign({}, pageDef, {
    data: {},
    setData(d) {
      Object.assign(this.data, d);
    },
  });
  page.onLoad({ scene: h.TICKET });
  await h.turns();
  assert.equal(page.data.view.phase, 'review');
  u.ready();
  // on the review screen a login is in progress: no dialog, no restart
  assert.equal(modals.length, 0);
  assert.equal(u.applied, 0);
  page.onCancel();
  await h.turns();
  assert.equal(page.data.view.phase, 'cancelled');
  // the login is over: now the user is asked, and says yes
  assert.equal(modals.length, 1);
  assert.equal(u.applied, 1);
  delete global.getApp;
});
