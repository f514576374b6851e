/**
 * Ids for tasks, contexts, messages and requests: version 4 UUIDs in their canonical form, random in
 * every position the format leaves random, never repeated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUuid } from '../src/util/uuid.ts';

const CANONICAL_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are version 4 UUIDs in canonical form, and none repeats over several batches of randomness', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = randomUuid();
    assert.match(id, CANONICAL_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
});

test('every hex digit turns up in every random position', () => {
  // A digit stuck at one value (an off-by-one in the byte layout) shows up as a position with one digit only.
  const digits = Array.from({ length: 36 }, () => new Set<string>());
  for (let i = 0; i < 5_000; i++) [...randomUuid()].forEach((char, at) => digits[at]!.add(char));
  digits.forEach((set, at) => {
    const expected = [8, 13, 18, 23].includes(at) ? 1 : at === 14 ? 1 : at === 19 ? 4 : 16;
    assert.equal(set.size, expected, `position ${at}: ${[...set].sort().join('')}`);
  });
});
