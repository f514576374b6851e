/**
 * The limits checked on a request's text before it is parsed: the scan that skips over strings
 * counts exactly what a plain character-by-character scan counts, whatever the text (escaped
 * quotes, runs of backslashes, unterminated strings, brackets inside strings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJson, type InputLimits } from '../src/a2a/validate.ts';

const LIMITS: InputLimits = { maxDepth: 4, maxValues: 12, maxParts: 64, maxIdLength: 256, maxMetadataChars: 16 * 1024, maxListItems: 32 };

/** The rule written the plain way: which limit, if any, the text goes over. */
function plainVerdict(text: string): 'depth' | 'values' | undefined {
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > LIMITS.maxDepth) return 'depth';
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' || c === ':') {
      if (++values > LIMITS.maxValues) return 'values';
    }
  }
  return undefined;
}

function verdict(text: string): 'depth' | 'values' | undefined {
  try {
    parseJson(text, LIMITS);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    const message = (error as Error).message;
    return /deep/.test(message) ? 'depth' : /values/.test(message) ? 'values' : undefined;
  }
  return undefined;
}

test('the string-skipping scan agrees with a plain scan on any text made of JSON punctuation, quotes and backslashes', () => {
  const piece = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\\\\', '\\"', 'a', ' ', '1');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
      const text = pieces.join('');
      assert.equal(verdict(text), plainVerdict(text), text);
    }),
    { numRuns: 20_000 },
  );
});

test('brackets and commas inside strings, escaped quotes included, count for nothing', () => {
  assert.deepEqual(parseJson('{"a":"[[[[[,,,,,,,,,,,,,,\\"[[[[[[,,,,,,"}', LIMITS), { a: '[[[[[,,,,,,,,,,,,,,"[[[[[[,,,,,,' });
  assert.throws(() => parseJson('[[[[[1]]]]]', LIMITS), /more than 4 deep/);
  assert.throws(() => parseJson(`[${'1,'.repeat(12)}1]`, LIMITS), /more than 12 values/);
});
