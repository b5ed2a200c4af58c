'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const t = require('../lib/ticket');

const TICKET = 'AbCdEfGhIjKlMnOpQrStUv';
const PREFIX = 'https://login.example.com/q/';
const OPTS = { prefixes: [PREFIX] };

function q(url) {
  return encodeURIComponent(url);
}

test('scene: bare ticket', () => {
  assert.deepEqual(t.parseScene(TICKET), { ok: true, kind: 'wxacode', ticket: TICKET });
});

test('scene: URL-decoded exactly once', () => {
  // %41 is "A"; the decoded scene is the ticket
  const raw = '%41' + TICKET.slice(1);
  assert.equal(t.parseScene(raw).ticket, TICKET);
  // a doubly encoded scene stays encoded after one decode and is refused
  assert.equal(t.parseScene('%2541' + TICKET.slice(1)).reason, 'bad_ticket');
});

test('scene: key=value form with t or ticket', () => {
  assert.equal(t.parseScene(encodeURIComponent('t=' + TICKET)).ticket, TICKET);
  assert.equal(t.parseScene('ticket%3D' + TICKET).ticket, TICKET);
  assert.equal(t.parseScene(encodeURIComponent('x=1&t=' + TICKET)).ticket, TICKET);
  assert.equal(t.parseScene(encodeURIComponent('x=1')).reason, 'missing');
});

test('scene: malformed input', () => {
  assert.equal(t.parseScene(undefined).reason, 'missing');
  assert.equal(t.parseScene('').reason, 'missing');
  assert.equal(t.parseScene(42).reason, 'malformed');
  assert.equal(t.parseScene(['a']).reason, 'malformed');
  assert.equal(t.parseScene('%E0%A4%A').reason, 'bad_encoding');
  assert.equal(t.parseScene('abc%zz').reason, 'bad_encoding');
  assert.equal(t.parseScene('%').reason, 'bad_encoding');
  assert.equal(t.parseScene('A'.repeat(33)).reason, 'too_long');
  assert.equal(t.parseScene('%41'.repeat(33)).reason, 'too_long'); // 99 raw chars
  assert.equal(t.parseScene('%41'.repeat(32) + 'B').reason, 'too_long'); // 33 decoded
  assert.equal(t.parseScene(TICKET.slice(1)).reason, 'bad_ticket'); // 21 chars
  assert.equal(t.parseScene(TICKET + 'x').reason, 'bad_ticket'); // 23 chars
  assert.equal(t.parseScene(TICKET.slice(1) + '-').reason, 'bad_ticket');
  assert.equal(t.parseScene(TICKET.slice(1) + '_').reason, 'bad_ticket');
  assert.equal(t.parseScene(encodeURIComponent(TICKET.slice(1) + 'é')).reason, 'bad_ticket');
  assert.equal(t.parseScene(encodeURIComponent(TICKET.slice(2) + ' x')).reason, 'bad_ticket');
});

test('q: ordinary QR URL, decoded once, with scancode_time', () => {
  const r = t.parseQ(q(PREFIX + TICKET), '1764064800', OPTS);
  assert.deepEqual(r, { ok: true, kind: 'url', ticket: TICKET, scancodeTime: 1764064800 });
});

test('q: tolerated URL variants', () => {
  assert.equal(t.parseQ(q('https://LOGIN.Example.com/q/' + TICKET), null, OPTS).ticket, TICKET);
  assert.equal(t.parseQ(q(PREFIX + TICKET + '/'), null, OPTS).ticket, TICKET);
  assert.equal(t.parseQ(q(PREFIX + TICKET + '?src=qr'), null, OPTS).ticket, TICKET);
  assert.equal(t.parseQ(q(PREFIX + TICKET + '#x'), null, OPTS).ticket, TICKET);
  assert.equal(t.parseQ(q(PREFIX + TICKET), undefined, OPTS).scancodeTime, null);
});

test('q: several configured prefixes, with a path and a port', () => {
  const opts = { prefixes: ['https://a.example.com/q/', 'https://b.example.com:8443/login/q/'] };
  assert.equal(t.parseQ(q('https://b.example.com:8443/login/q/' + TICKET), null, opts).ticket, TICKET);
  assert.equal(t.parseQ(q('https://b.example.com/login/q/' + TICKET), null, opts).reason, 'wrong_host');
  assert.equal(t.parseQ(q('https://b.example.com:8443/q/' + TICKET), null, opts).reason, 'wrong_path');
});

