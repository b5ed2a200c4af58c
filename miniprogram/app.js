// MiniLogin: the whole mini program is the login page; see pages/login.
App({
  onLaunch() {
    // Check for a newer published version so operators' fixes reach phones fast.
    if (typeof wx.getUpdateManager !== 'function') return;
    const updater = wx.getUpdateManager();
    updater.onUpdateReady(function () {
      updater.applyUpdate();
    });
  },
});
