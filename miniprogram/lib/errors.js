'use strict';
// Error code -> what the user reads and which way out they get.
//
// Ways out:
//   rescan  wx.scanCode for a fresh login code (the old one is unusable)
//   retry   repeat the step that failed with the same login code
//   close   wx.exitMiniProgram
//   update  wx.updateWeChatApp (WeChat's own update page), where the phone has it
// Every entry offers `close`, so no error is a dead end.

const i18n = require('./i18n');
const baselib = require('./baselib');

const CATALOG = {
  invalid_qr: { text: 'invalid_qr', actions: ['rescan', 'close'] },
  ticket_not_found: { text: 'ticket_not_found', actions: ['rescan', 'close'] },
  ticket_expired: { text: 'ticket_expired', actions: ['rescan', 'close'] },
  ticket_already_scanned: { text: 'ticket_already_scanned', actions: ['rescan', 'close'] },
  ticket_cancelled: { text: 'ticket_cancelled', actions: ['rescan', 'close'] },
  illegal_transition: { text: 'illegal_transition', actions: ['close', 'rescan'] },
  not_scanner: { text: 'not_scanner', actions: ['rescan', 'close'] },
  invalid_session: { text: 'invalid_session', actions: ['rescan', 'close'] },
  wechat_invalid_code: { text: 'wechat_invalid_code', actions: ['retry', 'close'] },
  wx_login_failed: { text: 'wx_login_failed', actions: ['retry', 'close'] },
  wechat_code_blocked: { text: 'wechat_code_blocked', actions: ['close'] },
  rate_limited: { text: 'rate_limited', actions: ['retry', 'close'] },
  wechat_rate_limited: { text: 'rate_limited', actions: ['retry', 'close'] },
  invalid_request: { text: 'invalid_request', actions: ['rescan', 'close'] },
  malformed_json: { text: 'invalid_request', actions: ['rescan', 'close'] },
  upstream_error: { text: 'server', actions: ['retry', 'close'] },
  service_unavailable: { text: 'server', actions: ['retry', 'close'] },
  temporarily_unavailable: { text: 'server', actions: ['retry', 'close'] },
  overloaded: { text: 'server', actions: ['retry', 'close'] },
  wechat_busy: { text: 'server', actions: ['retry', 'close'] },
  network_error: { text: 'network_error', actions: ['retry', 'close'] },
  timeout: { text: 'timeout', actions: ['retry', 'close'] },
  bad_response: { text: 'bad_response', actions: ['retry', 'close'] },
  http_error: { text: 'bad_response', actions: ['retry', 'close'] },
  wechat_unreachable: { text: 'server', actions: ['retry', 'close'] },
  wechat_error: { text: 'server', actions: ['retry', 'close'] },
  wechat_auth_failed: { text: 'server', actions: ['retry', 'close'] },
  wechat_invalid_argument: { text: 'server', actions: ['retry', 'close'] },
  wechat_data_invalid: { text: 'server', actions: ['retry', 'close'] },
  wechat_watermark_mismatch: { text: 'server', actions: ['retry', 'close'] },
  unknown_connection: { text: 'ticket_not_found', actions: ['rescan', 'close'] },
  phone_required: { text: 'phone_required', actions: ['retry', 'close'] },
  phone_unavailable: { text: 'phone_unavailable', actions: ['close'] },
  far_away_refused: { text: 'far_away_refused', actions: ['close', 'rescan'] },
  far_away_confirmation_required: { text: 'far_away_confirmation_required', actions: ['retry', 'close'] },
  not_found: { text: 'config', actions: ['close'] },
  method_not_allowed: { text: 'config', actions: ['close'] },
  config_error: { text: 'config', actions: ['close'] },
  wechat_update_required: { text: 'wechat_update_required', actions: ['update', 'close'] },
};

const FALLBACK = { text: 'unknown', actions: ['retry', 'close'] };

// describeError(code, lang, {site, retryAfter, requestId, place}) ->
//   {code, title, message, requestId, actions: {rescan, retry, close, update}}
function describeError(code, lang, details) {
  const d = details || {};
  const entry = Object.prototype.hasOwnProperty.call(CATALOG, code) ? CATALOG[code] : FALLBACK;
  const params = { site: d.site || '', code: String(code), n: d.retryAfter, place: d.place || '', min: baselib.MIN_BASE_LIBRARY };
  let messageKey = 'err_' + entry.text;
  if (entry.text === 'rate_limited' && typeof d.retryAfter === 'number' && d.retryAfter > 0) {
    messageKey = 'err_rate_limited_wait';
  }
  if (entry.text === 'far_away_refused' && d.place) messageKey = 'err_far_away_refused_place';
  const actions = { rescan: false, retry: false, close: false, update: false };
  for (let i = 0; i < entry.actions.length; i++) actions[entry.actions[i]] = true;
  return {
    code: String(code),
    title: i18n.t(lang, 'err_' + entry.text + '_title'),
    message: i18n.t(lang, messageKey, params),
    requestId: d.requestId ? i18n.t(lang, 'requestId', { id: d.requestId }) : '',
    actions: actions,
  };
}

module.exports = {
  CATALOG: CATALOG,
  describeError: describeError,
};