test('q: wrong host, including look-alikes', () => {
  assert.equal(t.parseQ(q('https://evil.example.net/q/' + TICKET), null, OPTS).reason, 'wrong_host');
  assert.equal(t.parseQ(q('https://login.example.com.evil.net/q/' + TICKET), null, OPTS).reason, 'wrong_host');
  assert.equal(t.parseQ(q('https://login.example.com@evil.net/q/' + TICKET), null, OPTS).reason, 'not_url');
  assert.equal(t.parseQ(q('https://evil.net/?https://login.example.com/q/' + TICKET), null, OPTS).reason, 'wrong_host');
  assert.equal(t.parseQ(q('https://login.example.com:444/q/' + TICKET), null, OPTS).reason, 'wrong_host');
});

test('q: wrong path or missing ticket', () => {
  assert.equal(t.parseQ(q('https://login.example.com/x/' + TICKET), null, OPTS).reason, 'wrong_path');
  assert.equal(t.parseQ(q('https://login.example.com/' + TICKET), null, OPTS).reason, 'wrong_path');
  assert.equal(t.parseQ(q('https://login.example.com/qq/' + TICKET), null, OPTS).reason, 'wrong_path');
  assert.equal(t.parseQ(q(PREFIX + TICKET + '/extra'), null, OPTS).reason, 'wrong_path');
  assert.equal(t.parseQ(q(PREFIX), null, OPTS).reason, 'missing');
  assert.equal(t.parseQ(q(PREFIX + '?x=1'), null, OPTS).reason, 'missing');
  assert.equal(t.parseQ(q('https://login.example.com'), null, OPTS).reason, 'wrong_path');
});

test('q: bad ticket characters and lengths', () => {
  assert.equal(t.parseQ(q(PREFIX + TICKET.slice(1)), null, OPTS).reason, 'bad_ticket');
  assert.equal(t.parseQ(q(PREFIX + TICKET + 'A'), null, OPTS).reason, 'bad_ticket');
  assert.equal(t.parseQ(q(PREFIX + TICKET.slice(1) + '.'), null, OPTS).reason, 'bad_ticket');
  assert.equal(t.parseQ(q(PREFIX + TICKET.slice(3) + '%41'), null, OPTS).reason, 'bad_ticket');
});

test('q: malformed input', () => {
  assert.equal(t.parseQ(undefined, null, OPTS).reason, 'missing');
  assert.equal(t.parseQ('', null, OPTS).reason, 'missing');
  assert.equal(t.parseQ({}, null, OPTS).reason, 'malformed');
  assert.equal(t.parseQ('https%3A%2F%2Flogin.example.com%2Fq%2F%ZZ', null, OPTS).reason, 'bad_encoding');
  assert.equal(t.parseQ('%E0%A4%A', null, OPTS).reason, 'bad_encoding');
  assert.equal(t.parseQ(q('not a url'), null, OPTS).reason, 'not_url');
  assert.equal(t.parseQ(q('javascript:alert(1)'), null, OPTS).reason, 'not_url');
  assert.equal(t.parseQ(q('ftp://login.example.com/q/' + TICKET), null, OPTS).reason, 'not_url');
  assert.equal(t.parseQ(q('http://login.example.com/q/' + TICKET), null, OPTS).reason, 'not_https');
  // over-long: decoded URL above 2048, and raw input above the encoded bound
  const long = PREFIX + TICKET + '?pad=' + 'a'.repeat(2049);
  assert.equal(t.parseQ(q(long), null, OPTS).reason, 'too_long');
  assert.equal(t.parseQ('a'.repeat(2048 * 3 + 1), null, OPTS).reason, 'too_long');
  // exactly at the limit is still fine
  const edge = PREFIX + TICKET + '?p=';
  const atLimit = edge + 'a'.repeat(2048 - edge.length);
  assert.equal(atLimit.length, 2048);
  assert.equal(t.parseQ(q(atLimit), null, OPTS).ticket, TICKET);
});

