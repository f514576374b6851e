/**
 * Strict input on the request path: every rule the A2A conformance kit holds a server to, checked
 * over real HTTP against the real server, on the A2A 1.0 methods (`A2A-Version: 1.0`) and, where
 * the rule has a 0.3 counterpart, on the 0.3 methods (no header). Each refusal must carry the
 * protocol's own code (JSON-RPC errors with HTTP 200; REST with its HTTP status) and a message that
 * names the field at fault, so a person can fix the request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import type { RunningServer } from '../src/server.ts';

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
  'slow.md': card({ name: 'slow', model: 'hf.test-org/slow-model', use_history: false }),
};
const SLOW_TEXT = 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20';

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  router = await startFakeRouter(() => ({ text: SLOW_TEXT, delayMs: 100 }));
  server = await startTestServer({ cards: CARDS, env: { HF_TOKEN: 'hf_strictinputtoken0001', HF_INFERENCE_ENDPOINT: router.url } });
});
after(async () => {
  await server.close();
  await router.close();
});

const V1 = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
const V03 = { 'Content-Type': 'application/json' };

type Headers = Record<string, string>;

let nextId = 1;
const v1Message = (text = 'hi', extra: Record<string, unknown> = {}) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...extra });
const v03Message = (text = 'hi', extra: Record<string, unknown> = {}) => ({ kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text }], ...extra });

async function post(path: string, body: string | object, headers: Headers) {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  assert.doesNotMatch(text, /\n\s+at |node_modules|\.ts:\d+/, 'no stack trace in a response body');
  return { status: response.status, headers: response.headers, text };
}

/** One JSON-RPC call; the parsed body. */
async function rpc(body: string | object, headers: Headers = V1, path = '/a2a/jsonrpc') {
  const { status, headers: responseHeaders, text } = await post(path, body, headers);
  return { status, headers: responseHeaders, json: JSON.parse(text) };
}

/** A request envelope for `method` with `params`. */
const call = (method: string, params: unknown) => ({ jsonrpc: '2.0', id: nextId++, method, params });

/** Asserts a JSON-RPC error: HTTP 200, the code, and a message matching `field`. */
async function expectRpcError(body: string | object, headers: Headers, code: number, field: RegExp) {
  const { status, json } = await rpc(body, headers);
  assert.equal(status, 200, `JSON-RPC errors travel with HTTP 200; got ${status}: ${JSON.stringify(json)}`);
  assert.ok(json.error, `expected an error, got ${JSON.stringify(json)}`);
  assert.equal(json.error.code, code, `expected code ${code}, got ${JSON.stringify(json.error)}`);
  assert.match(json.error.message, field, `the message names the field: ${json.error.message}`);
  return json;
}

