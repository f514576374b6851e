/**
 * Agents on the HF inference router, end to end: the real server over HTTP, driven by the
 * @a2a-js/sdk 1.x client, calling the fake router on loopback. What the router receives, how the
 * answer streams back, and how every kind of upstream failure ends the task with words a person
 * can act on, without the token ever showing.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { flushLog, setLogLevel } from '../src/util/log.ts';
import { startTestServer, withTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { echoScript, startFakeRouter, type FakeRouter, type Script } from './support/fake-router.ts';
import { artifactText, assertChunks, clientFor, userMessage, type Binding } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const TOKEN = 'hf_inferenceTestToken0123456789';
const INSTRUCTION = 'You are terse. Answer in one line.';
const MAX_ATTEMPTS = 3;
/** Fast retries, so the tests do not wait; the idle timeout is left at its default here. */
const MODEL_OPTIONS = { maxAttempts: MAX_ATTEMPTS, backoffMs: 10 };

const CARDS = {
  'tiny.md': card(
    { name: 'tiny', model: 'hf.acme/tiny-chat:fastest', default: true, request_params: { temperature: 0.3, max_tokens: 64 } },
    INSTRUCTION,
  ),
  'plain.md': card({ name: 'plain', model: 'hf.acme/plain-chat' }, 'You are plain.'),
};

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  router = await startFakeRouter();
  server = await startTestServer({ cards: CARDS, env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: router.url }, modelOptions: MODEL_OPTIONS });
});
after(async () => {
  await server.close();
  await router.close();
});
beforeEach(() => {
  router.script = echoScript;
});

