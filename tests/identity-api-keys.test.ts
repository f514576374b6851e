/**
 * API keys (A2A_API_KEYS): several at once, so a key is rotated without downtime; accepted as
 * `Authorization: Bearer` and as `X-API-Key`; compared in constant time; named in logs by their id
 * and never by their value; each key a caller of its own; and their downstream calls use exactly the
 * credential the operator named (the Space's HF_TOKEN, or none, which says so).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { ApiKeyMatcher } from '../src/auth/api-keys.ts';
import { startTestServer, startServerProcess, withTestServer, type ServerProcess } from './support/server.ts';
import { agentsDir, card } from './support/agents.ts';
import { fakeToken } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { rawRequest } from './support/http.ts';
import { artifactText, clientFor, userMessage, v03ClientFor } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const KEY_CI = `ci-${crypto.randomUUID()}`;
const KEY_OPS = `ops-${crypto.randomUUID()}`;
const SERVER_TOKEN = fakeToken('server');

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
  'model.md': card({ name: 'model', model: 'hf.acme/chat', use_history: false }),
};

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  router = await startFakeRouter();
  server = await startTestServer({
    cards: CARDS,
    env: { A2A_API_KEYS: `ci:${KEY_CI}, ops:${KEY_OPS}`, A2A_API_KEYS_CREDENTIAL: 'server', HF_TOKEN: SERVER_TOKEN, HF_INFERENCE_ENDPOINT: router.url },
  });
});
after(async () => {
  await server.close();
  await router.close();
});

const SEND = (agent?: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'hi' }], ...(agent && { metadata: { agent } }) } } });
const send = (base: string, headers: Record<string, string>, agent?: string) => rawRequest(base, 'POST', '/a2a/jsonrpc', { 'A2A-Version': '1.0', ...headers }, SEND(agent));

/** The SDK client with the key in X-API-Key. */
async function keyClient(url: string, key: string) {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('X-API-Key', key);
    return fetch(input, { ...init, headers });
  };
  return new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] })).createFromUrl(url);
}

describe('two keys at once', () => {
  test('both keys work, as a bearer token and in X-API-Key, with the SDK client', async () => {
    for (const key of [KEY_CI, KEY_OPS]) {
      for (const client of [await clientFor(server.url, 'jsonrpc', key), await clientFor(server.url, 'rest', key), await keyClient(server.url, key)]) {
        const task = (await client.sendMessage(userMessage('with a key'))) as Task;
        assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
        assert.equal(artifactText(task), 'with a key');
      }
    }
  });

  test('each key is a caller of its own: one key\'s tasks are "not found" for the other', async () => {
    const ci = await clientFor(server.url, 'jsonrpc', KEY_CI);
    const ops = await clientFor(server.url, 'jsonrpc', KEY_OPS);
    const task = (await ci.sendMessage(userMessage('ci only'))) as Task;
    assert.equal((await ci.getTask({ id: task.id, tenant: '', historyLength: undefined })).id, task.id);
    await assert.rejects(ops.getTask({ id: task.id, tenant: '', historyLength: undefined }), /not found/i);
  });

  test('an A2A 0.3 client (@a2a-js/sdk 0.3.14) gets in with a key too', async () => {
    const client = await v03ClientFor(server.url, KEY_OPS);
    const result = (await client.sendMessage({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'old client' }] } })) as { kind: string };
    assert.equal(result.kind, 'task');
  });

  test('X-API-Key wins over Authorization (a private Space\'s proxy needs the caller\'s Hugging Face token there)', async () => {
    const response = await send(server.url, { 'X-API-Key': KEY_CI, Authorization: `Bearer ${fakeToken('for-the-proxy')}` });
    assert.equal(response.status, 200, response.body);
  });
});