async function rest(method: string, path: string, body?: string | object, headers: Headers = V1) {
  const response = await fetch(`${server.url}/a2a/rest${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  assert.doesNotMatch(text, /\n\s+at |node_modules|\.ts:\d+/, 'no stack trace in a response body');
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

/** A completed task made by the echo agent; its id. */
async function finishedTaskId(text = 'done'): Promise<string> {
  const { json } = await rpc(call('SendMessage', { message: v1Message(text) }));
  assert.equal(json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', JSON.stringify(json));
  return json.result.task.id;
}

describe('a malformed JSON-RPC envelope is -32600 (Invalid Request) with HTTP 200', () => {
  const cases: Array<[string, (method: string) => object, RegExp]> = [
    ['no method', () => ({ jsonrpc: '2.0', id: 1, params: {} }), /"?method"?/],
    ['jsonrpc not "2.0"', (method) => ({ jsonrpc: '1.0', id: 2, method, params: { id: 'x' } }), /jsonrpc/],
    ['an id that is an object', (method) => ({ jsonrpc: '2.0', id: { a: 1 }, method, params: { id: 'x' } }), /\bid\b/],
    ['an id that is an array', (method) => ({ jsonrpc: '2.0', id: [1, 2], method, params: { id: 'x' } }), /\bid\b/],
  ];
  for (const [version, headers, method] of [
    ['1.0', V1, 'GetTask'],
    ['0.3', V03, 'tasks/get'],
  ] as const) {
    for (const [name, body, field] of cases) {
      test(`${version}: ${name}`, async () => {
        const json = await expectRpcError(body(method), headers, -32600, field);
        assert.equal(json.jsonrpc, '2.0');
        if (name.startsWith('an id')) assert.equal(json.id, null, 'an id that cannot be echoed is answered with id null');
      });
    }
  }
});

describe('a bad message is -32602 (Invalid params)', () => {
  test('1.0: empty parts', async () => {
    await expectRpcError(call('SendMessage', { message: v1Message('x', { parts: [] }) }), V1, -32602, /parts/);
  });
  test('0.3: empty parts', async () => {
    await expectRpcError(call('message/send', { message: v03Message('x', { parts: [] }) }), V03, -32602, /parts/);
  });
  test('1.0: a message without role', async () => {
    const { role: _, ...message } = v1Message();
    await expectRpcError(call('SendMessage', { message }), V1, -32602, /role/);
  });
  test('0.3: a message without role', async () => {
    const { role: _, ...message } = v03Message();
    await expectRpcError(call('message/send', { message }), V03, -32602, /role/);
  });
  test('1.0: the 0.3 role spelling "user" on SendMessage', async () => {
    const json = await expectRpcError(call('SendMessage', { message: v1Message('x', { role: 'user' }) }), V1, -32602, /role/);
    assert.match(json.error.message, /ROLE_USER/, 'the message says what the role must be');
  });
  test('1.0: a part with two contents', async () => {
    await expectRpcError(call('SendMessage', { message: v1Message('x', { parts: [{ text: 'a', url: 'b' }] }) }), V1, -32602, /parts\[0\]/);
  });
  test('1.0: a part with no content', async () => {
    await expectRpcError(call('SendMessage', { message: v1Message('x', { parts: [{}] }) }), V1, -32602, /parts\[0\]/);
  });
  test('1.0: a messageId that is an object with a bad toString is -32602, not -32603', async () => {
    await expectRpcError(call('SendMessage', { message: v1Message('x', { messageId: { toString: 1 } }) }), V1, -32602, /messageId/);
  });
  test('0.3: a messageId that is an object is -32602', async () => {
    await expectRpcError(call('message/send', { message: v03Message('x', { messageId: { toString: 1 } }) }), V03, -32602, /messageId/);
  });
  test('1.0: a part with "raw": 5', async () => {
    await expectRpcError(call('SendMessage', { message: v1Message('x', { parts: [{ raw: 5 }] }) }), V1, -32602, /raw/);
  });
  test('0.3: a file part with "bytes": 5', async () => {
    const parts = [{ kind: 'file', file: { bytes: 5, mimeType: 'application/octet-stream' } }];
    await expectRpcError(call('message/send', { message: v03Message('x', { parts }) }), V03, -32602, /bytes/);
  });
  test('0.3: tasks/get with {"id": 5}', async () => {
    await expectRpcError(call('tasks/get', { id: 5 }), V03, -32602, /\bid\b/);
  });
  test('1.0: GetTask with {"id": 5}', async () => {
    await expectRpcError(call('GetTask', { id: 5 }), V1, -32602, /\bid\b/);
  });
});

describe('a negative historyLength is refused', () => {
  test('1.0 GetTask', async () => {
    const id = await finishedTaskId();
    await expectRpcError(call('GetTask', { id, historyLength: -1 }), V1, -32602, /historyLength/);
  });
  test('0.3 tasks/get', async () => {
    const id = await finishedTaskId();
    await expectRpcError(call('tasks/get', { id, historyLength: -1 }), V03, -32602, /historyLength/);
  });
  test('1.0 ListTasks', async () => {
    await expectRpcError(call('ListTasks', { historyLength: -3 }), V1, -32602, /historyLength/);
  });
  test('1.0 SendMessage configuration.historyLength', async () => {
    await expectRpcError(call('SendMessage', { message: v1Message(), configuration: { historyLength: -1 } }), V1, -32602, /configuration\.historyLength/);
  });
  test('0.3 message/send configuration.historyLength', async () => {
    await expectRpcError(call('message/send', { message: v03Message(), configuration: { historyLength: -1 } }), V03, -32602, /historyLength/);
  });
  test('REST GET /tasks/x?historyLength=-1 is 400', async () => {
    const { status, json, headers } = await rest('GET', '/tasks/x?historyLength=-1');
    assert.equal(status, 400);
    assert.match(json.error.message, /historyLength/);
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
  });
});

describe('ListTasks statusTimestampAfter', () => {
  for (const bad of ['-1', 'yesterday']) {
    test(`${JSON.stringify(bad)} is -32602`, async () => {
      await expectRpcError(call('ListTasks', { statusTimestampAfter: bad }), V1, -32602, /statusTimestampAfter/);
    });
  }

  test('a valid RFC 3339 timestamp filters: a past one keeps a new task, a future one leaves it out', async () => {
    const id = await finishedTaskId('timestamped');
    const past = await rpc(call('ListTasks', { statusTimestampAfter: new Date(Date.now() - 60_000).toISOString(), pageSize: 100 }));
    assert.ok(past.json.result, JSON.stringify(past.json));
    assert.ok(past.json.result.tasks.some((task: { id: string }) => task.id === id), 'a task that changed after the time is listed');
    const future = await rpc(call('ListTasks', { statusTimestampAfter: '2999-01-01T00:00:00Z', pageSize: 100 }));
    assert.ok(future.json.result, JSON.stringify(future.json));
    assert.ok(!(future.json.result.tasks ?? []).some((task: { id: string }) => task.id === id), 'a task that has not changed since the time is not listed');
  });
});

test('REST message:send with Content-Type text/plain is 415, naming the content type', async () => {
  const { status, json, headers } = await rest('POST', '/message:send', JSON.stringify({ message: v1Message() }), { 'Content-Type': 'text/plain', 'A2A-Version': '1.0' });
  assert.equal(status, 415);
  assert.match(json.error.message, /Content-Type/);
  assert.match(headers.get('content-type') ?? '', /^application\/json/);
});

test('cancelling a task that was already canceled is -32002 (TaskNotCancelable), on 1.0 and 0.3', async () => {
  const sent = await rpc(call('SendMessage', { message: v1Message('cancel me', { metadata: { agent: 'slow' } }), configuration: { returnImmediately: true } }));
  const task = sent.json.result?.task;
  assert.ok(task, JSON.stringify(sent.json));
  assert.notEqual(task.status.state, 'TASK_STATE_COMPLETED', 'the slow task is still running when the send answers');
  const first = await rpc(call('CancelTask', { id: task.id }));
  assert.equal(first.json.result?.status?.state, 'TASK_STATE_CANCELED', JSON.stringify(first.json));
  const again = await expectRpcError(call('CancelTask', { id: task.id }), V1, -32002, /cancel/i);
  assert.match(again.error.message, /canceled/, 'the message says the task is already canceled');
  await expectRpcError(call('tasks/cancel', { id: task.id }), V03, -32002, /cancel/i);
});

describe('JSON nested 3,000 deep inside params.metadata', () => {
  const deep = '{"a":'.repeat(3000) + '1' + '}'.repeat(3000);
  for (const [version, headers, method, message] of [
    ['1.0', V1, 'SendMessage', v1Message()],
    ['0.3', V03, 'message/send', v03Message()],
  ] as const) {
    test(`${version}: -32602 quickly, and the server still answers /healthz`, async () => {
      const body = `{"jsonrpc":"2.0","id":77,"method":"${method}","params":{"message":${JSON.stringify(message)},"metadata":${deep}}}`;
      const started = performance.now();
      await expectRpcError(body, headers, -32602, /deep|nest/i);
      assert.ok(performance.now() - started < 1000, 'refused in well under a second');
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
    });
  }
});

test('ProtoJSON snake_case names are accepted: a SendMessage whose message uses message_id completes', async () => {
  const { json } = await rpc(call('SendMessage', { message: { message_id: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'snake case' }] } }));
  assert.ok(json.result, JSON.stringify(json));
  assert.equal(json.result.task.status.state, 'TASK_STATE_COMPLETED');
  assert.equal(json.result.task.artifacts[0].parts[0].text, 'snake case');
});

test('POST /a2a/jsonrpc/ (trailing slash) works like /a2a/jsonrpc, for 1.0 and 0.3', async () => {
  const v1 = await rpc(call('SendMessage', { message: v1Message('slash') }), V1, '/a2a/jsonrpc/');
  assert.equal(v1.status, 200);
  assert.equal(v1.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', JSON.stringify(v1.json));
  const v03 = await rpc(call('message/send', { message: v03Message('slash 0.3') }), V03, '/a2a/jsonrpc/');
  assert.equal(v03.json.result?.status?.state, 'completed', JSON.stringify(v03.json));
  const bad = await rpc({ jsonrpc: '2.0', id: 5 }, V1, '/a2a/jsonrpc/');
  assert.equal(bad.json.error?.code, -32600, 'the same envelope checks apply');
});

describe('push notifications are not supported', () => {
  for (const [method, suffix] of [
    ['POST', ''],
    ['GET', ''],
    ['GET', '/cfg1'],
    ['DELETE', '/cfg1'],
  ] as const) {
    test(`REST ${method} /tasks/{id}/pushNotificationConfigs${suffix} is 400 PUSH_NOTIFICATION_NOT_SUPPORTED`, async () => {
      const id = await finishedTaskId();
      const body = method === 'POST' ? { url: 'https://example.com/hook', id: 'cfg1', taskId: id } : undefined;
      const { status, json, headers } = await rest(method, `/tasks/${id}/pushNotificationConfigs${suffix}`, body);
      assert.equal(status, 400, JSON.stringify(json));
      assert.match(headers.get('content-type') ?? '', /^application\/json/);
      assert.match(json.error.message, /push notification/i);
      assert.ok(
        (json.error.details ?? []).some((detail: { reason?: string }) => detail.reason === 'PUSH_NOTIFICATION_NOT_SUPPORTED'),
        `details carry reason PUSH_NOTIFICATION_NOT_SUPPORTED: ${JSON.stringify(json.error.details)}`,
      );
    });
  }

  test('JSON-RPC CreateTaskPushNotificationConfig is -32003', async () => {
    const id = await finishedTaskId();
    await expectRpcError(call('CreateTaskPushNotificationConfig', { taskId: id, id: 'cfg1', url: 'https://example.com/hook' }), V1, -32003, /push notification/i);
  });

  test('JSON-RPC 0.3 tasks/pushNotificationConfig/set is -32003', async () => {
    const id = await finishedTaskId();
    await expectRpcError(call('tasks/pushNotificationConfig/set', { taskId: id, pushNotificationConfig: { url: 'https://example.com/hook' } }), V03, -32003, /push notification/i);
  });
});

describe('there is no extended agent card', () => {
  test('JSON-RPC GetExtendedAgentCard is -32004 (UnsupportedOperation)', async () => {
    await expectRpcError(call('GetExtendedAgentCard', {}), V1, -32004, /extended card/i);
  });
  test('REST GET /extendedAgentCard is 400', async () => {
    const { status, json, headers } = await rest('GET', '/extendedAgentCard');
    assert.equal(status, 400, JSON.stringify(json));
    assert.match(json.error.message, /extended card/i);
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
  });
});

test('the agent card has a Last-Modified header that parses as a date not in the future', async () => {
  const response = await fetch(`${server.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } });
  assert.equal(response.status, 200);
  const lastModified = response.headers.get('last-modified');
  assert.ok(lastModified, 'Last-Modified is set');
  const when = Date.parse(lastModified);
  assert.ok(Number.isFinite(when), `Last-Modified parses as a date: ${lastModified}`);
  assert.ok(when <= Date.now(), 'Last-Modified is not in the future');
  await response.body?.cancel();
});

