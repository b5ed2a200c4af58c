'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const f = require('../lib/format');

test('parseIso: Z, offsets, fractions up to microseconds', () => {
  const base = Date.UTC(2026, 10, 25, 10, 0, 0);
  assert.equal(f.parseIso('2026-11-25T10:00:00Z'), base);
  assert.equal(f.parseIso('2026-11-25T10:00Z'), base);
  assert.equal(f.parseIso('2026-11-25T10:00:00.334805Z'), base + 334);
  assert.equal(f.parseIso('2026-11-25T18:00:00+08:00'), base);
  assert.equal(f.parseIso('2026-11-25T05:30:00-0430'), base);
  for (const bad of ['', '2026-11-25', '2026-11-25 10:00:00', '2026-11-25T10:00:00', 'yesterday', null, 5]) {
    assert.equal(f.parseIso(bad), null, String(bad));
  }
});

test('formatClock in a given zone and minutesAgo', () => {
  assert.equal(f.formatClock('2026-11-25T10:00:00.334805Z', 480), '2026-11-25 18:00');
  assert.equal(f.formatClock('2026-11-25T23:59:00Z', 60), '2026-11-26 00:59');
  assert.equal(f.formatClock('2026-11-25T10:00:00Z', 0), '2026-11-25 10:00');
  assert.match(f.formatClock('2026-11-25T10:00:00Z'), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  assert.equal(f.formatClock('nonsense', 0), null);
  const now = Date.UTC(2026, 10, 25, 10, 7, 30);
  assert.equal(f.minutesAgo('2026-11-25T10:00:00Z', now), 7);
  assert.equal(f.minutesAgo('2026-11-25T10:08:00Z', now), 0); // small clock skew
  assert.equal(f.minutesAgo('2026-11-25T11:00:00Z', now), null); // far future
  assert.equal(f.minutesAgo(null, now), null);
});
