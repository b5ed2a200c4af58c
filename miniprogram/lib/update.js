'use strict';
// A newer published version of the mini program, downloaded in the background.
//
// Applying it restarts the app, which would drop a login in the middle (the scan session,
// the phone code, the computer waiting).  So: never while a login is in progress, and even
// then only when the user says yes.  A "later" is not asked again in this run.
//
//   const updates = watchForUpdates({wx, lang});   // App.onLaunch
//   updates.setBusy(flow.inProgress());             // the page, on every change

const i18n = require('./i18n');

// watchForUpdates({wx, lang}) -> {setBusy(bool), state()}
function watchForUpdates(opts) {
  const wx = opts.wx;
  const lang = opts.lang || 'en';
  // Busy until the page reports otherwise: the app is opened to log in.
  let busy = true;
  let ready = false;
  let asked = false;
  let manager = null;

  function ask() {
    if (!ready || busy || asked || !manager) return;
    asked = true;
    if (typeof wx.showModal !== 'function') return;
    try {
      wx.showModal({
        title: i18n.t(lang, 'updateTitle'),
        content: i18n.t(lang, 'updateText'),
        confirmText: i18n.t(lang, 'updateNow'),
        cancelText: i18n.t(lang, 'updateLater'),
        success: function (res) {
          // the answer may come after a new login started: then it waits for the next pause
          if (res && res.confirm) {
            if (busy) asked = false;
            else manager.applyUpdate();
          }
        },
      });
    } catch (e) {
      // no dialog, no restart
    }
  }

  if (wx && typeof wx.getUpdateManager === 'function') {
    try {
      manager = wx.getUpdateManager();
      manager.onUpdateReady(function () {
        ready = true;
        ask();
      });
    } catch (e) {
      manager = null;
    }
  }

  return {
    setBusy: function (value) {
      busy = value === true;
      ask();
    },
    state: function () {
      return { busy: busy, ready: ready, asked: asked };
    },
  };
}

module.exports = {
  watchForUpdates: watchForUpdates,
};
