// Thin adapter: all behaviour lives in lib/flow.js (unit-tested in Node).
const { createLoginFlow } = require('../../lib/flow');
const config = require('../../config');

Page({
  data: {
    view: { phase: 'starting', busyText: '…', labels: {}, brand: {}, rows: [] },
  },

  onLoad(query) {
    this.flow = createLoginFlow({
      wx: wx,
      config: config,
      onChange: (view) => this.setData({ view: view }),
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

  onConfirm() {
    this.flow.confirm();
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
});
