/**
 * The task lifecycle on the new request path (src/a2a/request-handler.ts, src/a2a/task-run.ts),
 * over real HTTP, with an hf. agent whose model is the fake router: how an answer streamed in many
 * pieces is stored (one part) and shown (chunks), returnImmediately, cancel while the model has not
 * answered yet, subscribers that join late or leave early, turns that fail in every way the model
 * can fail, continuing a conversation, and four clients nobody here wrote.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { TaskState, type SendMessageConfiguration, type StreamResponse, type Task, type TaskArtifactUpdateEvent } from '@a2a-js/sdk';
import { startTestServer, withTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { startFakeRouter, type FakeRouter, type Script } from './support/fake-router.ts';
import { listenOnLoopback } from './support/http.ts';
import { artifactText, assertChunks, clientFor, legacyClientFor, userMessage, v03ClientFor, type Binding } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const TEXT = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango';
const WORDS = TEXT.match(/\S+\s*/g)!;
const words: Script = () => ({ text: TEXT, delayMs: 20 });

const CARDS = {
  'words.md': card({ name: 'words', model: 'hf.test-org/words-model', default: true, use_history: false }),
  'echo.md': card({ name: 'echo', model: 'passthrough' }),
};

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  router = await startFakeRouter(words);
  server = await startTestServer({
    cards: CARDS,
    env: { HF_TOKEN: 'hf_lifecycletoken00001', HF_INFERENCE_ENDPOINT: router.url },
    modelOptions: { maxAttempts: 1, backoffMs: 10 },
  });
});
after(async () => {
  await server.close();
  await router.close();
});
beforeEach(() => {
  router.script = words;
});

// Helpers.

const V1 = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
let rpcId = 1;

async function rpc(method: string, params: unknown) {
  const response = await fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: V1, body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method, params }) });
  assert.equal(response.status, 200);
  return response.json();
}

const rawMessage = (text: string, extra: Record<string, unknown> = {}) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...extra });

function config(fields: Partial<SendMessageConfiguration>): SendMessageConfiguration {
  return { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false, ...fields };
}

function asTask(result: unknown): Task {
  assert.ok(result && typeof result === 'object' && 'status' in result, `expected a Task, got ${JSON.stringify(result)}`);
  return result as Task;
}

function statusText(task: Pick<Task, 'status'>): string {
  return (task.status?.message?.parts ?? []).map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('');
}

