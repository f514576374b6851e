/**
 * The passthrough model's pieces: whole words with the white space after them, at most 32 pieces,
 * joining back to exactly the text; the same cut as splitting on /\S+\s*|\s+/ and grouping the words
 * evenly, for any text (any white space JavaScript knows, surrogate pairs, empty).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { passthroughPieces } from '../src/agents/passthrough.ts';

/** The definition the pieces are held to: words by the regular expression, grouped evenly. */
function byRegex(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const perPiece = Math.ceil(words.length / 32);
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += perPiece) pieces.push(words.slice(i, i + perPiece).join(''));
  return pieces;
}

const SPACES = [' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u0085', '\u180e', '\u200b'];
const text = fc.array(fc.oneof(fc.constantFrom(...SPACES), fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }), fc.constantFrom('a', 'bc', '😀')), { maxLength: 200 }).map((parts) => parts.join(''));

test('the passthrough cuts any text where the word-splitting definition does, into at most 32 pieces that join back to it', () => {
  fc.assert(
    fc.property(text, (input) => {
      const pieces = passthroughPieces(input);
      assert.deepEqual(pieces, byRegex(input));
      assert.equal(pieces.join(''), input);
      assert.ok(pieces.length <= 32);
    }),
    { numRuns: 3_000 },
  );
  assert.deepEqual(passthroughPieces('hello benchmark world'), ['hello ', 'benchmark ', 'world']);
  assert.deepEqual(passthroughPieces('  two  words '), ['  ', 'two  ', 'words ']);
  assert.deepEqual(passthroughPieces(''), []);
});