for (const binding of ['jsonrpc', 'rest'] as Binding[]) {
  describe(`an hf. agent over ${binding}`, () => {
    let client: Client;
    before(async () => {
      client = await clientFor(server.url, binding);
    });

    test('the router gets POST /v1/chat/completions with the model id, the prompt, the request params and the server token', async () => {
      const first = router.requests.length;
      const task = asTask(await client.sendMessage(userMessage('What is two plus two?')));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
      assert.equal(router.requests.length, first + 1, 'exactly one upstream call');
      const call = router.requests[first]!;
      assert.equal(call.path, '/v1/chat/completions');
      assert.equal(call.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(call.body.model, 'acme/tiny-chat:fastest', 'the model id as written after "hf.", provider suffix included');
      assert.equal(call.body.stream, true);
      assert.deepEqual(call.body.messages, [
        { role: 'system', content: INSTRUCTION },
        { role: 'user', content: 'What is two plus two?' },
      ]);
      assert.equal(call.body.temperature, 0.3);
      assert.equal(call.body.max_tokens, 64);
    });

    test('a card without request_params sends neither temperature nor max_tokens', async () => {
      const first = router.requests.length;
      const task = asTask(await client.sendMessage(userMessage('hi', { metadata: { agent: 'plain' } })));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
      const call = router.requests[first]!;
      assert.equal(call.body.model, 'acme/plain-chat');
      assert.deepEqual(call.body.messages, [
        { role: 'system', content: 'You are plain.' },
        { role: 'user', content: 'hi' },
      ]);
      assert.ok(!('temperature' in call.body), `temperature must be absent, got ${call.body.temperature}`);
      assert.ok(!('max_tokens' in call.body), `max_tokens must be absent, got ${call.body.max_tokens}`);
    });

    test('stream: each router chunk is one artifact update, in order, while the router is still streaming', { timeout: 10_000 }, async () => {
      const pieces = ['Four', ', of', ' course', '!'];
      // The router writes piece i+1 only after the client has received piece i: the test passes
      // only if each chunk reaches the caller while the answer is still being generated.
      const received: Array<() => void> = [];
      const arrivals = pieces.map(() => new Promise<void>((resolve) => received.push(resolve)));
      router.script = () => ({ text: pieces, gate: (i) => (i === 0 ? Promise.resolve() : arrivals[i - 1]!) });

      const events: StreamResponse[] = [];
      let taskId = '';
      for await (const event of client.sendMessageStream(userMessage('What is two plus two?'))) {
        events.push(event);
        if (event.payload?.$case === 'task') taskId = event.payload.value.id;
        if (event.payload?.$case === 'artifactUpdate') received[events.filter((e) => e.payload?.$case === 'artifactUpdate').length - 1]?.();
      }

      const chunks = events.flatMap((e) => (e.payload?.$case === 'artifactUpdate' ? [e.payload.value] : []));
      // Each piece but the last reached the caller on its own; the last one goes out with the end of
      // the answer, or alone followed by an empty chunk marking the end.
      assertChunks(chunks, pieces.join(''));
      assert.deepEqual(chunks.slice(0, 3).map((c) => artifactText({ artifacts: [c.artifact!] })), pieces.slice(0, 3));
      const last = events.at(-1)!.payload;
      assert.equal(last?.$case === 'statusUpdate' && last.value.status?.state, TaskState.TASK_STATE_COMPLETED);

      const done = await client.getTask({ id: taskId, tenant: '', historyLength: undefined });
      assert.equal(done.status?.state, TaskState.TASK_STATE_COMPLETED);
      assert.equal(artifactText(done), 'Four, of course!');
    });

    test('send: the completed task holds the whole streamed answer', async () => {
      router.script = () => ({ text: ['The ', 'answer ', 'is ', 'four.'] });
      const task = asTask(await client.sendMessage(userMessage('What is two plus two?')));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
      assert.equal(artifactText(task), 'The answer is four.');
      // Nobody watches a blocking send word by word: its first delta is not sent (and stored) on its
      // own, as a stream's is, but with what follows it.
      assert.notEqual(artifactText({ artifacts: [{ parts: task.artifacts[0]!.parts.slice(0, 1) }] }), 'The ');
      assert.equal(task.metadata?.agent, 'tiny');
    });
  });
}

describe('upstream failures end the task FAILED with words a person can act on', () => {
  let client: Client;
  before(async () => {
    client = await clientFor(server.url, 'jsonrpc');
  });

  /** Sends one message with the router answering `reply` every time; returns the task and the calls made. */
  async function failWith(reply: Script) {
    const first = router.requests.length;
    router.script = reply;
    const task = asTask(await client.sendMessage(userMessage('What is two plus two?')));
    const calls = router.requests.slice(first);
    router.script = echoScript;
    return { task, calls };
  }

  test('401: the message says the token was rejected', async () => {
    const { task, calls } = await failWith(() => ({ status: 401, message: 'Invalid credentials in Authorization header' }));
    assertFailed(task, /token/i);
    assert.match(statusText(task), /401/);
    assert.equal(calls.length, 1, 'a 401 is not retried');
    await assertStillServes(client);
  });

  test('402: the message points to credit or billing', async () => {
    const { task } = await failWith(() => ({ status: 402, message: 'You have exceeded your monthly included credits' }));
    assertFailed(task, /credit|billing/i);
    await assertStillServes(client);
  });

  test(`429: retried up to maxAttempts (${MAX_ATTEMPTS}) times, then the message says the account is rate-limited`, async () => {
    const { task, calls } = await failWith(() => ({ status: 429, message: 'Too many requests' }));
    assertFailed(task, /rate.?limit/i);
    assert.equal(calls.length, MAX_ATTEMPTS, 'the router sees exactly maxAttempts requests');
    await assertStillServes(client);
  });

  test('503 once, then success: the call is retried and the task completes', async () => {
    const first = router.requests.length;
    router.script = (_request, index) => (index === first ? { status: 503, message: 'Model is loading' } : { text: ['Loaded ', 'now.'] });
    const task = asTask(await client.sendMessage(userMessage('Are you there?')));
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
    assert.equal(artifactText(task), 'Loaded now.');
    const calls = router.requests.slice(first);
    assert.equal(calls.length, 2, 'one failed attempt and one retry');
    assert.deepEqual(calls[1]!.body, calls[0]!.body, 'the retry sends the same request');
  });

  test(`503 every time: exactly maxAttempts (${MAX_ATTEMPTS}) requests, then FAILED; the client's own unbounded retry is off`, async () => {
    const { task, calls } = await failWith(() => ({ status: 503, message: 'Model is loading' }));
    assert.equal(task.status?.state, TaskState.TASK_STATE_FAILED, statusText(task));
    assert.equal(calls.length, MAX_ATTEMPTS, 'the router sees exactly maxAttempts requests');
    await assertStillServes(client);
  });

  test('500: the message says the provider failed, and the call is not retried', async () => {
    const { task, calls } = await failWith(() => ({ status: 500, message: 'Internal server error' }));
    assertFailed(task, /provider.*fail/i);
    assert.equal(calls.length, 1);
    await assertStillServes(client);
  });

  test('404: the message names the model so the card can be fixed', async () => {
    const { task } = await failWith(() => ({ status: 404, message: 'Model not found' }));
    assertFailed(task, /acme\/tiny-chat:fastest/);
    assert.match(statusText(task), /model name|agent card/i);
    await assertStillServes(client);
  });

  test('a stream that breaks off mid-answer: the message says the answer broke off', async () => {
    const { task, calls } = await failWith(() => ({ breakAfter: ['Four', ', of'] }));
    assertFailed(task, /broke off/i);
    assert.equal(calls.length, 1, 'a call that already streamed tokens is not retried');
    await assertStillServes(client);
  });

  test('an error event in the middle of the stream: the message says the provider failed while answering', async () => {
    const { task, calls } = await failWith(() => ({ text: ['Four', ', of'], error: 'upstream provider crashed' }));
    assertFailed(task, /provider.*fail/i);
    assert.doesNotMatch(statusText(task), /HTTP 200|refused/i, 'the request was accepted; the failure came later');
    assert.equal(calls.length, 1);
    await assertStillServes(client);
  });

  test('a router that cannot be reached: the task fails with a message that says so', async () => {
    // A port that was just free: nothing listens there.
    const gone = await startFakeRouter();
    const goneUrl = gone.url;
    await gone.close();
    await withTestServer({ cards: CARDS, env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: goneUrl }, modelOptions: MODEL_OPTIONS }, async (lonely) => {
      const lonelyClient = await clientFor(lonely.url, 'jsonrpc');
      const task = asTask(await lonelyClient.sendMessage(userMessage('anyone?')));
      assertFailed(task, /could not reach/i);
    });
  });

  describe('idle timeout', () => {
    let impatient: RunningServer;
    let impatientClient: Client;
    before(async () => {
      impatient = await startTestServer({ cards: CARDS, env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: router.url }, modelOptions: { ...MODEL_OPTIONS, idleTimeoutMs: 300 } });
      impatientClient = await clientFor(impatient.url, 'jsonrpc');
    });
    after(() => impatient.close());

    test('a router that never answers is cut off, and the message says after how long', { timeout: 10_000 }, async () => {
      const first = router.requests.length;
      router.script = () => ({ hang: true });
      const task = asTask(await impatientClient.sendMessage(userMessage('hello?')));
      assertFailed(task, /\b(300 ms|0\.3 s(econds?)?)\b/);
      assert.match(statusText(task), /sent nothing|no data|timed out|stopped/i);
      await waitFor(() => router.requests[first]?.aborted === true, 'the hung upstream call to be closed');
      router.script = echoScript;
      await assertStillServes(impatientClient);
    });

    test('a stream that stalls after the first token is cut off too', { timeout: 10_000 }, async () => {
      const first = router.requests.length;
      const never = new Promise<void>(() => {});
      router.script = () => ({ text: ['Four', ' and then nothing'], gate: (i) => (i === 0 ? Promise.resolve() : never) });
      const task = asTask(await impatientClient.sendMessage(userMessage('hello?')));
      assertFailed(task, /\b(300 ms|0\.3 s(econds?)?)\b/);
      await waitFor(() => router.requests[first]?.aborted === true, 'the stalled upstream call to be closed');
      assert.equal(router.requests.length, first + 1, 'a call that already streamed tokens is not retried');
      router.script = echoScript;
      await assertStillServes(impatientClient);
    });
  });
});

