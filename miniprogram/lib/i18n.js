'use strict';
// Chinese and English texts.  Every key exists in both tables (a test checks);
// `{name}` placeholders are filled by t().

const STRINGS = {
  en: {
    title: 'Log in on computer',
    loading: 'Loading…',
    checking: 'Checking the QR code…',
    confirming: 'Logging in…',
    cancelling: 'Cancelling…',
    ask: '{site} wants to log you in on a computer',
    askHint: 'Only confirm if you are logging in on that computer yourself, right now.',
    labelDevice: 'Computer',
    labelIp: 'IP address',
    labelPlace: 'Location',
    labelBrowser: 'Browser',
    labelTime: 'Requested',
    labelProximity: 'Distance',
    proximity_same_address: 'Same network as this phone',
    proximity_same_network: 'Same network as this phone',
    proximity_same_city: 'Same city as you',
    proximity_same_country: 'Same country as you',
    proximity_same_country_far: 'Another city in your country',
    proximity_different_country: 'Another country',
    farTitle: 'This computer is far away from you',
    farCountry: 'The computer asking to log in is in {computer}, in another country. You are in {phone}. If you are not at that computer yourself, someone is trying to log in to {site} as you: tap Cancel.',
    farCity: 'The computer asking to log in is in {computer}, in another city. You are in {phone}. If you are not at that computer yourself, someone is trying to log in to {site} as you: tap Cancel.',
    sureTitle: 'Are you sure?',
    sureText: '{site} asks you to confirm once more, because the computer is far from you: it is in {computer}, and you are in {phone}. Only continue if you are at that computer yourself. Nobody from {site} or WeChat will ever ask you to scan a login code for them.',
    sureConfirm: 'I am sure, log in',
    unknownValue: 'Unknown',
    placeUnknown: 'Unknown location',
    timeAgoSeconds: 'just now',
    timeAgoMinutes: '{n} min ago',
    confirm: 'Confirm login',
    cancel: 'Cancel',
    rescan: 'Scan again',
    retry: 'Try again',
    close: 'Close',
    warnTitle: 'Check before you continue',
    warnImage: 'You opened this login code from a picture in a chat, not by scanning a screen. Someone may be trying to log in to {site} as you.',
    warnAlbum: 'You opened this login code from a picture in your album, not by scanning a screen. Someone may be trying to log in to {site} as you.',
    warnUnknown: 'This login code was not opened by scanning it with your camera. Someone may be trying to log in to {site} as you.',
    warnServer: 'The server flagged this login request as unusual.',
    ackLabel: 'I am logging in on my own computer, and I scanned the code on its screen myself',
    phoneTitle: 'Phone number',
    phoneAskRequired: '{site} needs your phone number to log you in.',
    phoneAskOptional: '{site} asks for your phone number (optional).',
    phoneButton: 'Share my phone number',
    phoneGranted: 'Your phone number will be shared.',
    phoneDeclinedOptional: 'You chose not to share your phone number. You can still log in.',
    phoneDeclinedRequired: 'This site cannot log you in without your phone number. Tap the button to share it, or cancel.',
    phoneQuotaOptional: 'Phone number sharing is unavailable right now. You can log in without it.',
    profileTitle: 'Profile (optional)',
    avatarButton: 'Choose avatar',
    nicknamePlaceholder: 'Nickname',
    doneTitle: 'Logged in',
    doneText: 'You are now logged in to {site} on your computer. You can close this page.',
    cancelledTitle: 'Login cancelled',
    cancelledText: 'Nobody was logged in. You can close this page.',
    idleTitle: 'Scan the QR code on your computer',
    idleText: 'Open this page by scanning the login QR code shown on the computer with WeChat.',
    requestId: 'Reference: {id}',
    err_invalid_qr_title: 'Not a login code',
    err_invalid_qr: 'This QR code is not a valid login code. Scan the code shown on the login page of the website.',
    err_ticket_not_found_title: 'Login code not found',
    err_ticket_not_found: 'This login code does not exist or has already been used. Refresh the login page on your computer and scan the new code.',
    err_ticket_expired_title: 'Login code expired',
    err_ticket_expired: 'This login code has expired. Refresh the login page on your computer and scan the new code.',
    err_ticket_already_scanned_title: 'Already scanned',
    err_ticket_already_scanned: 'This login code was already scanned on another phone. If that was not you, do not continue: refresh the login page on your computer and scan again.',
    err_ticket_cancelled_title: 'Login cancelled',
    err_ticket_cancelled: 'This login was cancelled. Refresh the login page on your computer to start again.',
    err_illegal_transition_title: 'Login already finished',
    err_illegal_transition: 'This login has already been completed or cancelled. Check your computer.',
    err_not_scanner_title: 'Wrong phone',
    err_not_scanner: 'Only the phone that scanned this code can confirm it. Scan the code again.',
    err_invalid_session_title: 'Session ended',
    err_invalid_session: 'Your session for this login is no longer valid. Scan the code on your computer again.',
    err_wechat_invalid_code_title: 'WeChat sign-in failed',
    err_wechat_invalid_code: 'WeChat could not verify your sign-in. Please try again.',
    err_wx_login_failed_title: 'WeChat sign-in failed',
    err_wx_login_failed: 'Could not get a sign-in code from WeChat. Check your connection and try again.',
    err_wechat_code_blocked_title: 'Login blocked',
    err_wechat_code_blocked: 'WeChat has restricted logins from this account for security reasons.',
    err_rate_limited_title: 'Too many attempts',
    err_rate_limited: 'Too many attempts. Please wait a minute and try again.',
    err_rate_limited_wait: 'Too many attempts. Please wait {n} seconds and try again.',
    err_invalid_request_title: 'Request not accepted',
    err_invalid_request: 'The server did not accept the request. Update the mini program or scan the code again.',
    err_server_title: 'Service unavailable',
    err_server: 'The login service is busy or unavailable. Please try again in a moment.',
    err_network_error_title: 'No connection',
    err_network_error: 'Cannot reach the login service. Check your network and try again.',
    err_timeout_title: 'No answer',
    err_timeout: 'The login service did not answer in time. Check your network and try again.',
    err_bad_response_title: 'Unexpected answer',
    err_bad_response: 'The login service sent an answer this mini program does not understand. Please try again.',
    err_phone_required_title: 'Phone number needed',
    err_phone_required: '{site} needs your phone number to log you in. Tap "Try again", then share your phone number.',
    err_phone_unavailable_title: 'Phone number unavailable',
    err_phone_unavailable: '{site} needs your phone number, but sharing phone numbers is unavailable right now. Please try again later.',
    err_far_away_refused_title: 'Login not allowed',
    err_far_away_refused: 'The computer asking to log in is far from where you are, so this login is not allowed, and the computer has been told. If you did not start this login, someone may have tried to log in as you; you do not need to do anything.',
    err_far_away_refused_place: 'The computer asking to log in is in {place}, far from where you are, so this login is not allowed, and the computer has been told. If you did not start this login, someone may have tried to log in as you; you do not need to do anything.',
    err_far_away_confirmation_required_title: 'Confirm once more',
    err_far_away_confirmation_required: 'The computer asking to log in is far from you, and the site asks you to confirm once more. Only tap "Try again" if you are at that computer yourself.',
    err_config_title: 'Not set up',
    err_config: 'This mini program is not configured correctly. Please contact the site operator.',
    err_unknown_title: 'Something went wrong',
    err_unknown: 'Login failed ({code}). Please try again.',
  },
  zh: {
    title: '电脑端登录',
    loading: '加载中…',
    checking: '正在校验二维码…',
    confirming: '正在登录…',
    cancelling: '正在取消…',
    ask: '{site} 请求在电脑上登录你的账号',
    askHint: '仅当你本人此刻正在这台电脑上登录时才确认。',
    labelDevice: '电脑',
    labelIp: 'IP 地址',
    labelPlace: '位置',
    labelBrowser: '浏览器',
    labelTime: '请求时间',
    labelProximity: '与你的距离',
    proximity_same_address: '与这台手机在同一网络',
    proximity_same_network: '与这台手机在同一网络',
    proximity_same_city: '与你在同一城市',
    proximity_same_country: '与你在同一国家',
    proximity_same_country_far: '与你在同一国家的另一城市',
    proximity_different_country: '在另一个国家',
    farTitle: '这台电脑离你很远',
    farCountry: '请求登录的电脑位于{computer}，在另一个国家，而你在{phone}。如果你本人不在那台电脑前，说明有人正试图以你的身份登录 {site}：请点击“取消”。',
    farCity: '请求登录的电脑位于{computer}，在另一个城市，而你在{phone}。如果你本人不在那台电脑前，说明有人正试图以你的身份登录 {site}：请点击“取消”。',
    sureTitle: '确定要登录吗？',
    sureText: '这台电脑离你很远，{site} 要求你再确认一次：电脑位于{computer}，而你在{phone}。只有当你本人正在那台电脑前时才继续。{site} 和微信的工作人员绝不会让你替他们扫描登录二维码。',
    sureConfirm: '我确定，登录',
    unknownValue: '未知',
    placeUnknown: '未知位置',
    timeAgoSeconds: '刚刚',
    timeAgoMinutes: '{n} 分钟前',
    confirm: '确认登录',
    cancel: '取消',
    rescan: '重新扫码',
    retry: '重试',
    close: '关闭',
    warnTitle: '继续之前请确认',
    warnImage: '你是通过长按聊天中的图片打开此登录码的，而不是扫描屏幕。可能有人正试图以你的身份登录 {site}。',
    warnAlbum: '你是通过相册中的图片打开此登录码的，而不是扫描屏幕。可能有人正试图以你的身份登录 {site}。',
    warnUnknown: '此登录码不是通过相机扫码打开的。可能有人正试图以你的身份登录 {site}。',
    warnServer: '服务器认为此登录请求异常。',
    ackLabel: '我正在自己的电脑上登录，并且是我本人扫描了该电脑屏幕上的二维码',
    phoneTitle: '手机号',
    phoneAskRequired: '{site} 需要你的手机号才能登录。',
    phoneAskOptional: '{site} 请求获取你的手机号（可选）。',
    phoneButton: '授权手机号',
    phoneGranted: '将提供你的手机号。',
    phoneDeclinedOptional: '你选择不提供手机号，仍可继续登录。',
    phoneDeclinedRequired: '该网站需要手机号才能登录。请点击按钮授权，或取消登录。',
    phoneQuotaOptional: '暂时无法获取手机号，你可以不提供手机号继续登录。',
    profileTitle: '个人资料（可选）',
    avatarButton: '选择头像',
    nicknamePlaceholder: '昵称',
    doneTitle: '登录成功',
    doneText: '你已在电脑上登录 {site}，可以关闭此页面。',
    cancelledTitle: '已取消登录',
    cancelledText: '未登录任何账号，可以关闭此页面。',
    idleTitle: '请扫描电脑上的二维码',
    idleText: '请用微信扫描电脑登录页面上的二维码来打开此页面。',
    requestId: '编号：{id}',
    err_invalid_qr_title: '不是登录二维码',
    err_invalid_qr: '这不是有效的登录二维码，请扫描网站登录页面上显示的二维码。',
    err_ticket_not_found_title: '登录码不存在',
    err_ticket_not_found: '此登录码不存在或已被使用。请刷新电脑上的登录页面后扫描新的二维码。',
    err_ticket_expired_title: '二维码已过期',
    err_ticket_expired: '此登录码已过期。请刷新电脑上的登录页面后扫描新的二维码。',
    err_ticket_already_scanned_title: '二维码已被扫描',
    err_ticket_already_scanned: '此登录码已在另一台手机上被扫描。如果不是你本人，请不要继续：刷新电脑上的登录页面后重新扫码。',
    err_ticket_cancelled_title: '登录已取消',
    err_ticket_cancelled: '此次登录已取消。请刷新电脑上的登录页面重新开始。',
    err_illegal_transition_title: '登录已结束',
    err_illegal_transition: '此次登录已完成或已取消，请查看你的电脑。',
    err_not_scanner_title: '不是扫码的手机',
    err_not_scanner: '只有扫描此二维码的手机才能确认登录，请重新扫码。',
    err_invalid_session_title: '会话已失效',
    err_invalid_session: '此次登录的会话已失效，请重新扫描电脑上的二维码。',
    err_wechat_invalid_code_title: '微信登录失败',
    err_wechat_invalid_code: '微信无法验证你的登录，请重试。',
    err_wx_login_failed_title: '微信登录失败',
    err_wx_login_failed: '无法从微信获取登录凭证，请检查网络后重试。',
    err_wechat_code_blocked_title: '登录受限',
    err_wechat_code_blocked: '出于安全原因，微信已限制此账号登录。',
    err_rate_limited_title: '操作过于频繁',
    err_rate_limited: '尝试次数过多，请稍等一分钟后重试。',
    err_rate_limited_wait: '尝试次数过多，请等待 {n} 秒后重试。',
    err_invalid_request_title: '请求未被接受',
    err_invalid_request: '服务器未接受此请求。请更新小程序或重新扫码。',
    err_server_title: '服务暂不可用',
    err_server: '登录服务繁忙或暂不可用，请稍后重试。',
    err_network_error_title: '网络连接失败',
    err_network_error: '无法连接登录服务，请检查网络后重试。',
    err_timeout_title: '请求超时',
    err_timeout: '登录服务未及时响应，请检查网络后重试。',
    err_bad_response_title: '无法识别的响应',
    err_bad_response: '登录服务返回了无法识别的内容，请重试。',
    err_phone_required_title: '需要手机号',
    err_phone_required: '{site} 需要你的手机号才能登录。请点击“重试”，然后授权手机号。',
    err_phone_unavailable_title: '无法获取手机号',
    err_phone_unavailable: '{site} 需要你的手机号，但目前暂时无法获取手机号，请稍后再试。',
    err_far_away_refused_title: '不允许登录',
    err_far_away_refused: '请求登录的电脑离你所在的位置很远，因此不允许此次登录，电脑端已收到通知。如果不是你本人发起的登录，可能有人试图以你的身份登录；你无需进行任何操作。',
    err_far_away_refused_place: '请求登录的电脑位于{place}，离你所在的位置很远，因此不允许此次登录，电脑端已收到通知。如果不是你本人发起的登录，可能有人试图以你的身份登录；你无需进行任何操作。',
    err_far_away_confirmation_required_title: '需要再次确认',
    err_far_away_confirmation_required: '请求登录的电脑离你很远，该网站要求你再确认一次。只有当你本人正在那台电脑前时，才点击“重试”。',
    err_config_title: '尚未配置',
    err_config: '此小程序配置有误，请联系网站运营方。',
    err_unknown_title: '出错了',
    err_unknown: '登录失败（{code}），请重试。',
  },
};

