/**
 * No token appears in anything the server writes. The real start command runs with auth on and a
 * server HF_TOKEN; callers use valid, invalid and malformed credentials over every route while the
 * Hub and the router misbehave (the router even quotes the credential back in its errors). Then
 * stdout, stderr and every response (bodies and headers) are searched for every token used.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { agentsDir, card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { rawRequest } from './support/http.ts';
import { startServerProcess, type ServerProcess } from './support/server.ts';

const ALICE = fakeToken('alice');
const BOB = fakeToken('bob');
const SERVER = fakeToken('server');
const UNKNOWN = fakeToken('unknown');
const ALL_TOKENS = [ALICE, BOB, SERVER, UNKNOWN];

let hub: FakeHub;
let router: FakeRouter;
let server: ServerProcess;
const seen: string[] = [];

before(async () => {
  hub = await startFakeHub({ [ALICE]: { name: 'alice' }, [BOB]: { name: 'bob' } });
  router = await startFakeRouter();
  const cards = agentsDir({
    'model.md': card({ name: 'model', model: 'hf.acme/chat', default: true }),
    'echo.md': card({ name: 'echo', model: 'passthrough' }),
  });
  server = await startServerProcess(
    { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_TOKEN: SERVER, HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
    ['--agent-cards', cards],
  );
});
after(async () => {
  await server?.stop();
  await hub.close();
  await router.close();
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const response = await rawRequest(server.url, method, path, { 'A2A-Version': '1.0', ...headers }, body === undefined ? undefined : JSON.stringify(body));
  seen.push(JSON.stringify(response.headers), response.body);
  return response;
}

const rpc = (method: string, params: unknown, headers: Record<string, string>) => call('POST', '/a2a/jsonrpc', headers, { jsonrpc: '2.0', id: 1, method, params });
const message = (text: string, extra: Record<string, unknown> = {}) => ({ message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...extra } });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

test('a busy, hostile session leaves no token in any output or response', { timeout: 60_000 }, async () => {
  // Ordinary work by two callers, over both bindings, streaming and not.
  const sent = await rpc('SendMessage', message('hello'), bearer(ALICE));
  assert.equal(sent.status, 200);
  const taskId = JSON.parse(sent.body).result.task.id;
  await rpc('GetTask', { id: taskId }, bearer(ALICE));
  await rpc('ListTasks', {}, bearer(ALICE));
  await rpc('GetTask', { id: taskId }, bearer(BOB));
  await rpc('SendStreamingMessage', message('stream this'), bearer(BOB));
  await call('POST', '/a2a/rest/message:send', { 'X-HF-Authorization': `Bearer ${BOB}`, 'Content-Type': 'application/json' }, message('rest'));
  await call('GET', `/a2a/rest/tasks/${taskId}`, bearer(BOB));
  await call('POST', '/a2a/jsonrpc', bearer(ALICE), { jsonrpc: '2.0', id: 2, method: 'message/send', params: { message: { kind: 'message', messageId: 'x', role: 'user', parts: [{ kind: 'text', text: 'v03' }] } } });

  // Refused credentials, including ones that carry a real token in the wrong shape.
  await rpc('SendMessage', message('x'), bearer(UNKNOWN));
  await rpc('SendMessage', message('x'), { Authorization: `Basic ${ALICE}` });
  await rpc('SendMessage', message('x'), { Authorization: ALICE });
  await rpc('SendMessage', message('x'), { Authorization: `Bearer ${ALICE} ${BOB}` });
  await rpc('SendMessage', message('x'), { Authorization: `Bearer ${UNKNOWN}`, 'X-HF-Authorization': `Bearer ${ALICE}` });
  await call('GET', `/a2a/rest/tasks/${ALICE}`, bearer(ALICE));
  await call('GET', `/no/such/${ALICE}`, bearer(ALICE));

  // Upstream failures, with upstreams that quote the credential back.
  for (const status of [400, 401, 402, 403, 404, 422, 429, 500]) {
    router.script = (request) => ({ status, message: `refused ${String(request.headers.authorization)}` });
    await rpc('SendMessage', message('x'), bearer(ALICE));
  }
  router.script = () => ({ breakAfter: ['partial '] });
  await rpc('SendStreamingMessage', message('x'), bearer(ALICE));
  router.script = () => ({ text: ['a'], error: `upstream saw Bearer ${ALICE}` });
  await rpc('SendMessage', message('x'), bearer(ALICE));
  for (const mode of [{ kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfter: '7' }, { kind: 'garbage' }] as const) {
    hub.mode = mode;
    await rpc('SendMessage', message('x'), bearer(fakeToken('fresh')));
  }
  hub.mode = { kind: 'normal' };

  // Public surfaces.
  for (const path of ['/', '/healthz', '/.well-known/agent-card.json', '/.well-known/oauth-protected-resource']) await call('GET', path);
  await call('GET', '/.well-known/agent-card.json', { 'A2A-Version': '' });

  // The test can fail: the tokens were really in play.
  assert.ok(router.requests.some((request) => request.headers.authorization === `Bearer ${ALICE}`));
  assert.ok(hub.checks.some((check) => check.authorization === `Bearer ${UNKNOWN}`));

  await server.stop();
  const everything = [...seen, server.output()].join('\n');
  assert.ok(server.output().includes('serving agents'), 'the server output was captured');
  for (const token of ALL_TOKENS) {
    assert.ok(!everything.includes(token), `a token appeared in the output or a response: ${token.slice(0, 8)}...`);
    assert.ok(!everything.includes(token.slice(3)), 'a token without its hf_ prefix appeared in the output or a response');
  }
});
