/**
 * Token checks against the Hub: cached (one upstream check for a burst of first requests with one
 * token, accepted and rejected answers remembered for a while, then asked again), and failing
 * closed: a Hub that is down, slow, rate-limiting or talking nonsense is a 503 with Retry-After,
 * never a pass, and the server stays up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startTestServer, withTestServer } from './support/server.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { rawRequest } from './support/http.ts';
import type { RunningServer } from '../src/server.ts';
import { HubTokenVerifier } from '../src/auth/hub-verifier.ts';
import { inspect } from 'node:util';
import { Caller } from '../src/auth/caller.ts';
import { Credential } from '../src/auth/credentials.ts';

const SEND = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'm', role: 'ROLE_USER', parts: [{ text: 'hi' }] } } });
const send = (server: RunningServer, token: string) => rawRequest(server.url, 'POST', '/a2a/jsonrpc', { Authorization: `Bearer ${token}`, 'A2A-Version': '1.0' }, SEND);
/** The verifier's clock, moved by hand so cache lifetimes are tested without waiting. */
const clock = { now: Date.now() };
const advance = (ms: number) => (clock.now += ms);

describe('caching', () => {
  let hub: FakeHub;
  let server: RunningServer;
  before(async () => {
    hub = await startFakeHub();
    server = await startTestServer({
      // The burst below is one caller's 100 sends at once: above the per-caller cap on running turns, which is not what it tests.
      handlerLimits: { maxRunningPerCaller: 100 },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url },
      verifierOptions: { acceptedTtlMs: 60_000, rejectedTtlMs: 10_000, now: () => clock.now },
    });
  });
  after(async () => {
    await server.close();
    await hub.close();
  });

  test('100 concurrent first requests with one new token make one upstream check', async () => {
    const token = fakeToken('burst');
    hub.users.set(token, { name: 'burst' });
    hub.mode = { kind: 'normal', delayMs: 150 };
    const before = hub.checks.length;
    const responses = await Promise.all(Array.from({ length: 100 }, () => send(server, token)));
    hub.mode = { kind: 'normal' };
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    assert.equal(hub.checks.length - before, 1);
  });

  test('an accepted token is not checked again until its cache entry expires', async () => {
    const token = fakeToken('expiry');
    hub.users.set(token, { name: 'expiry' });
    const before = hub.checks.length;
    assert.equal((await send(server, token)).status, 200);
    assert.equal((await send(server, token)).status, 200);
    assert.equal(hub.checks.length - before, 1);
    advance(59_000);
    assert.equal((await send(server, token)).status, 200);
    assert.equal(hub.checks.length - before, 1, 'still cached just before the lifetime ends');
    advance(2_000);
    assert.equal((await send(server, token)).status, 200);
    assert.equal(hub.checks.length - before, 2, 'checked again after the entry expired');
  });

  test('a token revoked at the Hub stops working once its entry expires', async () => {
    const token = fakeToken('revoked');
    hub.users.set(token, { name: 'revoked' });
    assert.equal((await send(server, token)).status, 200);
    hub.users.delete(token);
    advance(61_000);
    assert.equal((await send(server, token)).status, 401);
  });

  test('a rejected token is remembered briefly, then asked about again', async () => {
    const token = fakeToken('rejected');
    const before = hub.checks.length;
    assert.equal((await send(server, token)).status, 401);
    assert.equal((await send(server, token)).status, 401);
    assert.equal(hub.checks.length - before, 1);
    hub.users.set(token, { name: 'late' });
    advance(11_000);
    assert.equal((await send(server, token)).status, 200, 'a token that became valid works after the negative entry expires');
  });

  test('only so many new tokens are checked at once; the rest get 503 and may retry', async () => {
    await withTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url }, verifierOptions: { maxConcurrentChecks: 2 } }, async (small) => {
      const tokens = Array.from({ length: 5 }, (_, i) => fakeToken(`crowd${i}`));
      for (const token of tokens) hub.users.set(token, { name: token.slice(0, 10) });
      hub.mode = { kind: 'normal', delayMs: 200 };
      const statuses = (await Promise.all(tokens.map((token) => send(small, token)))).map((r) => r.status).sort();
      hub.mode = { kind: 'normal' };
      assert.deepEqual(statuses, [200, 200, 503, 503, 503]);
    });
  });

  test('a token past its expiresAt is checked again even inside the cache lifetime', async () => {
    const token = fakeToken('short');
    hub.users.set(token, { name: 'short', expiresAt: new Date(clock.now + 1_000).toISOString() });
    const before = hub.checks.length;
    assert.equal((await send(server, token)).status, 200);
    advance(2_000);
    hub.users.delete(token);
    assert.equal((await send(server, token)).status, 401);
    assert.equal(hub.checks.length - before, 2);
  });

  test('the verified caller is who the Hub says: stable id, name, kind of account, organizations', async () => {
    const token = fakeToken('profile');
    hub.users.set(token, { name: 'ada', id: 'id-0042', type: 'app', orgs: ['acme', 'huggingface'] });
    const identity = await new HubTokenVerifier({ hubUrl: hub.url }).verify(token);
    assert.equal(identity.id, 'id-0042', 'tasks belong to the id, which survives a rename');
    assert.deepEqual(identity.profile, { name: 'ada', type: 'app', orgs: ['acme', 'huggingface'] });
    const caller = new Caller({ id: identity.id, credential: new Credential(token, 'caller'), authenticated: true, profile: identity.profile });
    assert.ok(!JSON.stringify(caller).includes(token), 'the caller prints without its token');
    assert.ok(!inspect(caller, { depth: 5 }).includes(token), 'a debug print of the caller shows no token');
    assert.equal(caller.credential?.reveal(), token);
    assert.deepEqual(JSON.parse(JSON.stringify(caller)).profile.orgs, ['acme', 'huggingface']);
  });

  test('the Hub is asked with the caller\'s token as a bearer token', () => {
    assert.ok(hub.checks.every((check) => /^Bearer hf_/.test(check.authorization ?? '')));
  });
});

