'use strict';
// Which WeChat base library the phone runs, and what that allows.
//
// 2.21.2 is the floor: <button open-type="chooseAvatar">, <input type="nickname"> and a
// getPhoneNumber event that carries a one-time `code` all need it.  Below it the phone
// button hands back encrypted data without a code, which the gateway cannot use, so the
// page says WeChat needs an update instead of treating the phone step as refused.
// 2.29.1 adds the nickname input's review event (bindnicknamereview); before it the
// nickname is taken from the form submit.

const MIN_BASE_LIBRARY = '2.21.2';
const NICKNAME_REVIEW = '2.29.1';

// compareVersion('2.21.2', '2.9.10') -> 1; -1, 0 or 1; a missing part counts as 0.
function compareVersion(a, b) {
  const x = String(a).split('.');
  const y = String(b).split('.');
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = parseInt(x[i] || '0', 10) || 0;
    const q = parseInt(y[i] || '0', 10) || 0;
    if (p !== q) return p > q ? 1 : -1;
  }
  return 0;
}

// The running base library, e.g. '3.3.4'; null when WeChat does not say.
// wx.getAppBaseInfo (2.20.1+) first, else the older wx.getSystemInfoSync.
function readVersion(wx) {
  const sources = ['getAppBaseInfo', 'getSystemInfoSync'];
  for (let i = 0; i < sources.length; i++) {
    const fn = wx && wx[sources[i]];
    if (typeof fn !== 'function') continue;
    try {
      const info = fn.call(wx);
      const v = info && info.SDKVersion;
      if (typeof v === 'string' && /^\d+(\.\d+){0,3}$/.test(v)) return v;
    } catch (e) {
      // try the next source
    }
  }
  return null;
}

// capabilities(wx) -> {version, tooOld, nicknameReview}
// An unknown version is not called too old (the phone button's own answer still tells),
// but it does not get the review event either: the nickname then comes from the form.
function capabilities(wx) {
  const version = readVersion(wx);
  return {
    version: version,
    tooOld: version !== null && compareVersion(version, MIN_BASE_LIBRARY) < 0,
    nicknameReview: version !== null && compareVersion(version, NICKNAME_REVIEW) >= 0,
  };
}

module.exports = {
  MIN_BASE_LIBRARY: MIN_BASE_LIBRARY,
  NICKNAME_REVIEW: NICKNAME_REVIEW,
  compareVersion: compareVersion,
  readVersion: readVersion,
  capabilities: capabilities,
};