async function collect(stream: AsyncIterable<StreamResponse>): Promise<StreamResponse[]> {
  const events: StreamResponse[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function chunksOf(events: StreamResponse[]): TaskArtifactUpdateEvent[] {
  return events.flatMap((event) => (event.payload?.$case === 'artifactUpdate' ? [event.payload.value] : []));
}

function chunkText(chunk: TaskArtifactUpdateEvent): string {
  return artifactText({ artifacts: [chunk.artifact!] });
}

function finalState(events: StreamResponse[]): TaskState | undefined {
  const last = events.at(-1)?.payload;
  return last?.$case === 'statusUpdate' ? last.value.status?.state : undefined;
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function getTask(id: string) {
  const json = await rpc('GetTask', { id });
  assert.ok(json.result, JSON.stringify(json));
  return json.result as { id: string; contextId: string; status: { state: string; message?: { parts: Array<{ text?: string }> } }; artifacts?: Array<{ artifactId: string; parts: Array<{ text?: string }> }>; history?: unknown[] };
}

async function waitForEnd(id: string, timeoutMs = 5000) {
  let task = await getTask(id);
  await waitFor(async () => {
    task = await getTask(id);
    return !['TASK_STATE_WORKING', 'TASK_STATE_SUBMITTED'].includes(task.status.state);
  }, `task ${id} to end`, timeoutMs);
  return task;
}

/** A router reply held at piece `at` until `release()`; `reached` settles once the router waits there. */
function held(pieces: string[], at: number) {
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const script: Script = () => ({
    text: pieces,
    gate: async (index) => {
      if (index !== at) return;
      reached();
      await released;
    },
  });
  return { script, release, reached: arrived };
}

/** A 1.0 text of a JSON-RPC task's response artifact, checking it is exactly one text part. */
function onePart(task: { artifacts?: Array<{ artifactId: string; parts: Array<{ text?: string }> }> }): string {
  assert.equal(task.artifacts?.length, 1, `one artifact: ${JSON.stringify(task.artifacts)}`);
  assert.equal(task.artifacts[0]!.artifactId, 'response');
  assert.equal(task.artifacts[0]!.parts.length, 1, `one part, however many pieces the model streamed: ${task.artifacts[0]!.parts.length}`);
  return task.artifacts[0]!.parts[0]!.text ?? '';
}

// The tests.

for (const binding of ['jsonrpc', 'rest'] as Binding[]) {
  describe(`one-part aggregation over ${binding}`, () => {
    test('a blocking send returns one text part holding the whole answer; GetTask and ListTasks agree', async () => {
      const client = await clientFor(server.url, binding);
      const first = router.requests.length;
      const task = asTask(await client.sendMessage(userMessage('talk to me')));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
      assert.equal(router.requests.length, first + 1);
      assert.equal(task.artifacts.length, 1);
      assert.equal(task.artifacts[0]!.artifactId, 'response');
      assert.equal(task.artifacts[0]!.parts.length, 1, 'the 20 streamed pieces are stored as one part');
      assert.equal(artifactText(task), TEXT);

      const got = await client.getTask({ id: task.id, tenant: '', historyLength: undefined });
      assert.equal(got.artifacts.length, 1);
      assert.equal(got.artifacts[0]!.parts.length, 1);
      assert.equal(artifactText(got), TEXT);

      const listed = await client.listTasks({ tenant: '', contextId: task.contextId, status: 0, pageSize: 10, pageToken: '', statusTimestampAfter: undefined, includeArtifacts: true });
      assert.equal(listed.tasks.length, 1);
      assert.equal(listed.tasks[0]!.artifacts.length, 1);
      assert.equal(listed.tasks[0]!.artifacts[0]!.parts.length, 1);
      assert.equal(artifactText(listed.tasks[0]!), TEXT);
    });

    test('a streamed send shows the same answer as several chunks (append false then true, lastChunk on the last only)', async () => {
      const client = await clientFor(server.url, binding);
      const events = await collect(client.sendMessageStream(userMessage('stream it')));
      assert.equal(events[0]?.payload?.$case, 'task');
      assert.equal(finalState(events), TaskState.TASK_STATE_COMPLETED);
      const chunks = chunksOf(events);
      assert.ok(chunks.length >= 3, `several chunks, got ${chunks.length}`);
      assert.ok(chunks.length <= WORDS.length + 1, `chunks are batched, not one event per piece and more: ${chunks.length}`);
      assertChunks(chunks, TEXT);
      const taskId = (events[0]!.payload!.value as Task).id;
      const stored = await client.getTask({ id: taskId, tenant: '', historyLength: undefined });
      assert.equal(stored.artifacts.length, 1);
      assert.equal(stored.artifacts[0]!.parts.length, 1, 'what was streamed in chunks is stored as one part');
      assert.equal(artifactText(stored), TEXT);
    });
  });
}

test('returnImmediately: the send answers at once with a working task, which later completes with the whole answer', async () => {
  const first = router.requests.length;
  const json = await rpc('SendMessage', { message: rawMessage('later please'), configuration: { returnImmediately: true } });
  const task = json.result?.task;
  assert.ok(task, JSON.stringify(json));
  assert.ok(['TASK_STATE_WORKING', 'TASK_STATE_SUBMITTED'].includes(task.status.state), `answered while the model still runs: ${task.status.state}`);
  assert.notEqual(artifactTextOfJson(task), TEXT, 'the answer is not all there yet');
  const done = await waitForEnd(task.id);
  assert.equal(done.status.state, 'TASK_STATE_COMPLETED');
  assert.equal(onePart(done), TEXT);
  assert.equal(router.requests.length, first + 1, 'one model call');
});

test('SendStreamingMessage with configuration.historyLength 0: the first frame (the task) has no history', async () => {
  const client = await clientFor(server.url, 'jsonrpc');
  const trimmed = await collect(client.sendMessageStream({ ...userMessage('no history', { metadata: { agent: 'echo' } }), configuration: config({ historyLength: 0 }) }));
  assert.equal(trimmed[0]?.payload?.$case, 'task');
  assert.deepEqual((trimmed[0]!.payload!.value as Task).history, []);
  assert.equal(finalState(trimmed), TaskState.TASK_STATE_COMPLETED);
  // Without the limit the same first frame carries the message, so the check above means something.
  const full = await collect(client.sendMessageStream(userMessage('with history', { metadata: { agent: 'echo' } })));
  assert.ok((full[0]!.payload!.value as Task).history.length >= 1);
});

test('cancel while the first token is in flight: canceled, the model call aborted, and a second cancel is -32002', async () => {
  const hold = held(WORDS, 0);
  router.script = hold.script;
  try {
    const first = router.requests.length;
    const json = await rpc('SendMessage', { message: rawMessage('hold on'), configuration: { returnImmediately: true } });
    const taskId = json.result?.task?.id;
    assert.ok(taskId, JSON.stringify(json));
    await hold.reached; // the router has the request and holds its first piece
    const started = performance.now();
    const canceled = await rpc('CancelTask', { id: taskId });
    assert.equal(canceled.result?.status?.state, 'TASK_STATE_CANCELED', JSON.stringify(canceled));
    assert.ok(performance.now() - started < 2000, 'the turn stopped on its abort signal, not at the grace deadline');
    await waitFor(() => router.requests[first]?.aborted === true, 'the model call to be aborted');
    const got = await getTask(taskId);
    assert.equal(got.status.state, 'TASK_STATE_CANCELED');
    assert.ok(got.status.message?.parts[0]?.text, 'a canceled task says why');
    const again = await rpc('CancelTask', { id: taskId });
    assert.equal(again.error?.code, -32002, JSON.stringify(again));
    assert.equal(server.requestHandler.running, 0);
  } finally {
    hold.release();
  }
});

describe('subscribe between the last chunk and the final status', () => {
  for (const originator of ['a streamed send', 'a returnImmediately send'] as const) {
    test(`while ${originator} runs: the subscriber sees the whole answer exactly once and the completed status last`, async () => {
      // Every piece of the answer, then an empty one the router holds: all text is out, the model has not finished.
      const hold = held([...WORDS, ''], WORDS.length);
      router.script = hold.script;
      const client = await clientFor(server.url, 'jsonrpc');
      let taskId: string;
      let originatorEvents: Promise<StreamResponse[]> | undefined;
      try {
        if (originator === 'a streamed send') {
          const stream = client.sendMessageStream(userMessage('watch this'));
          const first = await stream.next();
          taskId = (first.value!.payload!.value as Task).id;
          originatorEvents = collect({ [Symbol.asyncIterator]: () => stream }).then((rest) => [first.value!, ...rest]);
        } else {
          const json = await rpc('SendMessage', { message: rawMessage('watch this'), configuration: { returnImmediately: true } });
          taskId = json.result.task.id;
        }
        await hold.reached;
        await waitFor(async () => artifactTextOfJson(await getTask(taskId)) === TEXT, 'the server to have every piece');

        const follower = (await clientFor(server.url, 'jsonrpc')).resubscribeTask({ id: taskId, tenant: '' });
        const first = await follower.next();
        assert.equal(first.value?.payload?.$case, 'task', 'the first frame is the task');
        const seen = artifactText(first.value!.payload!.value as Task);
        hold.release();
        const rest = await collect({ [Symbol.asyncIterator]: () => follower });
        assert.equal(finalState(rest), TaskState.TASK_STATE_COMPLETED, 'the last event is the completed status');
        const chunks = chunksOf(rest);
        assert.equal(seen + chunks.map(chunkText).join(''), TEXT, 'first frame plus chunks is the answer, once');
        assert.deepEqual(chunks.map((chunk) => chunk.append), chunks.map((_, i) => i > 0 || seen.length > 0), 'a chunk appends to what the subscriber already has');
        assert.deepEqual(chunks.map((chunk) => chunk.lastChunk), chunks.map((_, i) => i === chunks.length - 1));

        if (originatorEvents) {
          const events = await originatorEvents;
          assert.equal(finalState(events), TaskState.TASK_STATE_COMPLETED);
          assertChunks(chunksOf(events), TEXT);
        }
        assert.equal(onePart(await getTask(taskId)), TEXT);
      } finally {
        hold.release();
      }
    });
  }
});

test('two subscribers on one running task both get the same chunks after their first frames and the completed status', async () => {
  const hold = held(WORDS, 6);
  router.script = hold.script;
  const prefix = WORDS.slice(0, 6).join('');
  try {
    const client = await clientFor(server.url, 'jsonrpc');
    const stream = client.sendMessageStream(userMessage('for two'));
    const head = await stream.next();
    const taskId = (head.value!.payload!.value as Task).id;
    const originator: StreamResponse[] = [];
    const originatorDone = (async () => {
      for await (const event of { [Symbol.asyncIterator]: () => stream }) originator.push(event);
    })();
    await hold.reached;
    await waitFor(() => chunksOf(originator).map(chunkText).join('') === prefix, 'the streamed send to have the first six words');

    const a = (await clientFor(server.url, 'jsonrpc')).resubscribeTask({ id: taskId, tenant: '' });
    const b = (await clientFor(server.url, 'rest')).resubscribeTask({ id: taskId, tenant: '' });
    const [firstA, firstB] = [await a.next(), await b.next()];
    assert.equal(firstA.value?.payload?.$case, 'task');
    assert.equal(firstB.value?.payload?.$case, 'task');
    const seenA = artifactText(firstA.value!.payload!.value as Task);
    const seenB = artifactText(firstB.value!.payload!.value as Task);
    assert.equal(seenA, prefix);
    assert.equal(seenB, prefix);
    hold.release();
    const [restA, restB] = await Promise.all([collect({ [Symbol.asyncIterator]: () => a }), collect({ [Symbol.asyncIterator]: () => b })]);
    await originatorDone;
    for (const [name, rest, seen] of [['jsonrpc', restA, seenA], ['rest', restB, seenB]] as const) {
      assert.equal(finalState(rest), TaskState.TASK_STATE_COMPLETED, `${name} subscriber ends with completed`);
      assert.equal(seen + chunksOf(rest).map(chunkText).join(''), TEXT, `${name} subscriber has the answer once`);
    }
    const shape = (events: StreamResponse[]) => chunksOf(events).map((chunk) => [chunkText(chunk), chunk.append, chunk.lastChunk]);
    assert.deepEqual(shape(restA), shape(restB), 'both subscribers got the same chunks');
    assert.ok(chunksOf(restA).length >= 1);
  } finally {
    hold.release();
  }
});

test('a subscriber that leaves early does not stop the task: it completes and is recorded in full', async () => {
  const first = router.requests.length;
  const json = await rpc('SendMessage', { message: rawMessage('keep going'), configuration: { returnImmediately: true } });
  const taskId = json.result.task.id;
  const follower = (await clientFor(server.url, 'jsonrpc')).resubscribeTask({ id: taskId, tenant: '' });
  const head = await follower.next();
  assert.equal(head.value?.payload?.$case, 'task');
  for (let next = await follower.next(); !next.done; next = await follower.next()) if (next.value.payload?.$case === 'artifactUpdate') break;
  await follower.return(undefined);
  const done = await waitForEnd(taskId);
  assert.equal(done.status.state, 'TASK_STATE_COMPLETED');
  assert.equal(onePart(done), TEXT);
  assert.equal(router.requests[first]?.aborted, false, 'the model call ran to its end');
});

test('SubscribeToTask on a finished task is -32004 over JSON-RPC and 400 over REST', async () => {
  const json = await rpc('SendMessage', { message: rawMessage('finished', { metadata: { agent: 'echo' } }) });
  const taskId = json.result.task.id;
  const subscribed = await rpc('SubscribeToTask', { id: taskId });
  assert.equal(subscribed.error?.code, -32004, JSON.stringify(subscribed));
  assert.match(subscribed.error.message, /ended|completed/);
  for (const method of ['GET', 'POST']) {
    const response = await fetch(`${server.url}/a2a/rest/tasks/${taskId}:subscribe`, { method, headers: V1 });
    assert.equal(response.status, 400, `${method} :subscribe`);
    const body = await response.json();
    assert.match(body.error.message, /ended|completed/);
  }
});

describe('a turn that fails never leaves its task working', () => {
  const failures: Array<[string, Script, RegExp]> = [
    ['the router answers HTTP 500', () => ({ status: 500, message: 'kaboom' }), /500|failed/],
    ['the stream breaks off midway', () => ({ breakAfter: ['half ', 'an '] }), /broke off/],
    ['the stream ends with an error event', () => ({ text: 'a b c', error: 'the GPU melted' }), /failed/],
  ];
  for (const [name, script, reason] of failures) {
    test(`${name}: the task ends failed with a status message, blocking and streamed`, async () => {
      router.script = script;
      const sent = await rpc('SendMessage', { message: rawMessage('try') });
      const task = sent.result?.task;
      assert.ok(task, JSON.stringify(sent));
      assert.equal(task.status.state, 'TASK_STATE_FAILED');
      assert.match(task.status.message?.parts?.[0]?.text ?? '', reason);
      assert.equal((await getTask(task.id)).status.state, 'TASK_STATE_FAILED');

      const events = await collect((await clientFor(server.url, 'jsonrpc')).sendMessageStream(userMessage('try streamed')));
      assert.equal(finalState(events), TaskState.TASK_STATE_FAILED);
      assert.equal(server.requestHandler.running, 0);
    });
  }

  test('garbage from the router (bad JSON, wrong shapes, HTML): failed with a status message, and the server still serves', async () => {
    const garbage = createServer(async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const model = (JSON.parse(raw) as { model: string }).model;
      const sse = (lines: string[]) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.end(lines.map((line) => `data: ${line}\n\n`).join(''));
      };
      if (model === 'junk/bad-json') return sse(['{"choices": [{"delta": {"content": "hi"', '[DONE]']);
      if (model === 'junk/wrong-shape') return sse(['{"choices": "nope"}', '[DONE]']);
      if (model === 'junk/null-tool-call') return sse(['{"choices": [{"index": 0, "delta": {"tool_calls": [null]}, "finish_reason": null}]}', '[DONE]']);
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Bad gateway, but 200</body></html>');
    });
    const upstream = await listenOnLoopback(garbage);
    const cards = {
      'bad-json.md': card({ name: 'bad-json', model: 'hf.junk/bad-json', default: true }),
      'wrong-shape.md': card({ name: 'wrong-shape', model: 'hf.junk/wrong-shape' }),
      'null-tool-call.md': card({ name: 'null-tool-call', model: 'hf.junk/null-tool-call' }),
      'html.md': card({ name: 'html', model: 'hf.junk/html' }),
      'echo.md': card({ name: 'echo', model: 'passthrough' }),
    };
    try {
      await withTestServer({ cards, env: { HF_TOKEN: 'hf_garbagetoken000001', HF_INFERENCE_ENDPOINT: upstream.url }, modelOptions: { maxAttempts: 1, backoffMs: 10, idleTimeoutMs: 2000 } }, async (junk) => {
        const client = await clientFor(junk.url, 'jsonrpc');
        for (const agent of ['bad-json', 'wrong-shape', 'null-tool-call', 'html']) {
          const task = asTask(await client.sendMessage(userMessage('hello', { metadata: { agent } })));
          assert.equal(task.status?.state, TaskState.TASK_STATE_FAILED, `${agent}: ${TaskState[task.status?.state ?? 0]} ${statusText(task)}`);
          assert.ok(statusText(task).length > 0, `${agent}: the failed task says why`);
          const got = await client.getTask({ id: task.id, tenant: '', historyLength: undefined });
          assert.equal(got.status?.state, TaskState.TASK_STATE_FAILED);
        }
        assert.equal(junk.requestHandler.running, 0, 'no turn is left running');
        const health = await fetch(`${junk.url}/healthz`);
        assert.equal(health.status, 200);
        const echo = asTask(await client.sendMessage(userMessage('still serving', { metadata: { agent: 'echo' } })));
        assert.equal(echo.status?.state, TaskState.TASK_STATE_COMPLETED);
        assert.equal(artifactText(echo), 'still serving');
      });
    } finally {
      await upstream.close();
    }
  });

  test('after the failures, the main server still completes a turn on the router', async () => {
    const sent = await rpc('SendMessage', { message: rawMessage('again') });
    assert.equal(sent.result?.task?.status?.state, 'TASK_STATE_COMPLETED');
    assert.equal(onePart(sent.result.task), TEXT);
  });
});

describe('continuation', () => {
  test('a message with the contextId of a finished task (no taskId) starts a new task in that context', async () => {
    const first = (await rpc('SendMessage', { message: rawMessage('one', { metadata: { agent: 'echo' } }) })).result.task;
    const second = (await rpc('SendMessage', { message: rawMessage('two', { contextId: first.contextId, metadata: { agent: 'echo' } }) })).result?.task;
    assert.ok(second);
    assert.notEqual(second.id, first.id, 'a new task');
    assert.equal(second.contextId, first.contextId, 'in the same context');
    assert.equal(second.status.state, 'TASK_STATE_COMPLETED');
    const listed = await rpc('ListTasks', { contextId: first.contextId });
    assert.deepEqual(listed.result.tasks.map((task: { id: string }) => task.id).sort(), [first.id, second.id].sort());
  });

  test('a message with the taskId of a finished task is refused (-32004), pointing at contextId', async () => {
    const first = (await rpc('SendMessage', { message: rawMessage('one', { metadata: { agent: 'echo' } }) })).result.task;
    const historyBefore = (await getTask(first.id)).history?.length;
    const refused = await rpc('SendMessage', { message: rawMessage('two', { taskId: first.id, metadata: { agent: 'echo' } }) });
    assert.equal(refused.error?.code, -32004, JSON.stringify(refused));
    assert.match(refused.error.message, /contextId/);
    assert.ok(refused.error.message.includes(first.contextId), 'the message gives the context to continue in');
    const response = await fetch(`${server.url}/a2a/rest/message:send`, { method: 'POST', headers: V1, body: JSON.stringify({ message: rawMessage('two', { taskId: first.id }) }) });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error.message, /contextId/);
    const unchanged = await getTask(first.id);
    assert.equal(unchanged.status.state, 'TASK_STATE_COMPLETED', 'the finished task is untouched');
    assert.equal(unchanged.history?.length, historyBefore, 'the refused message was not added to it');
  });
});