describe('failing closed', () => {
  let hub: FakeHub;
  let server: RunningServer;
  before(async () => {
    hub = await startFakeHub();
    server = await startTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url }, verifierOptions: { timeoutMs: 300, now: () => clock.now } });
  });
  after(async () => {
    await server.close();
    await hub.close();
  });

  const cases: Array<[string, FakeHub['mode'], RegExp, string?]> = [
    ['answers 500', { kind: 'status', status: 500 }, /HTTP 500/],
    ['answers 502', { kind: 'status', status: 502 }, /HTTP 502/],
    ['rate-limits with Retry-After', { kind: 'status', status: 429, retryAfter: '42' }, /rate-limiting/, '42'],
    ['rate-limits without Retry-After', { kind: 'status', status: 429 }, /rate-limiting/, '30'],
    ['answers 404 (a wrong HF_ENDPOINT)', { kind: 'status', status: 404 }, /HTTP 404/],
    ['is too slow', { kind: 'hang' }, /did not answer within/],
    ['answers with something that is not whoami', { kind: 'garbage' }, /does not understand/],
  ];
  for (const [what, mode, message, retryAfter] of cases) {
    test(`a Hub that ${what} is a 503 with Retry-After; nothing runs`, async () => {
      hub.mode = mode;
      const token = fakeToken('unlucky');
      hub.users.set(token, { name: 'unlucky' });
      const response = await send(server, token);
      hub.mode = { kind: 'normal' };
      assert.equal(response.status, 503);
      assert.ok(Number(response.headers['retry-after']) > 0);
      if (retryAfter) assert.equal(response.headers['retry-after'], retryAfter);
      const body = JSON.parse(response.body);
      assert.match(body.error.message, message);
      assert.match(body.error.message, /Nothing was run/);
      advance(301_000); // past any pause a rate-limiting Hub asked for
      assert.equal((await send(server, token)).status, 200, 'the failure was not cached: the next check passes');
    });
  }

  test('while the Hub rate-limits, new tokens are not sent to it until its Retry-After has passed', async () => {
    hub.mode = { kind: 'status', status: 429, retryAfter: '60' };
    assert.equal((await send(server, fakeToken('first'))).status, 503);
    hub.mode = { kind: 'normal' };
    const token = fakeToken('patient');
    hub.users.set(token, { name: 'patient' });
    const before = hub.checks.length;
    const paused = await send(server, token);
    assert.equal(paused.status, 503);
    assert.equal(paused.headers['retry-after'], '60');
    assert.equal(hub.checks.length, before, 'the Hub was not asked');
    advance(61_000);
    assert.equal((await send(server, token)).status, 200);
  });

  test('a value not shaped like a Hugging Face token is refused without asking the Hub', async () => {
    const before = hub.checks.length;
    for (const value of ['abc', 'sk-proj-1234567890abcdef', 'hf_short', `hf_${'a'.repeat(300)}`]) {
      const response = await send(server, value);
      assert.equal(response.status, 401, value);
      assert.match(JSON.parse(response.body).error.message, /not shaped like a Hugging Face token/);
    }
    assert.equal(hub.checks.length, before);
  });

  test('a Hub that cannot be reached at all is a 503, and the server keeps serving', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    await withTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: `http://127.0.0.1:${closedPort}` } }, async (isolated) => {
      const response = await send(isolated, fakeToken('nobody'));
      assert.equal(response.status, 503);
      assert.match(JSON.parse(response.body).error.message, /could not be reached/);
      assert.equal((await rawRequest(isolated.url, 'GET', '/healthz')).status, 200);
    });
  });
});