describe('refusals', () => {
  test('a wrong key, a near miss and an empty X-API-Key are 401 with an api-key challenge and words to act on', async () => {
    for (const [headers, message] of [
      [{ Authorization: 'Bearer not-a-key-of-this-server' }, /not one of this server's keys/],
      [{ 'X-API-Key': `${KEY_CI.slice(0, -1)}x` }, /not one of this server's keys/],
      [{ 'X-API-Key': '' }, /X-API-Key header is empty/],
      [{}, /needs a credential/],
    ] as const) {
      const response = await send(server.url, headers);
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.match(String(response.headers['www-authenticate']), /^Bearer realm="api-key", error="invalid_(token|request)"/);
      const text = JSON.parse(response.body).error.message;
      assert.match(text, message);
      assert.match(text, /an API key as "X-API-Key: <key>" or "Authorization: Bearer <key>"/);
    }
  });

  test('a Hugging Face token is not taken where only keys are: said so, and the Hub is not asked', async () => {
    const response = await send(server.url, { Authorization: `Bearer ${fakeToken('someone')}` });
    assert.equal(response.status, 401);
    assert.match(JSON.parse(response.body).error.message, /not of a kind this server takes \(it takes no Hugging Face tokens\)/);
  });

  test('a removed key no longer works after a restart; the one kept does (rotation without downtime)', async () => {
    await withTestServer({ cards: CARDS, env: { A2A_API_KEYS: `ops:${KEY_OPS}`, A2A_API_KEYS_CREDENTIAL: 'none' } }, async (rotated) => {
      assert.equal((await send(rotated.url, { Authorization: `Bearer ${KEY_CI}` })).status, 401);
      assert.equal((await send(rotated.url, { 'X-API-Key': KEY_CI })).status, 401);
      assert.equal((await send(rotated.url, { Authorization: `Bearer ${KEY_OPS}` })).status, 200);
    });
  });
});

describe('downstream credential, as the operator named it', () => {
  test('A2A_API_KEYS_CREDENTIAL=server: the model call carries the Space\'s HF_TOKEN', async () => {
    const before = router.requests.length;
    const response = await send(server.url, { 'X-API-Key': KEY_CI }, 'model');
    assert.equal(JSON.parse(response.body).result.task.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(router.requests[before]!.headers.authorization, `Bearer ${SERVER_TOKEN}`);
  });

  test('A2A_API_KEYS_CREDENTIAL=none: a task that needs Hugging Face fails saying so, and the server\'s HF_TOKEN is not used by accident', async () => {
    await withTestServer(
      { cards: CARDS, env: { A2A_API_KEYS: `ci:${KEY_CI}`, A2A_API_KEYS_CREDENTIAL: 'none', HF_TOKEN: SERVER_TOKEN, HF_INFERENCE_ENDPOINT: router.url } },
      async (other) => {
        const before = router.requests.length;
        const response = await send(other.url, { 'X-API-Key': KEY_CI }, 'model');
        const task = JSON.parse(response.body).result.task;
        assert.equal(task.status.state, 'TASK_STATE_FAILED');
        assert.match(task.status.message.parts[0].text, /callers with an API key have no Hugging Face credential on this server \(A2A_API_KEYS_CREDENTIAL=none\)/);
        assert.equal(router.requests.length, before, 'no model call was made');
        // An agent that calls no Hugging Face service still works.
        assert.equal(JSON.parse((await send(other.url, { 'X-API-Key': KEY_CI })).body).result.task.status.state, 'TASK_STATE_COMPLETED');
      },
    );
  });
});

describe('the card', () => {
  test('1.0 and 0.3 shapes advertise an API key scheme, on the card and every skill', async () => {
    const v1 = await (await fetch(`${server.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    assert.deepEqual(v1.securitySchemes.api_key.apiKeySecurityScheme, { location: 'header', name: 'X-API-Key', description: v1.securitySchemes.api_key.apiKeySecurityScheme.description });
    assert.deepEqual(v1.securityRequirements, [{ schemes: { api_key: {} } }]);
    for (const skill of v1.skills) assert.deepEqual(skill.securityRequirements, v1.securityRequirements);
    const v03 = await (await fetch(`${server.url}/.well-known/agent-card.json`)).json();
    assert.equal(v03.securitySchemes.api_key.type, 'apiKey');
    assert.equal(v03.securitySchemes.api_key.in, 'header');
    assert.equal(v03.securitySchemes.api_key.name, 'X-API-Key');
    assert.deepEqual(v03.security, [{ api_key: [] }]);
    const text = JSON.stringify([v1, v03]);
    assert.ok(!text.includes(KEY_CI) && !text.includes(KEY_OPS));
  });
});

describe('constant-time comparison', () => {
  /** Median of many timed rounds of `match(value)`, interleaved with the other candidates so drift hits all alike. */
  function medians(matcher: ApiKeyMatcher, candidates: string[], rounds = 31, perRound = 2_000): number[] {
    const samples = candidates.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      candidates.forEach((candidate, i) => {
        const started = process.hrtime.bigint();
        for (let n = 0; n < perRound; n++) matcher.match(candidate);
        samples[i]!.push(Number(process.hrtime.bigint() - started));
      });
    }
    return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
  }

  /**
   * The two timings are within 20% of each other. On a shared machine another process can skew one
   * measurement, so up to three are taken: a real leak shows in every one of them, noise rarely twice.
   */
  function assertAlike(measure: () => number[], what: string): void {
    const ratios: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const [a, b] = measure();
      const ratio = b! / a!;
      if (ratio > 0.8 && ratio < 1.25) return;
      ratios.push(ratio);
    }
    assert.fail(`${what} = ${ratios.map((r) => r.toFixed(3)).join(', ')} in three measurements`);
  }

  test('how long a wrong key takes does not depend on how much of it is right', () => {
    const key = 'k'.repeat(16) + crypto.randomUUID().replace(/-/g, '');
    const matcher = new ApiKeyMatcher([{ id: 'a', key }, { id: 'b', key: `other-${crypto.randomUUID()}` }]);
    const wrongFirst = `x${key.slice(1)}`; // wrong from the first character
    const wrongLast = `${key.slice(0, -1)}x`; // right but for the last
    assert.equal(matcher.match(key), 'a');
    assert.equal(matcher.match(wrongFirst), undefined);
    assert.equal(matcher.match(wrongLast), undefined);
    medians(matcher, [wrongFirst, wrongLast], 5); // warm up
    // A byte-by-byte comparison would make the near miss take measurably longer; digests make both alike.
    assertAlike(() => medians(matcher, [wrongFirst, wrongLast]), 'near miss / far miss');
  });

  test('which key matched does not change the time either: every key is compared every time', () => {
    const keys = Array.from({ length: 4 }, (_, i) => ({ id: `k${i}`, key: `key-${i}-${crypto.randomUUID()}` }));
    const matcher = new ApiKeyMatcher(keys);
    medians(matcher, [keys[0]!.key, keys[3]!.key], 5);
    assertAlike(() => medians(matcher, [keys[0]!.key, keys[3]!.key]), 'last key / first key');
  });
});

describe('as a process: keys never reach a log line or a response, and the audit names key ids', () => {
  let processServer: ServerProcess;
  const seen: string[] = [];
  before(async () => {
    processServer = await startServerProcess({ A2A_API_KEYS: `ci:${KEY_CI},${KEY_OPS}`, A2A_API_KEYS_CREDENTIAL: 'none', LOG_LEVEL: 'debug' }, ['--agent-cards', agentsDir(CARDS)]);
  });
  after(() => processServer?.stop());

  test('good, wrong and near-miss keys over both headers leave no key anywhere; each decision is one audit line', async () => {
    const attempts: Array<Record<string, string>> = [
      { Authorization: `Bearer ${KEY_CI}` },
      { 'X-API-Key': KEY_OPS },
      { 'X-API-Key': `${KEY_CI}x` },
      { Authorization: `Bearer ${KEY_OPS.slice(0, -2)}` },
      { Authorization: `Basic ${KEY_CI}` },
      { Authorization: `Bearer ${KEY_CI} ${KEY_OPS}` },
    ];
    for (const headers of attempts) {
      const response = await send(processServer.url, headers, 'model');
      seen.push(JSON.stringify(response.headers), response.body);
    }
    await processServer.stop();
    const output = processServer.output();
    for (const secret of [KEY_CI, KEY_OPS, KEY_CI.slice(3), KEY_OPS.slice(4, -2)]) {
      assert.ok(![...seen, output].some((text) => text.includes(secret)), `a key appeared: ${secret.slice(0, 6)}...`);
    }
    const audit = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((record) => record.message === 'authentication');
    assert.equal(audit.length, attempts.length, 'one audit line per decision');
    assert.deepEqual(audit.map((record) => record.outcome), ['admitted', 'admitted', 'refused', 'refused', 'refused', 'refused']);
    assert.equal(audit[0].caller, 'key:ci');
    assert.equal(audit[0].keyId, 'ci');
    assert.match(audit[1].keyId, /^key-[0-9a-f]{12}$/, 'an unnamed key is named by a fingerprint');
    assert.ok(audit.every((record) => record.requestId && record.scheme), 'each line has the request id and the scheme');
    assert.equal(audit[2].scheme, 'api-key');
    assert.match(audit[2].reason, /invalid_token/);
  });
});
