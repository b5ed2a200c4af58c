'use strict';
// The login page's behaviour, independent of the page object.
//
//   const flow = createLoginFlow({wx, config, now, onChange});
//   flow.start(query);            // Page.onLoad(query)
//   flow.setAcknowledged(true);   // the "my own computer" checkbox
//   flow.onPhoneNumber(e.detail); // <button open-type="getPhoneNumber">
//   flow.onChooseAvatar(e.detail) / flow.setNickname(value) / flow.onNicknameReview(e.detail)
//   flow.confirm(form) / flow.cancel() / flow.rescan() / flow.retry() / flow.close()
//   flow.confirmFarAway();        // "I am sure" on the second confirmation
//   flow.updateWeChat();          // "Update WeChat" when the base library is too old
//   flow.abandon();               // Page.onUnload
//   flow.inProgress();            // a login is under way (do not restart the app now)
//
// Phases: starting -> idle (opened without a login code)
//         starting -> checking -> review -> confirming [-> finishing] -> done
//                                    -> cancelling -> cancelled
//         confirming -> sure -> confirming -> done   (the computer is far away and the
//                                                     site wants a second confirmation)
//                       sure -> cancelling -> cancelled
//         any step can end in `error`, which names its ways out;
//         close(): closing (busy while WeChat closes the app) [-> closed, if it cannot]
// `done` carries the account service's decision when the gateway passes it on
// (succeeded, binding_required, failed with a reason); without it the page says the
// login was confirmed and the computer shows the result, never that it succeeded.
// Every state change calls onChange(view), `view` being plain data for setData.
// All methods return promises that never reject.

const ticketLib = require('./ticket');
const sceneLib = require('./scene');
const gatewayLib = require('./gateway');
const i18n = require('./i18n');
const errors = require('./errors');
const configLib = require('./config');
const format = require('./format');
const baselib = require('./baselib');

const PHONE_QUOTA_ERRNO = 1400001;
const NICKNAME_MAX = 32;
// How long Confirm waits for WeChat's review of a nickname typed just before the tap.
const NICKNAME_REVIEW_WAIT_MS = 3000;
// A confirm answered with outcome "pending" is followed up this often, this far apart.
const STATUS_POLLS = 5;
const STATUS_WAIT_MS = 1000;
// Nickname review states whose value may be sent: WeChat passed it, or (base library
// before 2.29.1, no review event) it is what the form held when Confirm was tapped.
const NICKNAME_SENDABLE = { passed: true, submitted: true };

// After these errors the scan session is gone; nothing is left to cancel.
const SESSION_DEAD = {
  ticket_not_found: true,
  ticket_expired: true,
  ticket_already_scanned: true,
  ticket_cancelled: true,
  illegal_transition: true,
  not_scanner: true,
  invalid_session: true,
  wechat_code_blocked: true,
  far_away_refused: true,
};

// The site wants a second, explicit confirmation: the computer is far from the phone.
const FAR_AWAY_AGAIN = 'far_away_confirmation_required';
// The server's risk reason for a far computer; the page shows its own, stronger warning.
const FAR_AWAY_REASON = 'far_away';

// Confirm errors after which the user must tap the phone button again
// (confirm carries no wx.login code, so an invalid code is the phone code).
const PHONE_AGAIN = { wechat_invalid_code: true, phone_required: true };

