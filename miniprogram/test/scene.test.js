'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const s = require('../lib/scene');

test('camera scans are normal, images and album picks are risky', () => {
  assert.deepEqual(s.classifyScene(1047), { scene: 1047, source: 'camera', qr: 'wxacode', risky: false });
  assert.deepEqual(s.classifyScene(1011), { scene: 1011, source: 'camera', qr: 'url', risky: false });
  assert.deepEqual(s.classifyScene(1048), { scene: 1048, source: 'image', qr: 'wxacode', risky: true });
  assert.deepEqual(s.classifyScene(1012), { scene: 1012, source: 'image', qr: 'url', risky: true });
  assert.deepEqual(s.classifyScene(1049), { scene: 1049, source: 'album', qr: 'wxacode', risky: true });
  assert.deepEqual(s.classifyScene(1013), { scene: 1013, source: 'album', qr: 'url', risky: true });
});

test('unknown or missing scenes are risky', () => {
  for (const v of [1001, 1007, 1036, 1089, 0, null, undefined, 'abc', 1047.5 + 'x', {}]) {
    const c = s.classifyScene(v);
    assert.equal(c.risky, true, String(v));
    assert.equal(c.source, 'unknown');
  }
  assert.equal(s.classifyScene('1047').risky, false); // numeric strings are read as numbers
});

test('readLaunchScene prefers the enter options, falls back to launch options', () => {
  assert.equal(s.readLaunchScene({ getEnterOptionsSync: () => ({ scene: 1048 }), getLaunchOptionsSync: () => ({ scene: 1047 }) }), 1048);
  assert.equal(s.readLaunchScene({ getLaunchOptionsSync: () => ({ scene: 1011 }) }), 1011);
  assert.equal(s.readLaunchScene({ getEnterOptionsSync: () => { throw new Error('x'); }, getLaunchOptionsSync: () => ({ scene: 1013 }) }), 1013);
  assert.equal(s.readLaunchScene({ getEnterOptionsSync: () => ({}), getLaunchOptionsSync: () => ({ scene: 1049 }) }), 1049);
  assert.equal(s.readLaunchScene({}), null);
  assert.equal(s.readLaunchScene(null), null);
});

test('rescan scenes are camera scenes', () => {
  assert.equal(s.classifyScene(s.RESCAN_SCENE.wxacode).risky, false);
  assert.equal(s.classifyScene(s.RESCAN_SCENE.url).risky, false);
});
