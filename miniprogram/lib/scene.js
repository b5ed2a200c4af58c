'use strict';
// Launch scene values: how the user got to the login page.
//
// A login QR is meant to be scanned with the camera from the computer's screen.
// Long-pressing a QR inside a chat or opening one from the album means the
// image was sent to the user, which is what a QR-login phishing attack
// (QRLJacking) looks like: someone shows you *their* login QR and hopes you
// confirm it.  Those launches get a warning and an extra confirmation step.
// (Scene list: developers.weixin.qq.com/miniprogram/dev/reference/scene-list.html)

const SCENES = {
  1047: { source: 'camera', qr: 'wxacode' }, // scanned mini program code
  1048: { source: 'image', qr: 'wxacode' }, // long-pressed mini program code image
  1049: { source: 'album', qr: 'wxacode' }, // mini program code picked from album
  1011: { source: 'camera', qr: 'url' }, // scanned ordinary QR
  1012: { source: 'image', qr: 'url' }, // long-pressed ordinary QR image
  1013: { source: 'album', qr: 'url' }, // ordinary QR picked from album
};

// Scene used after our own wx.scanCode({onlyFromCamera: true}) rescan.
const RESCAN_SCENE = { wxacode: 1047, url: 1011 };

function toSceneNumber(value) {
  if (typeof value === 'number' && isFinite(value)) return Math.floor(value);
  if (typeof value === 'string' && /^[0-9]{1,6}$/.test(value)) return parseInt(value, 10);
  return null;
}

function classifyScene(value) {
  const scene = toSceneNumber(value);
  const known = scene !== null && Object.prototype.hasOwnProperty.call(SCENES, scene) ? SCENES[scene] : null;
  if (!known) return { scene: scene, source: 'unknown', qr: null, risky: true };
  return { scene: scene, source: known.source, qr: known.qr, risky: known.source !== 'camera' };
}

// The scene of the entry that opened the page.  getEnterOptionsSync reflects
// the latest entry (also after a warm start); getLaunchOptionsSync only the cold
// start.  Either may be missing on old base libraries or throw in odd hosts.
function readLaunchScene(wx) {
  const getters = ['getEnterOptionsSync', 'getLaunchOptionsSync'];
  for (let i = 0; i < getters.length; i++) {
    const fn = wx && wx[getters[i]];
    if (typeof fn !== 'function') continue;
    try {
      const opts = fn.call(wx);
      const scene = opts ? toSceneNumber(opts.scene) : null;
      if (scene !== null) return scene;
    } catch (e) {
      // try the next source
    }
  }
  return null;
}

module.exports = {
  SCENES: SCENES,
  RESCAN_SCENE: RESCAN_SCENE,
  classifyScene: classifyScene,
  readLaunchScene: readLaunchScene,
};
