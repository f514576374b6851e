/**
 * A client that leaves a stream gives its stream slot back at once, not when the task's next event
 * comes: while a model is silent or a tool runs, a reloading page must not use up the caller's cap.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import type { RunningServer } from '../src/server.ts';

let router: FakeRouter;
let server: RunningServer;
let release: () => void = () => {};
const held = new Promise<void>((resolve) => (release = resolve));

before(async () => {
  // The model says one word, then nothing until released.
  router = await startFakeRouter(() => ({ text: ['first ', 'rest'], gate: (i) => (i === 0 ? Promise.resolve() : held) }));
  server = await startTestServer({
    cards: { 'slow.md': card({ name: 'slow', model: 'hf.acme/slow', default: true, use_history: false }) },
    env: { HF_TOKEN: fakeToken('server'), HF_INFERENCE_ENDPOINT: router.url },
    handlerLimits: { maxWatchingPerCaller: 3 },
  });
});
after(async () => {
  release();
  await server.close();
  await router.close();
});

const stream = (path: string, body: unknown, signal: AbortSignal) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0' }, body: JSON.stringify(body), signal });
const message = () => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'go' }] });

for (const [binding, path, body] of [
  ['JSON-RPC', '/a2a/jsonrpc', () => ({ jsonrpc: '2.0', id: 1, method: 'SendStreamingMessage', params: { message: message() } })],
  ['REST', '/a2a/rest/message:stream', () => ({ message: message() })],
] as const) {
  test(`${binding}: streams left while the model is silent free their slots at once; a fourth stream is taken`, async () => {
    for (let i = 0; i < 3; i++) {
      const leaving = new AbortController();
      const response = await stream(path, body(), leaving.signal);
      const reader = response.body!.getReader();
      await reader.read(); // the task's first frame
      leaving.abort();
    }
    for (let i = 0; i < 5 && server.requestHandler.watching > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(server.requestHandler.watching, 0, 'no stream is counted once its client has gone');
    const staying = new AbortController();
    const fourth = await stream(path, body(), staying.signal);
    assert.equal(fourth.status, 200);
    staying.abort();
  });
}