describe('cancel, beyond what a2a-protocol.test.ts covers', () => {
  let client: Client;
  before(async () => {
    client = await clientFor(server.url, 'jsonrpc');
  });

  test('cancel before the first token aborts the waiting upstream call and the task ends CANCELED, not FAILED', { timeout: 10_000 }, async () => {
    const first = router.requests.length;
    router.script = () => ({ hang: true });
    const stream = client.sendMessageStream(userMessage('take your time'));
    const opening = await stream.next();
    assert.equal(opening.value?.payload?.$case, 'task');
    const taskId = (opening.value!.payload!.value as Task).id;
    await waitFor(() => router.requests.length > first, 'the model call to reach the router');

    const canceled = await client.cancelTask({ id: taskId, tenant: '', metadata: {} });
    assert.equal(canceled.status?.state, TaskState.TASK_STATE_CANCELED);
    await waitFor(() => router.requests[first]?.aborted === true, 'the waiting upstream call to be aborted');
    const rest: StreamResponse[] = [];
    for await (const event of stream) rest.push(event);
    const last = rest.at(-1)?.payload;
    assert.equal(last?.$case === 'statusUpdate' && last.value.status?.state, TaskState.TASK_STATE_CANCELED);
    const got = await client.getTask({ id: taskId, tenant: '', historyLength: undefined });
    assert.equal(got.status?.state, TaskState.TASK_STATE_CANCELED);
    assert.match(statusText(got), /cancel/i);
    assert.equal(router.requests.length, first + 1, 'a canceled call is not retried');
    router.script = echoScript;
    await assertStillServes(client);
  });

  test('cancel while waiting to retry a 429 stops the retries and the task ends CANCELED', { timeout: 10_000 }, async () => {
    // A backoff far longer than the test may run: the task can only end if cancel cuts it short.
    await withTestServer({
      cards: CARDS,
      env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: router.url },
      modelOptions: { maxAttempts: 5, backoffMs: 600_000 },
    }, async (patient) => {
      const patientClient = await clientFor(patient.url, 'jsonrpc');
      const first = router.requests.length;
      router.script = () => ({ status: 429, message: 'Too many requests' });
      const stream = patientClient.sendMessageStream(userMessage('hello'));
      const opening = await stream.next();
      const taskId = (opening.value!.payload!.value as Task).id;
      await waitFor(() => router.requests.length > first, 'the first attempt to reach the router');

      const canceled = await patientClient.cancelTask({ id: taskId, tenant: '', metadata: {} });
      assert.equal(canceled.status?.state, TaskState.TASK_STATE_CANCELED);
      for await (const _event of stream);
      const got = await patientClient.getTask({ id: taskId, tenant: '', historyLength: undefined });
      assert.equal(got.status?.state, TaskState.TASK_STATE_CANCELED);
      assert.equal(router.requests.length, first + 1, 'no attempt after the cancel');
      router.script = echoScript;
      await assertStillServes(patientClient);
    });
  });
});

