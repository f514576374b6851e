/**
 * The redaction entry point: every shape of credential the patterns know is replaced, wherever it
 * sits in the text (glued to a word, URL-encoded, as a header value), so is every secret the server
 * was given, and the quick test that skips text with nothing secret-shaped never skips one that has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAY_HOLD_A_SECRET, SECRET_PATTERNS } from '../src/auth/credentials.ts';
import { redact, registerSecret } from '../src/util/redact.ts';

const TOKEN = 'hf_AbCdEfGhIjKlMnOpQrStUvWx';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
const SAMPLES = [
  `Authorization: Bearer ${TOKEN}`,
  `bearer ${JWT}`,
  'Basic YWxpY2U6c2VjcmV0cGFzcw==',
  `Bearer%20${TOKEN}`,
  `token_${TOKEN}`,
  `x${TOKEN}`,
  `hf%5F${TOKEN.slice(3)}`,
  `{"access_token":"abcdefgh12345678"}`,
  'api_key=abcdefgh12345678',
  'secret: abcdefgh12345678',
  `id_token=${JWT}`,
];

for (const sample of SAMPLES) {
  test(`redacted: ${sample.slice(0, 24)}...`, () => {
    assert.ok(MAY_HOLD_A_SECRET.test(sample), 'the quick test lets it through to the patterns');
    const out = redact(`upstream said: ${sample} (end)`);
    assert.match(out, /\[redacted\]/);
    for (const secret of [TOKEN, TOKEN.slice(3), JWT, 'abcdefgh12345678', 'YWxpY2U6c2VjcmV0cGFzcw']) assert.ok(!out.includes(secret), out);
  });
}

test('every pattern needs something the quick test looks for', () => {
  for (const [pattern] of SECRET_PATTERNS) {
    for (const sample of SAMPLES) {
      pattern.lastIndex = 0;
      if (pattern.test(sample)) assert.ok(MAY_HOLD_A_SECRET.test(sample), `${pattern} matched ${sample} but the quick test would skip it`);
    }
  }
});

test('property: wherever a pattern matches, the quick test does too', () => {
  // Text stitched from the patterns' own pieces, in any case and order, with noise between them.
  const pieces = ['hf', '_', '%5F', '%5f', 'Bearer', 'basic', ' ', '%20', '+', 'eyJ', 'EYJ', 'token', 'access_', 'api', '-', 'key', 'secret', '"', ':', '=', '.', 'Ab9', 'abcdefgh', '12345678', 'AbCdEfGhIjKl', 'eyJAbCdEfGhIjKl.AbCdEfGhIjKl.x', 'hf_AbCdEf9'];
  const text = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 3 })), { maxLength: 16 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(text, (sample) => {
      for (const [pattern] of SECRET_PATTERNS) {
        pattern.lastIndex = 0;
        if (pattern.test(sample)) return MAY_HOLD_A_SECRET.test(sample);
      }
      return true;
    }),
    { numRuns: 20_000 },
  );
});

test('a log line naming a Hugging Face caller ("hf:<id>") skips the patterns: the quick test looks for tokens, not the prefix', () => {
  assert.equal(MAY_HOLD_A_SECRET.test('{"message":"request","caller":"hf:64b1c2d3e4f5","status":200}'), false);
  assert.equal(MAY_HOLD_A_SECRET.test('{"caller":"hf:x","leak":"hf_AbCdEfGh"}'), true);
});

test('text with nothing secret-shaped is left as it is; a registered secret is replaced whatever its shape', () => {
  const plain = '{"message":"request","route":"/a2a/jsonrpc","status":200,"ms":0.4}';
  assert.equal(redact(plain), plain);
  registerSecret('plainlookingvalue42');
  assert.equal(redact('metrics key plainlookingvalue42 leaked'), 'metrics key [redacted] leaked');
});
