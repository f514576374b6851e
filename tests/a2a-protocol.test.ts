/**
 * A2A 1.0 over both bindings, driven by the @a2a-js/sdk 1.x client through real HTTP: send,
 * stream, get, list, cancel and subscribe, and routing to an agent by `metadata.agent`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { artifactText, assertChunks, clientFor, userMessage, type Binding } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
  'parrot.md': card({ name: 'parrot', model: 'passthrough', description: 'A second agent.' }),
  'slow.md': card({ name: 'slow', model: 'hf.test-org/slow-model', use_history: false }),
};

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  // The slow agent's model streams one word every 50 ms from the fake router.
  router = await startFakeRouter(() => ({ text: 'one two three four five six seven eight nine ten eleven twelve', delayMs: 50 }));
  server = await startTestServer({ cards: CARDS, env: { HF_TOKEN: 'hf_servertoken0001', HF_INFERENCE_ENDPOINT: router.url } });
});
after(async () => {
  await server.close();
  await router.close();
});

async function collect(stream: AsyncIterable<StreamResponse>): Promise<StreamResponse[]> {
  const events: StreamResponse[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function asTask(result: unknown): Task {
  assert.ok(result && typeof result === 'object' && 'status' in result, 'expected a Task');
  return result as Task;
}

for (const binding of ['jsonrpc', 'rest'] as Binding[]) {
  describe(`A2A 1.0 over ${binding}`, () => {
    let client: Client;
    before(async () => {
      client = await clientFor(server.url, binding);
    });

    test('the client picked the binding it asked for, at protocol 1.0', () => {
      assert.equal(client.transport.protocolName, binding === 'jsonrpc' ? 'JSONRPC' : 'HTTP+JSON');
      assert.equal(client.protocolVersion, '1.0');
    });

    test('send: the default agent answers with a completed task holding the answer', async () => {
      const task = asTask(await client.sendMessage(userMessage('hello over the wire')));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
      assert.equal(artifactText(task), 'hello over the wire');
      assert.equal(task.metadata?.agent, 'echo');
    });

    test('send: metadata.agent routes the message to the named agent', async () => {
      const task = asTask(await client.sendMessage(userMessage('to the parrot', { metadata: { agent: 'parrot' } })));
      assert.equal(task.metadata?.agent, 'parrot');
      assert.equal(artifactText(task), 'to the parrot');
    });

    test('send: an unknown agent name is rejected with the names that exist', async () => {
      const task = asTask(await client.sendMessage(userMessage('hi', { metadata: { agent: 'nobody' } })));
      assert.equal(task.status?.state, TaskState.TASK_STATE_REJECTED);
      const text = artifactText({ artifacts: [{ parts: task.status?.message?.parts ?? [] }] });
      assert.match(text, /no agent named "nobody".*echo, parrot, slow/);
    });

    test('stream: task first, then working, the answer in ordered chunks, then completed', async () => {
      const events = await collect(client.sendMessageStream(userMessage('a b c d')));
      const kinds = events.map((e) => e.payload?.$case);
      assert.equal(kinds[0], 'task');
      assert.equal(kinds.at(-1), 'statusUpdate');
      const chunks = events.flatMap((e) => (e.payload?.$case === 'artifactUpdate' ? [e.payload.value] : []));
      assertChunks(chunks, 'a b c d');
      assert.equal(artifactText({ artifacts: [chunks[0]!.artifact!] }), 'a ', 'the first piece goes out at once, on its own');
      const last = events.at(-1)!.payload;
      assert.equal(last?.$case === 'statusUpdate' && last.value.status?.state, TaskState.TASK_STATE_COMPLETED);
    });

    test('get: a finished task can be read back, with historyLength honoured', async () => {
      const sent = asTask(await client.sendMessage(userMessage('remember me')));
      const got = await client.getTask({ id: sent.id, tenant: '', historyLength: undefined });
      assert.equal(got.id, sent.id);
      assert.equal(artifactText(got), 'remember me');
      assert.ok(got.history.length >= 1);
      const trimmed = await client.getTask({ id: sent.id, tenant: '', historyLength: 0 });
      assert.equal(trimmed.history.length, 0);
      const again = await client.getTask({ id: sent.id, tenant: '', historyLength: undefined });
      assert.equal(again.history.length, got.history.length, 'reading with historyLength=0 must not erase the stored history');
    });

    test('list: tasks of a context, newest first, paged', async () => {
      const first = asTask(await client.sendMessage(userMessage('first')));
      const contextId = first.contextId;
      await client.sendMessage(userMessage('second', { contextId }));
      await client.sendMessage(userMessage('third', { contextId }));
      const page1 = await client.listTasks({ tenant: '', contextId, status: 0, pageSize: 2, pageToken: '', statusTimestampAfter: undefined, includeArtifacts: true });
      assert.equal(page1.totalSize, 3);
      assert.equal(page1.tasks.length, 2);
      assert.ok(page1.nextPageToken);
      const page2 = await client.listTasks({ tenant: '', contextId, status: 0, pageSize: 2, pageToken: page1.nextPageToken, statusTimestampAfter: undefined, includeArtifacts: true });
      assert.equal(page2.tasks.length, 1);
      assert.deepEqual([...page1.tasks, ...page2.tasks].map(artifactText), ['third', 'second', 'first']);
    });

    test('cancel: a running task ends canceled and its model call is aborted', async () => {
      const before = router.requests.length;
      const stream = client.sendMessageStream(userMessage('count slowly', { metadata: { agent: 'slow' } }));
      const first = await stream.next();
      assert.equal(first.value?.payload?.$case, 'task');
      const taskId = (first.value!.payload!.value as Task).id;
      // Wait until the model call is under way, then cancel.
      for await (const event of stream) if (event.payload?.$case === 'artifactUpdate') break;
      const canceled = await client.cancelTask({ id: taskId, tenant: '', metadata: {} });
      assert.equal(canceled.status?.state, TaskState.TASK_STATE_CANCELED);
      await waitFor(() => router.requests[before]?.aborted === true, 'the upstream model call to be aborted');
      const got = await client.getTask({ id: taskId, tenant: '', historyLength: undefined });
      assert.equal(got.status?.state, TaskState.TASK_STATE_CANCELED);
    });

    test('send: a second message for a task that is still working is refused until the first ends', async () => {
      const stream = client.sendMessageStream(userMessage('busy', { metadata: { agent: 'slow' } }));
      const first = await stream.next();
      const task = first.value!.payload!.value as Task;
      await assert.rejects(client.sendMessage(userMessage('me too', { taskId: task.id, contextId: task.contextId })), /still working on an earlier message/);
      for await (const _ of stream) {
        // let the first turn finish
      }
      const done = await client.getTask({ id: task.id, tenant: '', historyLength: undefined });
      assert.equal(done.status?.state, TaskState.TASK_STATE_COMPLETED);
    });

    test('cancel: a finished task cannot be canceled', async () => {
      const task = asTask(await client.sendMessage(userMessage('done already')));
      await assert.rejects(client.cancelTask({ id: task.id, tenant: '', metadata: {} }), /not cancelable/i);
    });

    test('subscribe: a second client follows a running task to its end', async () => {
      const stream = client.sendMessageStream(userMessage('go', { metadata: { agent: 'slow' } }));
      const first = await stream.next();
      const taskId = (first.value!.payload!.value as Task).id;
      const follower = await clientFor(server.url, binding);
      const followed = await collect(follower.resubscribeTask({ id: taskId, tenant: '' }));
      assert.equal(followed[0]?.payload?.$case, 'task', 'a subscription starts with the task as it is now');
      const last = followed.at(-1)!.payload;
      assert.equal(last?.$case === 'statusUpdate' && last.value.status?.state, TaskState.TASK_STATE_COMPLETED);
      await collect(stream);
      const done = await client.getTask({ id: taskId, tenant: '', historyLength: undefined });
      assert.equal(artifactText(done), 'one two three four five six seven eight nine ten eleven twelve');
    });

    test('stream: a client that hangs up does not stop the task; it completes and is recorded in full', async () => {
      const stream = client.sendMessageStream(userMessage('go on without me', { metadata: { agent: 'slow' } }));
      const first = await stream.next();
      const taskId = (first.value!.payload!.value as Task).id;
      await stream.return(undefined); // the client goes away
      let task: Task | undefined;
      for (let i = 0; i < 300 && task?.status?.state !== TaskState.TASK_STATE_COMPLETED; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        task = await client.getTask({ id: taskId, tenant: '', historyLength: undefined });
      }
      assert.equal(task?.status?.state, TaskState.TASK_STATE_COMPLETED);
      assert.equal(artifactText(task!), 'one two three four five six seven eight nine ten eleven twelve');
    });

    test('get: an unknown task is "task not found"', async () => {
      await assert.rejects(client.getTask({ id: 'no-such-task', tenant: '', historyLength: undefined }), /not found/i);
    });
  });
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