describe('clients nobody here wrote: a blocking and a streamed send each', () => {
  beforeEach(() => {
    router.script = () => ({ text: TEXT, delayMs: 3 });
  });

  for (const binding of ['jsonrpc', 'rest'] as Binding[]) {
    test(`@a2a-js/sdk 1.x over ${binding}`, async () => {
      const client = await clientFor(server.url, binding);
      const task = asTask(await client.sendMessage(userMessage('hi')));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
      assert.equal(artifactText(task), TEXT);
      const events = await collect(client.sendMessageStream(userMessage('hi streamed')));
      assert.equal(events[0]?.payload?.$case, 'task');
      assert.equal(finalState(events), TaskState.TASK_STATE_COMPLETED);
      assertChunks(chunksOf(events), TEXT);
    });
  }

  test('@a2a-js/sdk 1.x 0.3 compatibility transport', async () => {
    const client = await legacyClientFor(server.url);
    const task = asTask(await client.sendMessage(userMessage('hi')));
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
    assert.equal(artifactText(task), TEXT);
    const events = await collect(client.sendMessageStream(userMessage('hi streamed')));
    assert.equal(events[0]?.payload?.$case, 'task');
    assert.equal(finalState(events), TaskState.TASK_STATE_COMPLETED);
    assertChunks(chunksOf(events), TEXT);
  });

  test('@a2a-js/sdk 0.3.14', async () => {
    const client = await v03ClientFor(server.url);
    const message = (text: string) => ({ message: { kind: 'message' as const, messageId: crypto.randomUUID(), role: 'user' as const, parts: [{ kind: 'text' as const, text }] } });
    const result = await client.sendMessage(message('hi'));
    assert.equal(result.kind, 'task');
    const task = result as { status: { state: string }; artifacts?: Array<{ parts: Array<{ kind: string; text?: string }> }> };
    assert.equal(task.status.state, 'completed');
    assert.equal(task.artifacts?.length, 1);
    assert.equal(task.artifacts![0]!.parts.map((part) => part.text).join(''), TEXT);

    const kinds: string[] = [];
    const pieces: string[] = [];
    let final: { final?: boolean; status?: { state: string } } | undefined;
    for await (const event of client.sendMessageStream(message('hi streamed'))) {
      kinds.push(event.kind);
      if (event.kind === 'artifact-update') pieces.push(event.artifact.parts.map((part) => (part.kind === 'text' ? part.text : '')).join(''));
      if (event.kind === 'status-update') final = event;
    }
    assert.equal(kinds[0], 'task');
    assert.equal(pieces.join(''), TEXT);
    assert.equal(final?.status?.state, 'completed');
    assert.equal(final?.final, true);
  });
});

function artifactTextOfJson(task: { artifacts?: Array<{ parts: Array<{ text?: string }> }> }): string {
  return (task.artifacts ?? []).flatMap((artifact) => artifact.parts).map((part) => part.text ?? '').join('');
}