test('0.3 tasks/resubscribe to an unknown task answers as SSE with a -32001 error in a data line', async () => {
  const response = await fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: V03, body: JSON.stringify(call('tasks/resubscribe', { id: 'no-such-task' })) });
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await response.text();
  const data = text.split('\n').filter((line) => line.startsWith('data:'));
  assert.equal(data.length, 1, `one data line: ${text}`);
  const envelope = JSON.parse(data[0]!.slice('data:'.length));
  assert.equal(envelope.jsonrpc, '2.0');
  assert.equal(envelope.error?.code, -32001, text);
  assert.match(envelope.error.message, /not found/i);
});

test('REST answers are application/a2a+json on success and application/json on error', async () => {
  const sent = await rest('POST', '/message:send', { message: v1Message('rest type') });
  assert.equal(sent.status, 200);
  assert.match(sent.headers.get('content-type') ?? '', /^application\/a2a\+json/);
  const id = sent.json.task.id;
  const got = await rest('GET', `/tasks/${id}`);
  assert.equal(got.status, 200);
  assert.match(got.headers.get('content-type') ?? '', /^application\/a2a\+json/);
  const listed = await rest('GET', '/tasks?pageSize=5');
  assert.equal(listed.status, 200);
  assert.match(listed.headers.get('content-type') ?? '', /^application\/a2a\+json/);

  const missing = await rest('GET', '/tasks/no-such-task');
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /^application\/json/);
  const malformed = await rest('POST', '/message:send', { message: v1Message('x', { parts: [] }) });
  assert.equal(malformed.status, 400);
  assert.match(malformed.headers.get('content-type') ?? '', /^application\/json/);
  assert.match(malformed.json.error.message, /parts/);
});

test('after all of that, a normal SendMessage still completes', async () => {
  const { json } = await rpc(call('SendMessage', { message: v1Message('still here') }));
  assert.equal(json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', JSON.stringify(json));
  assert.equal(json.result.task.artifacts[0].parts[0].text, 'still here');
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
});
