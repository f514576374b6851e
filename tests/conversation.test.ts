/**
 * Multi-turn conversations, seen from the model's side: what earlier turns the router receives for
 * a message, by contextId, agent, `use_history` and `--instance-scope`. The real server over HTTP,
 * the @a2a-js/sdk 1.x client, and the fake router recording every prompt.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { echoScript, startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { artifactText, clientFor, userMessage, type Binding } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const TOKEN = 'hf_conversationTestToken0123';
const SYSTEM = { role: 'system', content: 'You remember what you are told.' };

const CARDS = {
  'chat.md': card({ name: 'chat', model: 'hf.acme/chat', default: true }, SYSTEM.content),
  'other.md': card({ name: 'other', model: 'hf.acme/other-chat' }, SYSTEM.content),
  'forgetful.md': card({ name: 'forgetful', model: 'hf.acme/forgetful', use_history: false }, SYSTEM.content),
};

const user = (content: string) => ({ role: 'user', content });
/** The fake router's default answer to `text`. */
const answerTo = (text: string) => ({ role: 'assistant', content: `You said: ${text}` });

let router: FakeRouter;

before(async () => {
  router = await startFakeRouter();
});
after(async () => {
  await router.close();
});
beforeEach(() => {
  router.script = echoScript;
});

function startServer(argv: string[] = []): Promise<RunningServer> {
  return startTestServer({ cards: CARDS, argv, env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: router.url }, modelOptions: { backoffMs: 10 } });
}

/** Sends `text` (in `contextId`, to `agent`) and returns the completed task and the prompt the router saw. */
async function turn(client: Client, text: string, options: { contextId?: string; agent?: string } = {}) {
  const first = router.requests.length;
  const task = asTask(
    await client.sendMessage(userMessage(text, { contextId: options.contextId ?? '', metadata: options.agent ? { agent: options.agent } : undefined })),
  );
  assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
  assert.equal(router.requests.length, first + 1, 'one model call per turn');
  return { task, contextId: task.contextId, prompt: router.requests[first]!.body.messages };
}

