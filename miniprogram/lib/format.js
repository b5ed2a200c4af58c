'use strict';
// Time display for the "requested at" row.

// Strict ISO 8601 with a zone ("2026-11-25T10:00:00Z", "...:46.334805+08:00").
// Parsed by hand: some phone JS engines reject more than 3 fractional digits.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

function parseIso(iso) {
  if (typeof iso !== 'string') return null;
  const m = ISO_RE.exec(iso);
  if (!m) return null;
  const ms = m[7] ? Math.floor(Number('0.' + m[7]) * 1000) : 0;
  let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, ms);
  if (m[8] !== 'Z') {
    const sign = m[8].charAt(0) === '-' ? -1 : 1;
    const digits = m[8].slice(1).replace(':', '');
    t -= sign * (parseInt(digits.slice(0, 2), 10) * 60 + parseInt(digits.slice(2), 10)) * 60000;
  }
  return isFinite(t) ? t : null;
}

function pad(n) {
  return n < 10 ? '0' + n : String(n);
}

// ISO 8601 time from the gateway -> "YYYY-MM-DD HH:MM" in the phone's time zone.
// tzOffsetMinutes (east of UTC) overrides the device zone; tests pass it.
function formatClock(iso, tzOffsetMinutes) {
  const ms = parseIso(iso);
  if (ms === null) return null;
  let d;
  if (typeof tzOffsetMinutes === 'number') {
    d = new Date(ms + tzOffsetMinutes * 60000);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }
  d = new Date(ms);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
    pad(d.getHours()) + ':' + pad(d.getMinutes());
}

// Minutes between the request and now; null when unknown or in the future
// beyond a little clock skew.
function minutesAgo(iso, nowMs) {
  const ms = parseIso(iso);
  if (ms === null) return null;
  const diff = nowMs - ms;
  if (diff < -120000) return null;
  return Math.max(0, Math.floor(diff / 60000));
}

module.exports = {
  parseIso: parseIso,
  formatClock: formatClock,
  minutesAgo: minutesAgo,
};