const LANGUAGES = ['zh', 'en'];

// 'zh_CN', 'zh-Hant', 'zh_TW' ... -> 'zh'; everything else -> 'en'.
function normalizeLanguage(value) {
  if (typeof value !== 'string') return null;
  const v = value.toLowerCase();
  if (v === 'zh' || v.indexOf('zh_') === 0 || v.indexOf('zh-') === 0) return 'zh';
  if (v === 'en' || v.indexOf('en_') === 0 || v.indexOf('en-') === 0) return 'en';
  return null;
}

// config.language: 'auto' (default), 'zh' or 'en'.  'auto' reads WeChat's UI
// language: wx.getAppBaseInfo() (base library >= 2.20.1), else the deprecated
// wx.getSystemInfoSync().  Languages we do not have fall back to English.
function pickLanguage(wx, config) {
  const forced = config && normalizeLanguage(config.language);
  if (forced) return forced;
  const sources = ['getAppBaseInfo', 'getSystemInfoSync'];
  for (let i = 0; i < sources.length; i++) {
    const fn = wx && wx[sources[i]];
    if (typeof fn !== 'function') continue;
    try {
      const info = fn.call(wx);
      if (info && typeof info.language === 'string' && info.language !== '') {
        return normalizeLanguage(info.language) || 'en';
      }
    } catch (e) {
      // try the next source
    }
  }
  return 'en';
}

function t(lang, key, params) {
  const table = STRINGS[lang] || STRINGS.en;
  let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.en[key];
  if (text === undefined) return key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }
  return text;
}

module.exports = {
  STRINGS: STRINGS,
  LANGUAGES: LANGUAGES,
  normalizeLanguage: normalizeLanguage,
  pickLanguage: pickLanguage,
  t: t,
};
