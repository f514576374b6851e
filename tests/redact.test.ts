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

/**
 * Shapes an attacker test got into the log unredacted, each sent as a JSON-RPC id or method name:
 * [what it is, the text, the secret in it]. Log lines are redacted after JSON encoding, so each is
 * tried raw (an HTTP error body, a task status message) and JSON-encoded inside a log line, where a
 * quote reads \", a tab \t and a newline \n.
 */
const OPAQUE = 'Zk3Qm9Xv7Lp2Wn8Rt4Ys';
/** A token's body percent-encoded character by character: %41%62... */
const ENCODED = [...'AbCdEfGhIjKl'].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
const LEAKS: ReadonlyArray<readonly [string, string, string]> = [
  // 1. A name glued to another by "_": no \b before it.
  ['client_secret=', `client_secret=${OPAQUE}`, OPAQUE],
  ['oauth_token=', `oauth_token=${OPAQUE}`, OPAQUE],
  ['my_api_key=', `my_api_key=${OPAQUE}`, OPAQUE],
  ['x_Bearer', `x_Bearer ${OPAQUE}`, OPAQUE],
  // ... or after a newline, which JSON encoding turns into "\n" (a letter before the name).
  ['newline, then Bearer', `refused:\nBearer ${OPAQUE}`, OPAQUE],
  ['newline, then token=', `refused:\ntoken=${OPAQUE}`, OPAQUE],
  // 2. Name and value in quotes, inside a string value: \"access_token\":\"...\" once encoded.
  ['"access_token" in JSON text', `{"access_token":"${OPAQUE}Ab12Cd34Ef56Gh"}`, `${OPAQUE}Ab12Cd34Ef56Gh`],
  ['"password" in JSON text', `{"user":"alice","password":"${OPAQUE}"}`, OPAQUE],
  ['password=, with punctuation', 'login failed for password=P@ss:w0rd!#x9&user=alice', 'P@ss:w0rd!#x9'],
  ['passwd:', `passwd: ${OPAQUE}`, OPAQUE],
  // 3. Bearer and a token apart by a tab or a newline: "\t" / "\n" once encoded.
  ['Bearer, tab', `Bearer\t${OPAQUE}`, OPAQUE],
  ['Bearer, newline', `Bearer\n${OPAQUE}`, OPAQUE],
  ['Bearer, CRLF', `Authorization: Bearer\r\n ${OPAQUE}`, OPAQUE],
  // 4. A Hugging Face token with "hf_" percent-encoded throughout.
  ['%68%66%5F', `%68%66%5F${TOKEN.slice(3)}`, TOKEN.slice(3)],
  ['%68%66%5f, body encoded too', `%68%66%5f${ENCODED}`, ENCODED],
  // 5. A JWT with a short payload segment ("{}").
  ['JWT, payload "{}"', 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJlLWJ5dGVzLTEyMw', 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJlLWJ5dGVzLTEyMw'],
  // ... right after a percent-encoded character: an encoded redirect_uri, URL-encoded JSON.
  ['JWT after %3D', 'https://app.example/cb%3Fid_token%3DeyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz'],
  ['JWT after %22', '%7B%22jwt%22%3A%22eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz%22%7D', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz'],
];

/** `value` inside a log line as line() in src/util/log.ts writes it: a field of a JSON object. */
const logLine = (value: string) => `{"time":"2025-01-01T00:00:00.000Z","level":"warn","message":"bad request","id":${JSON.stringify(value)},"status":400}`;

/** Fails if any 6 characters in a row of `secret` are still in `out`. */
function assertNoRunOf(secret: string, out: string): void {
  for (let i = 0; i + 6 <= secret.length; i++) assert.ok(!out.includes(secret.slice(i, i + 6)), `"${secret.slice(i, i + 6)}" of the secret survived: ${out}`);
}

for (const [what, text, secret] of LEAKS) {
  test(`redacted, raw and JSON-encoded in a log line: ${what}`, () => {
    const raw = `upstream said: ${text} (end)`;
    assert.ok(MAY_HOLD_A_SECRET.test(raw), 'the quick test lets the raw text through to the patterns');
    const rawOut = redact(raw);
    assert.match(rawOut, /\[redacted\]/);
    assertNoRunOf(secret, rawOut);

    const line = logLine(text);
    assert.ok(MAY_HOLD_A_SECRET.test(line), 'the quick test lets the log line through to the patterns');
    const lineOut = redact(line);
    assertNoRunOf(secret, lineOut);
    const parsed = JSON.parse(lineOut) as { id: string; status: number };
    assert.equal(parsed.status, 400, 'the line is still one JSON object, its other fields intact');
    assert.match(parsed.id, /\[redacted\]/);
    // Encoded twice (a JSON body quoted in a field) the quotes read \\\" and a tab \\\\t: still redacted.
    assertNoRunOf(secret, redact(logLine(JSON.stringify({ error: text }))));
  });
}

test('ordinary prose is left as it was', () => {
  const prose = [
    'the token endpoint',
    'Bearer of bad news',
    'Bearer token required',
    'basic usage',
    'api key rotation docs',
    'secret garden',
    'my_password_field',
    'password: see the docs',
    'passwords: 3 attempts left',
    'reset_password_token: sent',
    'token=abc',
    'an id_token and an access_token were issued',
    'eyJ is how base64 of {" starts',
    'see the docs.\nBearer of bad news.\tsecret garden',
    // Code a tool or a model may quote: a name = value without a digit in the value is not a secret.
    'hf_token = os.environ["HF_TOKEN"]',
    'tokenizer.pad_token = tokenizer.eos_token',
    'Password: incorrect',
    'password: required.',
  ];
  for (const text of prose) {
    assert.equal(redact(text), text);
    assert.equal(redact(logLine(text)), logLine(text));
  }
  // As before: "hf_" and six more characters is the shape of a (perhaps cut) Hugging Face token,
  // which a Python name cannot be told apart from by shape; only the name itself goes.
  assert.equal(redact('from huggingface_hub import hf_hub_download'), 'from huggingface_hub import [redacted]');
});

test('every pattern needs something the quick test looks for', () => {
  for (const [pattern] of SECRET_PATTERNS) {
    for (const sample of [...SAMPLES, ...LEAKS.flatMap(([, text]) => [text, logLine(text)])]) {
      pattern.lastIndex = 0;
      if (pattern.test(sample)) assert.ok(MAY_HOLD_A_SECRET.test(sample), `${pattern} matched ${sample} but the quick test would skip it`);
    }
  }
});

test('property: wherever a pattern matches, the quick test does too', () => {
  // Text stitched from the patterns' own pieces, in any case and order, with noise between them.
  const pieces = ['hf', '_', '%5F', '%5f', 'Bearer', 'basic', ' ', '%20', '+', 'eyJ', 'EYJ', 'token', 'access_', 'api', '-', 'key', 'secret', '"', ':', '=', '.', 'Ab9', 'abcdefgh', '12345678', 'AbCdEfGhIjKl', 'eyJAbCdEfGhIjKl.AbCdEfGhIjKl.x', 'hf_AbCdEf9',
    'h', 'f', '%68', '%66', '%68%66%5F', 'passw', 'password', 'passwd', 'or', 'd', 'client_', '\\', '\\"', '\\t', '\\n', '\n', 'e30', 'eyJAbCdEfGhIjKl.e30.x'];
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

test('no pattern backtracks over a long run: 300,000 characters shaped to make it try (a run of "eyJ" ending in a dot, backslashes after "Bearer") are redacted in well under a second each', () => {
  // From every "eyJ" of a run the JWT pattern once scanned to the run's end again: 30,000 characters took 0.7 s, 300,000 over a minute.
  const shapes = ['eyJ'.repeat(100_000) + '.', 'eyJ-'.repeat(75_000) + '.', 'Bearer ' + '\\'.repeat(300_000), 'token' + '\\"'.repeat(150_000) + '=', 'token' + ' '.repeat(300_000) + 'x'];
  for (const text of shapes) {
    const started = performance.now();
    redact(text);
    const ms = performance.now() - started;
    assert.ok(ms < 2_000, `${JSON.stringify(text.slice(0, 12))}... took ${Math.round(ms)} ms`);
  }
});
