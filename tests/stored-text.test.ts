/**
 * An answer streamed in many pieces is kept as one string, in its task and in its conversation: the
 * stores weigh text by its bytes, and V8 holds a string built piece by piece as a tree of its pieces
 * until something joins them. Measured here with nothing joining them: 14.6 MB of heap for 1.2 MB
 * of kept answers. The real server in this process, a model that streams each answer in 20,000
 * pieces, and the heap measured after full collections.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RunningServer } from '../src/server.ts';
import { card } from './support/agents.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { startTestServer } from './support/server.ts';

const PIECES = Array.from({ length: 20_000 }, (_, i) => `w${i % 10} `);
const ANSWER = PIECES.join('');
const TASKS = 10;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  router = await startFakeRouter(() => ({ text: PIECES }));
  server = await startTestServer({
    cards: { 'talker.md': card({ name: 'talker', model: 'hf.acme/talker', default: true }) },
    env: { HF_TOKEN: 'hf_storedTextTestToken0123456789', HF_INFERENCE_ENDPOINT: router.url },
  });
});
after(async () => {
  await server.close();
  await router.close();
});

async function heapAfterCollection(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

test('answers streamed in 20,000 pieces are kept at about the size of their text, not of their pieces', async () => {
  // One warm-up turn, so that code and caches made on first use are not counted.
  await send('warm-up');
  const before = await heapAfterCollection();
  // returnImmediately: nothing reads the finished tasks (a read would join their pieces on the way out).
  const ids = await Promise.all(Array.from({ length: TASKS }, (_, i) => send(`m${i}`, true)));
  await allCompleted(TASKS + 1);
  const grown = (await heapAfterCollection()) - before;

  // Each finished turn keeps its answer twice (the task's, the conversation's), at one byte a
  // character: 1.2 MB. The rest of what grows is mostly code compiled on the way (about 1.5 MB).
  const kept = TASKS * 2 * ANSWER.length;
  assert.ok(grown < 4 * kept, `the heap grew by ${grown} bytes for ${kept} bytes of kept answers`);

  // And the tasks did finish, whole.
  const task = await (await post({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: ids[0] } })).json();
  assert.equal(task.result.status.state, 'TASK_STATE_COMPLETED');
  assert.equal(task.result.artifacts[0].parts[0].text, ANSWER);
});

/** Waits until `count` tasks have completed, asking with ListTasks (which reads neither answers nor history). */
async function allCompleted(count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const listed = await (await post({ jsonrpc: '2.0', id: 'list', method: 'ListTasks', params: { pageSize: 100, status: 'TASK_STATE_COMPLETED' } })).json();
    if (listed.result.tasks.length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`${count} tasks did not complete within 10 s`);
}

function post(body: unknown): Promise<Response> {
  return fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: { 'A2A-Version': '1.0', 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function send(messageId: string, returnImmediately = false): Promise<string> {
  const response = await post({
    jsonrpc: '2.0',
    id: messageId,
    method: 'SendMessage',
    params: { message: { messageId, role: 'ROLE_USER', parts: [{ text: 'talk' }] }, configuration: { returnImmediately } },
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.result.task.id;
}