test('q: decoded exactly once (double encoding refused)', () => {
  const twice = encodeURIComponent(encodeURIComponent(PREFIX + TICKET));
  assert.equal(t.parseQ(twice, null, OPTS).reason, 'not_url');
});

test('q: http only when allowed, and only against an http prefix', () => {
  const opts = { prefixes: ['http://127.0.0.1:8080/q/'], allowHttp: true };
  assert.equal(t.parseQ(q('http://127.0.0.1:8080/q/' + TICKET), null, opts).ticket, TICKET);
  assert.equal(t.parseQ(q('http://127.0.0.1:8080/q/' + TICKET), null, { prefixes: ['http://127.0.0.1:8080/q/'] }).reason, 'not_https');
  assert.equal(t.parseQ(q('https://127.0.0.1:8080/q/' + TICKET), null, opts).reason, 'wrong_host');
});

test('q: no or unusable prefixes accept nothing', () => {
  assert.equal(t.parseQ(q(PREFIX + TICKET), null, {}).reason, 'wrong_host');
  assert.equal(t.parseQ(q(PREFIX + TICKET), null, { prefixes: ['https://login.example.com'] }).reason, 'wrong_host');
  assert.equal(t.parseQ(q(PREFIX + TICKET), null, { prefixes: ['https://login.example.com/q'] }).reason, 'wrong_host');
});

test('scancode_time parsing', () => {
  assert.equal(t.parseScancodeTime('1764064800'), 1764064800);
  assert.equal(t.parseScancodeTime(1764064800), 1764064800);
  assert.equal(t.parseScancodeTime('-5'), null);
  assert.equal(t.parseScancodeTime('12abc'), null);
  assert.equal(t.parseScancodeTime('0'), null);
  assert.equal(t.parseScancodeTime('9'.repeat(13)), null);
  assert.equal(t.parseScancodeTime(undefined), null);
});

test('launch query: scene, q, neither, both', () => {
  assert.equal(t.parseLaunchQuery({ scene: TICKET }, OPTS).kind, 'wxacode');
  assert.equal(t.parseLaunchQuery({ q: q(PREFIX + TICKET), scancode_time: '1' }, OPTS).kind, 'url');
  assert.deepEqual(t.parseLaunchQuery({}, OPTS), { ok: false, kind: 'unknown', reason: 'missing' });
  assert.deepEqual(t.parseLaunchQuery(undefined, OPTS), { ok: false, kind: 'unknown', reason: 'missing' });
  assert.equal(t.parseLaunchQuery({ scene: TICKET, q: q(PREFIX + TICKET) }, OPTS).reason, 'ambiguous');
  assert.equal(t.parseLaunchQuery({ scene: '', q: q(PREFIX + TICKET) }, OPTS).ticket, TICKET);
});

test('wx.scanCode results: own mini program code (path) and ordinary QR (result)', () => {
  assert.equal(t.parseScanResult({ scanType: 'WX_CODE', path: 'pages/login/login?scene=' + TICKET }, OPTS).ticket, TICKET);
  assert.equal(t.parseScanResult({ path: 'pages/login/login?x=1&scene=t%3D' + TICKET }, OPTS).ticket, TICKET);
  assert.equal(t.parseScanResult({ path: 'pages/login/login' }, OPTS).reason, 'missing');
  const r = t.parseScanResult({ scanType: 'QR_CODE', result: PREFIX + TICKET }, OPTS);
  assert.equal(r.ticket, TICKET);
  assert.equal(r.kind, 'url');
  assert.equal(t.parseScanResult({ result: 'https://evil.example.net/q/' + TICKET }, OPTS).reason, 'wrong_host');
  assert.equal(t.parseScanResult({ result: 'hello' }, OPTS).reason, 'not_url');
  assert.equal(t.parseScanResult({}, OPTS).reason, 'missing');
  assert.equal(t.parseScanResult(null, OPTS).reason, 'missing');
});

test('queryFromPath keeps values encoded and the first of duplicates', () => {
  assert.deepEqual(t.queryFromPath('p?a=1&b=%41&a=2&c'), { a: '1', b: '%41', c: '' });
  assert.deepEqual(t.queryFromPath('p'), {});
});
