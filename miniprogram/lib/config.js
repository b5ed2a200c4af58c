'use strict';
// Checks the operator's config.js and fills in defaults.  A broken config
// shows "not set up" on the phone instead of calling a wrong host.

const ticket = require('./ticket');

const DEFAULTS = {
  gatewayBaseUrl: '',
  qrUrlPrefixes: [],
  allowInsecureHttp: false,
  requestTimeoutMs: 10000,
  language: 'auto',
  brand: { name: 'MiniLogin', nameZh: '', color: '#07c160', logo: '' },
  profile: { nickname: true, avatarUploadUrl: '' },
};

function pick(obj, key, fallback) {
  return obj && Object.prototype.hasOwnProperty.call(obj, key) && obj[key] !== undefined ? obj[key] : fallback;
}

function isBaseUrl(value, allowHttp) {
  if (typeof value !== 'string') return false;
  const re = allowHttp ? /^https?:\/\/[^/?#@\s]+(\/[^?#\s]*)?$/i : /^https:\/\/[^/?#@\s]+(\/[^?#\s]*)?$/i;
  return re.test(value);
}

// normalizeConfig(raw) -> {config, problems: [string]}
function normalizeConfig(raw) {
  const r = raw || {};
  const problems = [];
  const allowHttp = pick(r, 'allowInsecureHttp', DEFAULTS.allowInsecureHttp) === true;
  const brandRaw = pick(r, 'brand', {}) || {};
  const profileRaw = pick(r, 'profile', {}) || {};
  const config = {
    gatewayBaseUrl: String(pick(r, 'gatewayBaseUrl', DEFAULTS.gatewayBaseUrl)).replace(/\/+$/, ''),
    qrUrlPrefixes: pick(r, 'qrUrlPrefixes', DEFAULTS.qrUrlPrefixes),
    allowInsecureHttp: allowHttp,
    requestTimeoutMs: pick(r, 'requestTimeoutMs', DEFAULTS.requestTimeoutMs),
    language: pick(r, 'language', DEFAULTS.language),
    brand: {
      name: String(pick(brandRaw, 'name', DEFAULTS.brand.name)),
      nameZh: String(pick(brandRaw, 'nameZh', DEFAULTS.brand.nameZh) || ''),
      color: String(pick(brandRaw, 'color', DEFAULTS.brand.color)),
      logo: String(pick(brandRaw, 'logo', DEFAULTS.brand.logo) || ''),
    },
    profile: {
      nickname: pick(profileRaw, 'nickname', DEFAULTS.profile.nickname) !== false,
      avatarUploadUrl: String(pick(profileRaw, 'avatarUploadUrl', DEFAULTS.profile.avatarUploadUrl) || ''),
    },
  };
  if (!isBaseUrl(config.gatewayBaseUrl, allowHttp)) {
    problems.push('gatewayBaseUrl must be an ' + (allowHttp ? 'http(s)' : 'https') + ' URL without query');
  }
  if (!Array.isArray(config.qrUrlPrefixes)) {
    problems.push('qrUrlPrefixes must be a list');
    config.qrUrlPrefixes = [];
  }
  for (let i = 0; i < config.qrUrlPrefixes.length; i++) {
    if (!ticket.splitPrefix(config.qrUrlPrefixes[i], allowHttp)) {
      problems.push('qrUrlPrefixes[' + i + '] must look like https://host/q/');
    }
  }
  const timeout = config.requestTimeoutMs;
  if (typeof timeout !== 'number' || !(timeout >= 1000 && timeout <= 60000)) {
    problems.push('requestTimeoutMs must be between 1000 and 60000');
    config.requestTimeoutMs = DEFAULTS.requestTimeoutMs;
  }
  if (!/^#[0-9a-fA-F]{3,8}$/.test(config.brand.color)) config.brand.color = DEFAULTS.brand.color;
  if (config.profile.avatarUploadUrl && !isBaseUrl(config.profile.avatarUploadUrl, allowHttp)) {
    problems.push('profile.avatarUploadUrl must be an https URL');
    config.profile.avatarUploadUrl = '';
  }
  return { config: config, problems: problems };
}

module.exports = {
  DEFAULTS: DEFAULTS,
  normalizeConfig: normalizeConfig,
};