describe('--instance-scope connection (the default)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  for (const binding of ['jsonrpc', 'rest'] as Binding[]) {
    test(`over ${binding}: each message in a context sees every earlier question and answer, in order`, async () => {
      const client = await clientFor(server.url, binding);
      const one = await turn(client, 'My name is Ada.');
      assert.deepEqual(one.prompt, [SYSTEM, user('My name is Ada.')]);
      assert.equal(artifactText(one.task), 'You said: My name is Ada.');

      const two = await turn(client, 'I like graphs.', { contextId: one.contextId });
      assert.equal(two.contextId, one.contextId);
      assert.deepEqual(two.prompt, [SYSTEM, user('My name is Ada.'), answerTo('My name is Ada.'), user('I like graphs.')]);

      const three = await turn(client, 'What is my name?', { contextId: one.contextId });
      assert.deepEqual(three.prompt, [
        SYSTEM,
        user('My name is Ada.'),
        answerTo('My name is Ada.'),
        user('I like graphs.'),
        answerTo('I like graphs.'),
        user('What is my name?'),
      ]);
    });
  }

  test('the remembered answer is the whole streamed answer, not its last chunk', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    router.script = () => ({ text: ['Nice ', 'to ', 'meet ', 'you, ', 'Ada.'] });
    const one = await turn(client, 'My name is Ada.');
    router.script = echoScript;
    const two = await turn(client, 'What is my name?', { contextId: one.contextId });
    assert.deepEqual(two.prompt, [SYSTEM, user('My name is Ada.'), { role: 'assistant', content: 'Nice to meet you, Ada.' }, user('What is my name?')]);
  });

  test('a message in another context sees none of the first context\'s turns', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const one = await turn(client, 'My name is Ada.');
    await turn(client, 'I like graphs.', { contextId: one.contextId });
    const elsewhere = await turn(client, 'What is my name?');
    assert.notEqual(elsewhere.contextId, one.contextId);
    assert.deepEqual(elsewhere.prompt, [SYSTEM, user('What is my name?')]);
  });

  test('another agent in the same context sees none of the first agent\'s turns', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const one = await turn(client, 'My name is Ada.', { agent: 'chat' });
    const other = await turn(client, 'What is my name?', { contextId: one.contextId, agent: 'other' });
    assert.equal(router.requests.at(-1)!.body.model, 'acme/other-chat');
    assert.deepEqual(other.prompt, [SYSTEM, user('What is my name?')]);
    // ...and the first agent still has its own turn.
    const back = await turn(client, 'Still there?', { contextId: one.contextId, agent: 'chat' });
    assert.deepEqual(back.prompt, [SYSTEM, user('My name is Ada.'), answerTo('My name is Ada.'), user('Still there?')]);
  });

  test('use_history: false: a second message in the same context sees no earlier turns', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const one = await turn(client, 'My name is Ada.', { agent: 'forgetful' });
    const two = await turn(client, 'What is my name?', { contextId: one.contextId, agent: 'forgetful' });
    assert.equal(two.contextId, one.contextId);
    assert.deepEqual(two.prompt, [SYSTEM, user('What is my name?')]);
  });

  /** After a first turn and one that did not complete, the context still answers and remembers only the first. */
  async function assertOnlyFirstTurnRemembered(client: Client, contextId: string): Promise<void> {
    router.script = echoScript;
    const next = await turn(client, 'What is my name?', { contextId });
    assert.deepEqual(next.prompt, [SYSTEM, user('My name is Ada.'), answerTo('My name is Ada.'), user('What is my name?')]);
  }

  test('a failed turn is not remembered, and the context still takes messages', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const one = await turn(client, 'My name is Ada.');
    router.script = () => ({ status: 500, message: 'Internal server error' });
    const failed = asTask(await client.sendMessage(userMessage('I like graphs.', { contextId: one.contextId })));
    assert.equal(failed.status?.state, TaskState.TASK_STATE_FAILED);
    await assertOnlyFirstTurnRemembered(client, one.contextId);
  });

  test('a canceled turn is not remembered, and the context still takes messages', { timeout: 10_000 }, async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const one = await turn(client, 'My name is Ada.');
    const first = router.requests.length;
    router.script = () => ({ text: ['Half ', 'an ', 'answer'], gate: (i) => (i < 2 ? Promise.resolve() : new Promise<void>(() => {})) });
    const stream = client.sendMessageStream(userMessage('I like graphs.', { contextId: one.contextId }));
    let taskId = '';
    for await (const event of stream) {
      if (event.payload?.$case === 'task') taskId = event.payload.value.id;
      if (event.payload?.$case === 'artifactUpdate') break;
    }
    const canceled = await client.cancelTask({ id: taskId, tenant: '', metadata: {} });
    assert.equal(canceled.status?.state, TaskState.TASK_STATE_CANCELED);
    assert.equal(router.requests.length, first + 1);
    await assertOnlyFirstTurnRemembered(client, one.contextId);
  });

  test('two messages sent at once to one context run one after the other: the second sees the first', { timeout: 10_000 }, async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const zero = await turn(client, 'My name is Ada.');
    const contextId = zero.contextId;

    // The first message's model call waits until the test lets it answer.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const first = router.requests.length;
    router.script = async (request, index) => (index === first ? (await released, { text: 'Graphs are nice.' }) : echoScript(request, index));

    const a = collect(client.sendMessageStream(userMessage('I like graphs.', { contextId })));
    await waitFor(() => router.requests.length > first, 'the first message to reach the router');

    // The second message is under way (working) while the first is still answering.
    const bStream = client.sendMessageStream(userMessage('What do I like?', { contextId }));
    const bEvents: StreamResponse[] = [];
    // next() rather than for-await with break, which would close the stream.
    for (let next = await bStream.next(); !next.done; next = await bStream.next()) {
      bEvents.push(next.value);
      const payload = next.value.payload;
      const state = payload?.$case === 'statusUpdate' || payload?.$case === 'task' ? payload.value.status?.state : undefined;
      if (state === TaskState.TASK_STATE_WORKING) break;
    }
    assert.equal(router.requests.length, first + 1, 'the second message waits for the first to finish');
    release();
    for await (const event of bStream) bEvents.push(event);
    const aEvents = await a;

    assert.equal(finalState(aEvents), TaskState.TASK_STATE_COMPLETED);
    assert.equal(finalState(bEvents), TaskState.TASK_STATE_COMPLETED);
    assert.equal(router.requests.length, first + 2);
    assert.deepEqual(router.requests[first + 1]!.body.messages, [
      SYSTEM,
      user('My name is Ada.'),
      answerTo('My name is Ada.'),
      user('I like graphs.'),
      { role: 'assistant', content: 'Graphs are nice.' },
      user('What do I like?'),
    ]);
  });
});

describe('--instance-scope request', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--instance-scope', 'request']);
  });
  after(async () => {
    await server.close();
  });

  test('a second message in the same context sees no earlier turns', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const one = await turn(client, 'My name is Ada.');
    const two = await turn(client, 'What is my name?', { contextId: one.contextId });
    assert.equal(two.contextId, one.contextId, 'the context is kept, only the memory is not');
    assert.deepEqual(two.prompt, [SYSTEM, user('What is my name?')]);
  });
});

function asTask(result: unknown): Task {
  assert.ok(result && typeof result === 'object' && 'status' in result, 'expected a Task');
  return result as Task;
}

function statusText(task: Task): string {
  return artifactText({ artifacts: [{ parts: task.status?.message?.parts ?? [] }] });
}

async function collect(stream: AsyncIterable<StreamResponse>): Promise<StreamResponse[]> {
  const events: StreamResponse[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function finalState(events: StreamResponse[]): TaskState | undefined {
  const last = events.at(-1)?.payload;
  return last?.$case === 'statusUpdate' ? last.value.status?.state : undefined;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