describe('without a token', () => {
  let tokenless: RunningServer;
  let client: Client;
  before(async () => {
    tokenless = await startTestServer({ cards: CARDS, env: { HF_INFERENCE_ENDPOINT: router.url }, modelOptions: MODEL_OPTIONS });
    client = await clientFor(tokenless.url, 'jsonrpc');
  });
  after(async () => {
    await tokenless.close();
  });

  test('an hf. agent fails with a message that says how to set HF_TOKEN, and the router is never called', async () => {
    const first = router.requests.length;
    const task = asTask(await client.sendMessage(userMessage('hello')));
    assertFailed(task, /HF_TOKEN/);
    assert.match(statusText(task), /huggingface\.co\/settings\/tokens/);
    assert.equal(router.requests.length, first, 'no upstream call without a token');
  });

  test('streaming: the failure arrives as the final FAILED status event, and the server keeps serving', async () => {
    const first = router.requests.length;
    const events: StreamResponse[] = [];
    for await (const event of client.sendMessageStream(userMessage('hello'))) events.push(event);
    const last = events.at(-1)!.payload;
    assert.equal(last?.$case, 'statusUpdate');
    assert.equal(last.$case === 'statusUpdate' && last.value.status?.state, TaskState.TASK_STATE_FAILED);
    assert.equal(events.filter((e) => e.payload?.$case === 'artifactUpdate').length, 0, 'no answer chunks');
    const again = asTask(await client.sendMessage(userMessage('still there?')));
    assert.equal(again.status?.state, TaskState.TASK_STATE_FAILED, 'still failing the same way, not crashed');
    assert.match(statusText(again), /HF_TOKEN/);
    const card = await fetch(`${tokenless.url}/.well-known/agent-card.json`);
    assert.equal(card.status, 200);
    assert.equal(router.requests.length, first);
  });
});