// Server risk reasons that repeat what the launch scene already told us.
// What scan-gateway accepts as avatar_url: its own upload's PNG data URL (a 96 px PNG is
// up to about 37,000 base64 characters) or a picture on WeChat's avatar hosts.
const AVATAR_URL = /^(data:image\/png;base64,[A-Za-z0-9+\/=]{1,65000}|https:\/\/(thirdwx|wx)\.qlogo\.cn\/[^\s#]{1,2000})$/;

const SCENE_REASONS = { long_press_image: true, album_image: true, unknown_scene: true };

function noop() {}

// Phase -> the text under the spinner.
const BUSY_TEXT = {
  starting: 'loading',
  checking: 'checking',
  confirming: 'confirming',
  finishing: 'finishing',
  cancelling: 'cancelling',
  closing: 'closing',
};
// Nickname review state -> the note under the field.
const NICKNAME_NOTE = { refused: 'nicknameRefused', timeout: 'nicknameUnchecked' };
// Refusal reasons the phone explains in its own words; others get a generic text.
const FAILED_REASONS = { login_only: true, user_disabled: true, wechat_refused: true, internal_error: true };

function defaultWait(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

function cleanNickname(value) {
  const v = typeof value === 'string' ? value.replace(/[\u0000-\u001f\u007f]/g, '').trim() : '';
  return Array.from(v).slice(0, NICKNAME_MAX).join('');
}

function callWx(wx, name, args) {
  if (wx && typeof wx[name] === 'function') {
    try {
      return wx[name](args);
    } catch (e) {
      return undefined;
    }
  }
  return undefined;
}

// wx.login as a promise resolving to the code.
function wxLogin(wx, timeout) {
  return new Promise(function (resolve, reject) {
    try {
      wx.login({
        timeout: timeout,
        success: function (res) {
          if (res && typeof res.code === 'string' && res.code !== '') resolve(res.code);
          else reject(new Error('wx.login returned no code'));
        },
        fail: function (err) {
          reject(new Error((err && err.errMsg) || 'wx.login failed'));
        },
      });
    } catch (e) {
      reject(e);
    }
  });
}

function wxScanCode(wx) {
  return new Promise(function (resolve) {
    try {
      wx.scanCode({
        onlyFromCamera: true,
        scanType: ['wxCode', 'qrCode'],
        success: function (res) {
          resolve({ ok: true, res: res });
        },
        fail: function (err) {
          resolve({ ok: false, errMsg: (err && err.errMsg) || '' });
        },
      });
    } catch (e) {
      resolve({ ok: false, errMsg: String(e && e.message) });
    }
  });
}

function wxUploadFile(wx, opts) {
  return new Promise(function (resolve) {
    try {
      wx.uploadFile({
        url: opts.url,
        filePath: opts.filePath,
        name: 'avatar',
        formData: opts.formData,
        timeout: opts.timeout,
        success: function (res) {
          let body = null;
          try {
            body = typeof res.data === 'string' ? JSON.parse(res.data) : res.data;
          } catch (e) {
            body = null;
          }
          const ok = res && res.statusCode >= 200 && res.statusCode < 300;
          const url = ok && body && typeof body.url === 'string' && AVATAR_URL.test(body.url) ? body.url : null;
          resolve(url);
        },
        fail: function () {
          resolve(null);
        },
      });
    } catch (e) {
      resolve(null);
    }
  });
}

function createLoginFlow(opts) {
  const o = opts || {};
  const wx = o.wx;
  const now = typeof o.now === 'function' ? o.now : Date.now;
  const onChange = typeof o.onChange === 'function' ? o.onChange : noop;
  const tzOffsetMinutes = typeof o.tzOffsetMinutes === 'number' ? o.tzOffsetMinutes : undefined;
  // wait(ms) -> promise: the pauses for a nickname review and an outcome follow-up.
  const wait = typeof o.wait === 'function' ? o.wait : defaultWait;
  const caps = baselib.capabilities(wx);
  const normalized = configLib.normalizeConfig(o.config);
  const cfg = normalized.config;
  const lang = pickLang();
  const gateway = o.gateway || gatewayLib.createGateway({
    wx: wx,
    baseUrl: cfg.gatewayBaseUrl,
    timeoutMs: cfg.requestTimeoutMs,
    lang: lang,
    allowInsecureHttp: cfg.allowInsecureHttp,
  });
  const parseOptions = { prefixes: cfg.qrUrlPrefixes, allowHttp: cfg.allowInsecureHttp };

  const state = {
    phase: 'starting',
    ticket: null,
    kind: null,
    scancodeTime: null,
    parseReason: null,
    launch: sceneLib.classifyScene(null),
    scan: null,
    sessionLive: false,
    ack: false,
    phone: { code: null, status: 'none', errMsg: null },
    // review: none | pending | passed | refused | timeout | unreviewed | submitted
    profile: { nickname: '', review: 'none', avatarPath: '', uploaded: null },
    // the account service's decision, once confirmed: {outcome, reason}
    outcome: null,
    // Confirm was tapped and waits for WeChat's nickname review: the review screen (and
    // its nickname input, which receives the review event) stays, Confirm shows it is busy.
    settling: false,
    error: null,
  };
  // Resolved when WeChat's nickname review answers.
  let reviewWaiters = [];
  // Bumped whenever a new attempt starts; answers for older attempts are dropped.
  let generation = 0;

  function pickLang() {
    return i18n.pickLanguage(wx, cfg);
  }

  function tr(key, params) {
    return i18n.t(lang, key, params);
  }

  function emit() {
    try {
      onChange(view());
    } catch (e) {
      // a failing page callback must not break the flow
    }
  }

  function siteName() {
    return state.scan ? state.scan.site.name : '';
  }

  function setError(code, step, err) {
    const e = err || {};
    state.phase = 'error';
    state.error = {
      code: code,
      step: step,
      retryAfter: typeof e.retryAfter === 'number' ? e.retryAfter : null,
      requestId: typeof e.requestId === 'string' ? e.requestId : null,
      // Where the computer is, when the server says (a refused far-away login).
      place: e.details ? gatewayLib.placeText(gatewayLib.normalizeLocation(e.details.location), lang) : null,
    };
    if (SESSION_DEAD[code]) state.sessionLive = false;
    emit();
  }

  function farAway() {
    return !!(state.scan && state.scan.proximity.far);
  }

  function needsAck() {
    return state.launch.risky || !!(state.scan && state.scan.risk.warning) || farAway();
  }

  function phoneBlocks() {
    return !!(state.scan && state.scan.phone.required && !state.phone.code);
  }

  function canConfirm() {
    return state.phase === 'review' && !state.settling && (!needsAck() || state.ack) && !phoneBlocks();
  }

  // Best-effort cancel of a scanned ticket we are walking away from.
  function releaseSession() {
    if (!state.sessionLive || !state.scan) return Promise.resolve();
    state.sessionLive = false;
    return gateway.cancel(state.scan.ticket, state.scan.session).then(noop, noop);
  }

  function resetForTicket(parsed, launch) {
    state.ticket = parsed.ticket;
    state.kind = parsed.kind;
    state.scancodeTime = parsed.scancodeTime === undefined ? null : parsed.scancodeTime;
    state.parseReason = null;
    state.launch = launch;
    state.scan = null;
    state.sessionLive = false;
    state.ack = false;
    state.phone = { code: null, status: 'none', errMsg: null };
    state.profile = { nickname: '', review: 'none', avatarPath: '', uploaded: null };
    state.outcome = null;
    state.error = null;
  }

  async function doScan() {
    const gen = ++generation;
    state.phase = 'checking';
    state.error = null;
    emit();
    let code;
    try {
      code = await wxLogin(wx, cfg.requestTimeoutMs);
    } catch (e) {
      if (gen === generation) setError('wx_login_failed', 'scan');
      return;
    }
    if (gen !== generation) return;
    let scan;
    try {
      scan = await gateway.scan(state.ticket, code, state.launch.scene);
    } catch (e) {
      if (gen === generation) setError((e && e.code) || 'unknown', 'scan', e);
      return;
    }
    if (gen !== generation) {
      // Superseded while waiting: do not leave that scan hanging on the PC.
      gateway.cancel(scan.ticket, scan.session).then(noop, noop);
      return;
    }
    state.scan = scan;
    state.sessionLive = true;
    state.phase = 'review';
    emit();
  }

  async function start(query) {
    callWx(wx, 'hideShareMenu', { menus: ['shareAppMessage', 'shareTimeline'] });
    callWx(wx, 'setNavigationBarTitle', { title: tr('title') });
    state.launch = sceneLib.classifyScene(sceneLib.readLaunchScene(wx));
    if (normalized.problems.length) {
      setError('config_error', 'start');
      return;
    }
    if (caps.tooOld) {
      // The phone button, avatar and nickname would not work: say so before scanning.
      setError('wechat_update_required', 'start');
      return;
    }
    const parsed = ticketLib.parseLaunchQuery(query, parseOptions);
    if (!parsed.ok) {
      state.parseReason = parsed.reason;
      if (parsed.kind === 'unknown' && parsed.reason === 'missing') {
        state.phase = 'idle';
        emit();
      } else {
        setError('invalid_qr', 'start');
      }
      return;
    }
    resetForTicket(parsed, state.launch);
    await doScan();
  }

  function setAcknowledged(value) {
    state.ack = value === true;
    emit();
  }

  async function onPhoneNumber(detail) {
    if (state.phase !== 'review' || !state.scan || !state.scan.phone.requested) return;
    const d = detail || {};
    if (typeof d.code === 'string' && d.code !== '') {
      state.phone = { code: d.code, status: 'granted', errMsg: null };
      emit();
      return;
    }
    const errMsg = typeof d.errMsg === 'string' ? d.errMsg : '';
    if (typeof d.encryptedData === 'string' || /:ok$/.test(errMsg)) {
      // Granted, but the way base libraries before 2.21.2 grant it: encrypted data and no
      // code.  The user said yes; WeChat is what needs an update.
      state.phone = { code: null, status: 'outdated', errMsg: errMsg };
      if (state.scan.phone.required) {
        await releaseSession();
        setError('wechat_update_required', 'phone');
        return;
      }
      emit();
      return;
    }
    if (d.errno === PHONE_QUOTA_ERRNO) {
      state.phone = { code: null, status: 'quota', errMsg: errMsg };
      if (state.scan.phone.required) {
        // Nothing the user can do today: tell them, and free the PC.
        await releaseSession();
        setError('phone_unavailable', 'phone');
        return;
      }
      emit();
      return;
    }
    // The user refused ("...:fail user deny"), or another failure without a code.
    state.phone = { code: null, status: 'declined', errMsg: errMsg };
    emit();
  }

  // A new value from the nickname input (blur / change).  WeChat reviews it after blur
  // and may empty the field, so it is not sendable until the review passes (base library
  // 2.29.1+), or, before that, until the form is submitted with it.
  function setNickname(value) {
    if (!cfg.profile.nickname) return;
    const v = cleanNickname(value);
    // blur and change both report the same value; a review already given stands
    if (v === state.profile.nickname) return;
    state.profile.nickname = v;
    state.profile.review = v === '' ? 'none' : caps.nicknameReview ? 'pending' : 'unreviewed';
    emit();
  }

  // bindnicknamereview: {pass, timeout}.  Only a pass without timeout lets it be sent.
  function onNicknameReview(detail) {
    if (!cfg.profile.nickname || state.profile.review !== 'pending') return;
    const d = detail || {};
    if (d.pass === true && d.timeout !== true) {
      state.profile.review = 'passed';
    } else {
      state.profile.nickname = '';
      state.profile.review = d.timeout === true ? 'timeout' : 'refused';
    }
    const waiters = reviewWaiters;
    reviewWaiters = [];
    waiters.forEach(function (w) {
      w();
    });
    emit();
  }

  // The nickname field's value when Confirm was tapped (the form submit).
  function takeSubmittedNickname(value) {
    if (!cfg.profile.nickname || typeof value !== 'string') return;
    const v = cleanNickname(value);
    if (caps.nicknameReview) {
      setNickname(v);
      return;
    }
    // No review event on this base library: the submitted value is what WeChat left in
    // the field, the only one that may be sent.
    state.profile.nickname = v;
    state.profile.review = v === '' ? 'none' : 'submitted';
  }

  // Confirm tapped right after typing: give WeChat's review a moment to answer.
  async function settleNickname() {
    if (state.profile.review !== 'pending') return;
    await new Promise(function (resolve) {
      reviewWaiters.push(resolve);
      wait(NICKNAME_REVIEW_WAIT_MS).then(resolve, resolve);
    });
    if (state.profile.review === 'pending') {
      // No answer in time: the nickname is not sent.
      state.profile.nickname = '';
      state.profile.review = 'timeout';
    }
  }

  function onChooseAvatar(detail) {
    if (!cfg.profile.avatarUploadUrl) return;
    const path = detail && typeof detail.avatarUrl === 'string' ? detail.avatarUrl : '';
    state.profile.avatarPath = path;
    emit();
  }

  // The chosen avatar is a local temporary file; only an uploaded URL is sent (uploaded
  // once, even when the site asks for a second confirmation).
  async function avatarUrl(scan) {
    const path = state.profile.avatarPath;
    if (!cfg.profile.avatarUploadUrl || !path) return null;
    if (state.profile.uploaded && state.profile.uploaded.path === path) return state.profile.uploaded.url;
    const url = await wxUploadFile(wx, {
      url: cfg.profile.avatarUploadUrl,
      filePath: path,
      formData: { ticket: scan.ticket, session: scan.session },
      timeout: cfg.requestTimeoutMs,
    });
    if (url) state.profile.uploaded = { path: path, url: url };
    return url;
  }

  // form: the confirm form's values ({nickname}), when the tap came from the page.
  async function confirm(form) {
    if (form && typeof form === 'object') takeSubmittedNickname(form.nickname);
    if (!canConfirm()) return;
    await sendConfirm(false);
  }

  // "I am sure": the second, explicit confirmation for a computer far away.
  async function confirmFarAway() {
    if (state.phase !== 'sure' || !state.scan) return;
    await sendConfirm(true);
  }

  async function sendConfirm(farAwaySure) {
    const gen = ++generation;
    if (state.profile.review === 'pending') {
      state.settling = true;
      emit();
      await settleNickname();
      state.settling = false;
      if (gen !== generation) return;
    }
    state.phase = 'confirming';
    emit();
    const scan = state.scan;
    const extra = { phoneCode: state.phone.code };
    if (cfg.profile.nickname && state.profile.nickname && NICKNAME_SENDABLE[state.profile.review]) {
      extra.nickname = state.profile.nickname;
    }
    const url = await avatarUrl(scan);
    if (gen !== generation) return;
    if (url) extra.avatarUrl = url;
    if (farAwaySure) extra.farAwayAcknowledged = true;
    let answer;
    try {
      answer = await gateway.confirm(scan.ticket, scan.session, extra);
    } catch (e) {
      if (gen !== generation) return;
      const code = (e && e.code) || 'unknown';
      if (code === FAR_AWAY_AGAIN && !farAwaySure) {
        // Nothing happened yet (the phone code is not spent): ask the second time.
        state.phase = 'sure';
        emit();
        return;
      }
      if (PHONE_AGAIN[code]) {
        // The phone code was refused (expired, used) or missing: ask for it again.
        state.phone = { code: null, status: 'none', errMsg: null };
      }
      setError(code, farAwaySure ? 'sure' : 'confirm', e);
      return;
    }
    if (gen !== generation) return;
    state.sessionLive = false;
    let result = answer && typeof answer === 'object' ? answer : { outcome: null, reason: null };
    if (result.outcome === 'pending') {
      state.phase = 'finishing';
      emit();
      result = await followOutcome(scan, gen);
      if (gen !== generation) return;
    }
    state.outcome = { outcome: result.outcome || null, reason: result.reason || null };
    state.phase = 'done';
    emit();
  }

  // The gateway said "pending": ask /status a few times.  Any failure, or no decision in
  // time, ends as "not said" (the computer shows the result); never as success.
  async function followOutcome(scan, gen) {
    if (typeof gateway.status !== 'function') return { outcome: null, reason: null };
    for (let i = 0; i < STATUS_POLLS; i++) {
      await wait(STATUS_WAIT_MS);
      if (gen !== generation) return { outcome: null, reason: null };
      let r;
      try {
        r = await gateway.status(scan.ticket, scan.session);
      } catch (e) {
        return { outcome: null, reason: null };
      }
      if (!r || r.outcome !== 'pending') return r || { outcome: null, reason: null };
    }
    return { outcome: null, reason: null };
  }

  async function cancel() {
    const from = state.phase === 'review' || state.phase === 'sure';
    if (!from && !(state.phase === 'error' && state.error.step === 'cancel')) return;
    if (!state.scan) return;
    const gen = ++generation;
    state.phase = 'cancelling';
    emit();
    try {
      await gateway.cancel(state.scan.ticket, state.scan.session);
    } catch (e) {
      if (gen !== generation) return;
      const code = (e && e.code) || 'unknown';
      // Gone anyway: nobody can be logged in with it.
      if (code === 'ticket_expired' || code === 'ticket_cancelled' || code === 'ticket_not_found') {
        state.sessionLive = false;
        state.phase = 'cancelled';
        emit();
        return;
      }
      setError(code, 'cancel', e);
      return;
    }
    if (gen !== generation) return;
    state.sessionLive = false;
    state.phase = 'cancelled';
    emit();
  }

  async function rescan() {
    if (state.phase === 'checking' || state.phase === 'confirming' || state.phase === 'cancelling') return;
    const r = await wxScanCode(wx);
    if (!r.ok) return; // the user closed the camera: stay where we are
    const parsed = ticketLib.parseScanResult(r.res, parseOptions);
    await releaseSession();
    if (!parsed.ok) {
      state.parseReason = parsed.reason;
      state.scan = null;
      setError('invalid_qr', 'start');
      return;
    }
    // Our own scanner only takes the camera, so this is a normal camera scan.
    resetForTicket(parsed, sceneLib.classifyScene(sceneLib.RESCAN_SCENE[parsed.kind]));
    await doScan();
  }

  async function retry() {
    if (state.phase !== 'error' || !state.error) return;
    const step = state.error.step;
    const code = state.error.code;
    if (!errors.describeError(code, lang).actions.retry) return;
    if (step === 'scan') {
      await doScan();
    } else if (step === 'confirm' || step === 'sure') {
      state.phase = 'review';
      state.error = null;
      // A refused phone code has to be granted again before confirming.
      if (PHONE_AGAIN[code]) emit();
      else if (step === 'sure') await sendConfirm(true);
      else await confirm();
    } else if (step === 'cancel') {
      await cancel();
    }
  }

  // Close: WeChat lets the app exit only inside the tap, so exit at once and let the
  // cancel of a live scan run meanwhile (its request is already sent).  The page shows
  // it is busy; if WeChat refuses to exit, it says how to leave once the cancel is done.
  function close() {
    generation++;
    const released = releaseSession();
    state.phase = 'closing';
    state.error = null;
    emit();
    let refused = false;
    function cannotExit() {
      if (refused) return;
      refused = true;
      released.then(function () {
        if (state.phase !== 'closing') return;
        state.phase = 'closed';
        emit();
      });
    }
    try {
      if (typeof wx.exitMiniProgram === 'function') wx.exitMiniProgram({ fail: cannotExit });
      else if (typeof wx.navigateBack === 'function') wx.navigateBack({ delta: 1, fail: cannotExit });
      else cannotExit();
    } catch (e) {
      cannotExit();
    }
    return released;
  }

  // Base library below the minimum: WeChat's own "update WeChat" page.
  function updateWeChat() {
    callWx(wx, 'updateWeChatApp', {});
  }

  // A login is under way: restarting the app now (to apply an update) would lose it.
  function inProgress() {
    const p = state.phase;
    if (p === 'idle' || p === 'done' || p === 'cancelled' || p === 'closed') return false;
    if (p === 'error') return state.sessionLive;
    return true;
  }

  function abandon() {
    generation++;
    releaseSession();
  }

  function requestRows() {
    const req = state.scan.request;
    const unknown = tr('unknownValue');
    const clock = format.formatClock(req.time, tzOffsetMinutes);
    const ago = format.minutesAgo(req.time, now());
    let timeText = clock || unknown;
    if (clock && ago !== null) {
      timeText += ' · ' + (ago < 1 ? tr('timeAgoSeconds') : tr('timeAgoMinutes', { n: ago }));
    }
    const rows = [
      { key: 'ip', label: tr('labelIp'), value: req.ip || unknown },
      { key: 'place', label: tr('labelPlace'), value: computerPlace() },
    ];
    const near = state.scan.proximity;
    if (near.level !== 'unknown') {
      const key = near.level === 'same_country' && near.far ? 'proximity_same_country_far' : 'proximity_' + near.level;
      rows.push({ key: 'proximity', label: tr('labelProximity'), value: tr(key), far: near.far });
    }
    rows.push({ key: 'browser', label: tr('labelBrowser'), value: req.browser || unknown });
    rows.push({ key: 'time', label: tr('labelTime'), value: timeText });
    return rows;
  }

  function computerPlace() {
    const req = state.scan.request;
    return gatewayLib.placeText(req.location, lang) || req.place || tr('placeUnknown');
  }

  function phonePlace() {
    return gatewayLib.placeText(state.scan.proximity.phoneLocation, lang) || tr('placeUnknown');
  }

  // The strong warning: the computer is in another city or country than the phone.
  function farView() {
    if (!farAway()) return { show: false, title: '', text: '' };
    const key = state.scan.proximity.level === 'different_country' ? 'farCountry' : 'farCity';
    return {
      show: true,
      title: tr('farTitle'),
      text: tr(key, { computer: computerPlace(), phone: phonePlace(), site: siteName() }),
    };
  }

  function warningView() {
    if (!state.scan) return { show: false, texts: [], needAck: false };
    const texts = [];
    const site = siteName();
    if (state.launch.risky) {
      const key = state.launch.source === 'image' ? 'warnImage' : state.launch.source === 'album' ? 'warnAlbum' : 'warnUnknown';
      texts.push(tr(key, { site: site }));
    }
    const reason = state.scan.risk.reason;
    const repeated = (state.launch.risky && reason && SCENE_REASONS[reason]) || reason === FAR_AWAY_REASON;
    if (state.scan.risk.warning && !repeated) {
      texts.push(tr('warnServer') + (reason ? ' (' + reason + ')' : ''));
    }
    return { show: texts.length > 0, texts: texts, needAck: needsAck() };
  }

  function phoneView() {
    const scan = state.scan;
    if (!scan || !scan.phone.requested) return { show: false };
    const site = siteName();
    const required = scan.phone.required;
    let note = '';
    if (state.phone.status === 'granted') note = tr('phoneGranted');
    else if (state.phone.status === 'declined') note = required ? tr('phoneDeclinedRequired') : tr('phoneDeclinedOptional');
    else if (state.phone.status === 'quota') note = tr('phoneQuotaOptional');
    else if (state.phone.status === 'outdated') note = tr('phoneOutdatedOptional');
    return {
      show: true,
      required: required,
      ask: tr(required ? 'phoneAskRequired' : 'phoneAskOptional', { site: site }),
      status: state.phone.status,
      note: note,
      // after a quota error, or on a base library without phone codes, it would only fail again
      canTap: state.phone.status === 'none' || state.phone.status === 'declined',
    };
  }

  function view() {
    const phase = state.phase;
    const brandName = lang === 'zh' && cfg.brand.nameZh ? cfg.brand.nameZh : cfg.brand.name;
    const v = {
      phase: phase,
      lang: lang,
      brand: { name: brandName, color: cfg.brand.color, logo: cfg.brand.logo },
      labels: {
        confirm: tr('confirm'),
        cancel: tr('cancel'),
        rescan: tr('rescan'),
        retry: tr('retry'),
        close: tr('close'),
        warnTitle: tr('warnTitle'),
        ackLabel: tr('ackLabel'),
        phoneTitle: tr('phoneTitle'),
        phoneButton: tr('phoneButton'),
        profileTitle: tr('profileTitle'),
        avatarButton: tr('avatarButton'),
        nicknamePlaceholder: tr('nicknamePlaceholder'),
        askHint: tr('askHint'),
        sureConfirm: tr('sureConfirm'),
        updateWeChat: tr('updateWeChat'),
      },
      busyText: BUSY_TEXT[phase] ? tr(BUSY_TEXT[phase]) : '',
      site: null,
      ask: '',
      rows: [],
      warning: { show: false, texts: [], needAck: false },
      far: { show: false, title: '', text: '' },
      sure: null,
      ack: state.ack,
      phone: { show: false },
      profile: {
        showNickname: cfg.profile.nickname,
        showAvatar: !!cfg.profile.avatarUploadUrl,
        nickname: state.profile.nickname,
        nicknameNote: NICKNAME_NOTE[state.profile.review] ? tr(NICKNAME_NOTE[state.profile.review]) : '',
        avatarPath: state.profile.avatarPath,
      },
      canConfirm: canConfirm(),
      confirmBusy: state.settling,
      message: null,
      error: null,
    };
    if (state.scan) {
      const name = state.scan.site.name;
      v.site = { name: name, logoUrl: state.scan.site.logoUrl || '', initial: Array.from(name)[0] || '?' };
      v.ask = tr('ask', { site: name });
      v.rows = requestRows();
      v.warning = warningView();
      v.far = farView();
      v.phone = phoneView();
    }
    if (phase === 'sure' && state.scan) {
      v.sure = {
        title: tr('sureTitle'),
        text: tr('sureText', { site: siteName(), computer: computerPlace(), phone: phonePlace() }),
      };
    }
    if (phase === 'idle') v.message = { title: tr('idleTitle'), text: tr('idleText'), tone: 'info' };
    if (phase === 'done') v.message = outcomeMessage();
    if (phase === 'cancelled') v.message = { title: tr('cancelledTitle'), text: tr('cancelledText'), tone: 'info' };
    if (phase === 'closed') v.message = { title: tr('closedTitle'), text: tr('closedText'), tone: 'info' };
    if (phase === 'error' && state.error) {
      v.error = errors.describeError(state.error.code, lang, {
        site: siteName(),
        retryAfter: state.error.retryAfter,
        requestId: state.error.requestId,
        place: state.error.place,
      });
      // the "Update WeChat" button only where WeChat offers its update page
      if (v.error.actions.update && typeof wx.updateWeChatApp !== 'function') v.error.actions.update = false;
    }
    return v;
  }

  // What the phone says once the login is confirmed: the account service's decision when
  // the gateway passed it on, else only that it was confirmed (the computer shows the rest).
  function outcomeMessage() {
    const site = siteName();
    const o = state.outcome || { outcome: null, reason: null };
    if (o.outcome === 'succeeded') return { title: tr('doneTitle'), text: tr('doneText', { site: site }), tone: 'ok' };
    if (o.outcome === 'binding_required') return { title: tr('bindingTitle'), text: tr('bindingText', { site: site }), tone: 'info' };
    if (o.outcome === 'failed') {
      const key = o.reason && FAILED_REASONS[o.reason] ? 'failed_' + o.reason : 'failed_other';
      return { title: tr(key + '_title'), text: tr(key, { site: site, code: o.reason || 'failed' }), tone: 'bad' };
    }
    return { title: tr('confirmedTitle'), text: tr('confirmedText', { site: site }), tone: 'info' };
  }

  function getState() {
    return JSON.parse(JSON.stringify(state));
  }

  return {
    lang: lang,
    config: cfg,
    configProblems: normalized.problems.slice(),
    start: start,
    setAcknowledged: setAcknowledged,
    onPhoneNumber: onPhoneNumber,
    setNickname: setNickname,
    onNicknameReview: onNicknameReview,
    updateWeChat: updateWeChat,
    inProgress: inProgress,
    onChooseAvatar: onChooseAvatar,
    confirm: confirm,
    confirmFarAway: confirmFarAway,
    cancel: cancel,
    rescan: rescan,
    retry: retry,
    close: close,
    abandon: abandon,
    canConfirm: canConfirm,
    view: view,
    getState: getState,
  };
}

module.exports = {
  PHONE_QUOTA_ERRNO: PHONE_QUOTA_ERRNO,
  NICKNAME_REVIEW_WAIT_MS: NICKNAME_REVIEW_WAIT_MS,
  STATUS_POLLS: STATUS_POLLS,
  STATUS_WAIT_MS: STATUS_WAIT_MS,
  createLoginFlow: createLoginFlow,
};
