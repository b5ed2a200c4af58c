// Thin adapter: all behaviour lives in lib/flow.js (unit-tested in Node).
const { createLoginFlow } = require('../../lib/flow');
const config = require('../../config');

// The app's update watcher (app.js), when there is an app around this page.
function appUpdates() {
  const app = typeof getApp === 'function' ? getApp() : null;
  return app && app.updates ? app.updates : null;
}

Page({
  data: {
    view: { phase: 'starting', busyText: '…', labels: {}, brand: {}, rows: [] },
  },

  onLoad(query) {
    const updates = appUpdates();
    this.flow = createLoginFlow({
      wx: wx,
      config: config,
      onChange: (view) => {
        this.setData({ view: view });
        // an update may restart the app only while no login is in progress
        if (updates) updates.setBusy(this.flow.inProgress());
      },
    });
    this.setData({ view: this.flow.view() });
    this.flow.start(query);
  },

  onUnload() {
    if (this.flow) this.flow.abandon();
  },

  onAckChange(e) {
    this.flow.setAcknowledged(e.detail.value.length > 0);
  },

  onGetPhoneNumber(e) {
    this.flow.onPhoneNumber(e.detail);
  },

  onChooseAvatar(e) {
    this.flow.onChooseAvatar(e.detail);
  },

  onNicknameInput(e) {
    this.flow.setNickname(e.detail.value);
  },

  onNicknameReview(e) {
    this.flow.onNicknameReview(e.detail);
  },

  // The confirm form's submit: its values carry the nickname field as WeChat left it.
  onConfirm(e) {
    this.flow.confirm((e && e.detail && e.detail.value) || {});
  },

  onConfirmFarAway() {
    this.flow.confirmFarAway();
  },

  onCancel() {
    this.flow.cancel();
  },

  onRescan() {
    this.flow.rescan();
  },

  onRetry() {
    this.flow.retry();
  },

  onClose() {
    this.flow.close();
  },

  onUpdateWeChat() {
    this.flow.updateWeChat();
  },
});
