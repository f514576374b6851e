/**
 * Two callers at once never see each other's token, task, context or history. 200 streamed
 * requests from 50 callers are held in flight together at the router; every model call must carry
 * exactly its own caller's token, every answer must be its own, and no caller can read, cancel,
 * follow or continue another's task, or see another's conversation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { artifactText, clientFor, userMessage } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const CALLERS = 50;
const PER_CALLER = 4;
const IN_FLIGHT = CALLERS * PER_CALLER;

const callers = Array.from({ length: CALLERS }, (_, i) => ({ name: `caller${i}`, token: fakeToken(`caller${i}`) }));
const ownerOfToken = new Map(callers.map((c) => [c.token, c.name]));

let hub: FakeHub;
let router: FakeRouter;
let server: RunningServer;
const clients = new Map<string, Client>();

/** Resolves once `count` model calls are waiting at the router at the same time. */
function barrier(count: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    arrive: async () => {
      if (++arrived >= count) open();
      await opened;
    },
    get arrived() {
      return arrived;
    },
  };
}

before(async () => {
  hub = await startFakeHub(Object.fromEntries(callers.map((c) => [c.token, { name: c.name }])));
  router = await startFakeRouter();
  server = await startTestServer({
    cards: { 'model.md': card({ name: 'model', model: 'hf.acme/chat', default: true }) },
    env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url, HF_TOKEN: fakeToken('server') },
  });
  for (const caller of callers) clients.set(caller.name, await clientFor(server.url, 'jsonrpc', caller.token));
});
after(async () => {
  await server.close();
  await hub.close();
  await router.close();
});

interface Outcome {
  caller: string;
  text: string;
  task: Task;
}

test(`${IN_FLIGHT} streamed requests from ${CALLERS} callers in flight at once: each model call carries its own caller's token`, { timeout: 60_000 }, async () => {
  const gate = barrier(IN_FLIGHT);
  router.script = async (request) => {
    await gate.arrive();
    const last = request.body.messages.at(-1).content as string;
    return { text: `You said: ${last}`, delayMs: 5 };
  };

  const runs: Array<Promise<Outcome>> = [];
  for (const caller of callers) {
    for (let n = 0; n < PER_CALLER; n++) {
      const text = `I am ${caller.name}, request ${n}`;
      runs.push(
        (async () => {
          let task: Task | undefined;
          const events: StreamResponse[] = [];
          for await (const event of clients.get(caller.name)!.sendMessageStream(userMessage(text))) {
            events.push(event);
            if (event.payload?.$case === 'task') task = event.payload.value;
          }
          const final = await clients.get(caller.name)!.getTask({ id: task!.id, tenant: '', historyLength: undefined });
          return { caller: caller.name, text, task: final };
        })(),
      );
    }
  }
  const outcomes = await Promise.all(runs);

  assert.ok(gate.arrived >= IN_FLIGHT, `only ${gate.arrived} model calls were in flight together`);
  assert.equal(router.requests.length, IN_FLIGHT);
  for (const request of router.requests) {
    const token = /^Bearer (.+)$/.exec(String(request.headers.authorization))?.[1];
    const claimed = /I am (caller\d+)/.exec(request.body.messages.at(-1).content)?.[1];
    assert.ok(token && claimed);
    assert.equal(ownerOfToken.get(token), claimed, `the model call for ${claimed} carried ${ownerOfToken.get(token)}'s token`);
    const others = JSON.stringify(request.body.messages).match(/caller\d+/g) ?? [];
    assert.ok(others.every((name) => name === claimed), `the model call for ${claimed} saw another caller's words`);
  }
  for (const outcome of outcomes) {
    assert.equal(outcome.task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(outcome.task), `You said: ${outcome.text}`);
  }
  assert.equal(hub.checks.length, CALLERS, 'one token check per caller, not per request');

  // Nobody can reach anybody else's task, whichever way they ask.
  for (const [i, outcome] of outcomes.entries()) {
    const other = outcomes[(i + PER_CALLER) % outcomes.length]!;
    assert.notEqual(other.caller, outcome.caller);
    const client = clients.get(outcome.caller)!;
    const id = other.task.id;
    await assert.rejects(client.getTask({ id, tenant: '', historyLength: undefined }), /not found/i, 'get');
    await assert.rejects(client.cancelTask({ id, tenant: '', metadata: {} }), /not found/i, 'cancel');
    await assert.rejects(drain(client.resubscribeTask({ id, tenant: '' })), /not found/i, 'subscribe');
    await assert.rejects(client.sendMessage(userMessage('continue', { taskId: id, contextId: other.task.contextId })), /not found/i, 'continue');
    const listed = await client.listTasks({ tenant: '', contextId: '', status: 0, pageSize: 100, pageToken: '', statusTimestampAfter: undefined });
    assert.ok(listed.tasks.every((task) => outcomes.some((o) => o.caller === outcome.caller && o.task.id === task.id)), 'list shows only the caller\'s own tasks');
    if (i >= 20) break; // a sample is enough; each check above is the same code path for every pair
  }
});

test('a context id is the caller\'s own: reusing another caller\'s contextId does not reveal its history', async () => {
  router.script = (request) => ({ text: `You said: ${request.body.messages.at(-1).content}` });
  const [alice, bob] = [callers[0]!, callers[1]!];
  const first = (await clients.get(alice.name)!.sendMessage(userMessage('my secret plan is tea'))) as Task;
  const before = router.requests.length;
  const bobs = (await clients.get(bob.name)!.sendMessage(userMessage('what was said here?', { contextId: first.contextId }))) as Task;
  assert.equal(bobs.status?.state, TaskState.TASK_STATE_COMPLETED);
  const seen = JSON.stringify(router.requests[before]!.body.messages);
  assert.doesNotMatch(seen, /secret plan/);
  const alices = (await clients.get(alice.name)!.sendMessage(userMessage('and again?', { contextId: first.contextId }))) as Task;
  assert.equal(alices.status?.state, TaskState.TASK_STATE_COMPLETED);
  assert.match(JSON.stringify(router.requests.at(-1)!.body.messages), /secret plan/, 'Alice still has her own history');
  assert.doesNotMatch(JSON.stringify(router.requests.at(-1)!.body.messages), /what was said here/, 'and Bob\'s turn is not in it');
});

async function drain(stream: AsyncGenerator<unknown>): Promise<void> {
  for await (const _ of stream) {
    // consume
  }
}
