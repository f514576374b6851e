/**
 * Task status and log timestamps: the cheap formatter gives exactly what Date#toISOString gives,
 * for any instant and in any order of calls (it keeps the last second it formatted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoNow, isoTime } from '../src/util/iso-time.ts';

const instant = fc.integer({ min: -8.64e15, max: 8.64e15 });

test('isoTime matches Date#toISOString, whatever instants come in whatever order', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(instant, fc.integer({ min: 1_700_000_000_000, max: 1_700_000_002_000 })), { minLength: 1, maxLength: 20 }), (instants) => {
      for (const ms of instants) assert.equal(isoTime(ms), new Date(ms).toISOString());
    }),
    { numRuns: 2_000 },
  );
});

test('isoNow is the time now', () => {
  const before = Date.now();
  const now = Date.parse(isoNow());
  assert.ok(now >= before && now <= Date.now(), `${now} lies between ${before} and now`);
});