describe('the token never shows', () => {
  test('not in failed tasks, their status messages, or any log line, even when the upstream echoes it back', async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    // Upstream errors that quote the credential they were sent, in every shape that carries text.
    const echoToken = (status: number): Script => (request) => ({
      status,
      message: `rejected ${String(request.headers.authorization)} (token ${TOKEN})`,
    });
    const replies: Script[] = [
      echoToken(400), echoToken(401), echoToken(402), echoToken(403), echoToken(404), echoToken(422), echoToken(429), echoToken(500),
      () => ({ breakAfter: ['a partial answer '] }),
      () => ({ text: ['Four'], error: `provider saw Bearer ${TOKEN}` }),
    ];

    const written: string[] = [];
    // Every log line the server writes is seen, so the test knows the log carries no token either.
    setLogLevel('debug');
    const restore = captureOutput((text) => written.push(text));
    const tasks: Task[] = [];
    try {
      for (const reply of replies) {
        router.script = reply;
        const sent = asTask(await client.sendMessage(userMessage('hello')));
        assert.equal(sent.status?.state, TaskState.TASK_STATE_FAILED, statusText(sent));
        tasks.push(sent, await client.getTask({ id: sent.id, tenant: '', historyLength: undefined }));
      }
    } finally {
      flushLog();
      setLogLevel('silent');
      restore();
    }

    // The test can fail: the router did receive the token, and an upstream message did quote it.
    assert.ok(router.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    assert.ok(tasks.some((task) => /rejected/.test(statusText(task))), 'the 400 and 422 messages pass the upstream text on');
    assert.ok(tasks.some((task) => /provider saw/.test(statusText(task))), 'the in-stream error message passes the upstream text on');
    for (const task of tasks) {
      const serialized = JSON.stringify(task);
      assert.ok(!serialized.includes(TOKEN), `task ${task.id} contains the token: ${serialized}`);
      assert.ok(!serialized.includes(TOKEN.slice(3)), `task ${task.id} contains the token without its prefix: ${serialized}`);
    }
    const output = written.join('');
    assert.match(output, /"message":"request"/, 'the log lines were seen');
    assert.ok(!output.includes(TOKEN) && !output.includes(TOKEN.slice(3)), `the server wrote the token: ${output}`);
  });
});

function asTask(result: unknown): Task {
  assert.ok(result && typeof result === 'object' && 'status' in result, 'expected a Task');
  return result as Task;
}

/** The text of a task's status message. */
function statusText(task: Task): string {
  return artifactText({ artifacts: [{ parts: task.status?.message?.parts ?? [] }] });
}

function assertFailed(task: Task, pattern: RegExp): void {
  assert.equal(task.status?.state, TaskState.TASK_STATE_FAILED, `expected FAILED, got state ${task.status?.state}: ${statusText(task)}`);
  assert.match(statusText(task), pattern);
  assert.ok(!JSON.stringify(task).includes(TOKEN), 'the failed task contains the token');
}

async function assertStillServes(client: Client): Promise<void> {
  const task = asTask(await client.sendMessage(userMessage('still there?')));
  assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
  assert.equal(artifactText(task), 'You said: still there?');
}

/** Sees everything written to stdout and stderr (and still writes it) until the returned function is called. */
function captureOutput(sink: (text: string) => void): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const [i, stream] of streams.entries()) {
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
      return (originals[i] as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }
  return () => streams.forEach((stream, i) => (stream.write = originals[i]!));
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
