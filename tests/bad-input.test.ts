/**
 * Bad input gets a clear error in the binding's own shape (JSON-RPC error codes, HTTP status with
 * a REST error body), never a stack trace or a hang, and the server keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/server.ts';
import type { RunningServer } from '../src/server.ts';

let server: RunningServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const JSON_HEADERS = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
const sendParams = (text = 'hi') => ({ message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] } });

async function rpc(body: string | object, headers: Record<string, string> = JSON_HEADERS) {
  const response = await fetch(`${server.url}/a2a/jsonrpc`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  assert.doesNotMatch(text, /\n\s+at |node_modules|\.ts:\d+/, 'no stack trace in an error body');
  return { status: response.status, json: JSON.parse(text) };
}

async function rest(method: string, path: string, body?: string, headers: Record<string, string> = JSON_HEADERS) {
  const response = await fetch(`${server.url}/a2a/rest${path}`, { method, headers, body });
  const text = await response.text();
  assert.doesNotMatch(text, /\n\s+at |node_modules|\.ts:\d+/, 'no stack trace in an error body');
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
}

describe('JSON-RPC binding', () => {
  // JSON-RPC errors travel with HTTP 200, as the SDK's clients and the conformance kit read them.
  test('malformed JSON is a parse error (-32700), with HTTP 200', async () => {
    const { status, json } = await rpc('{"jsonrpc": "2.0", "method": ');
    assert.equal(status, 200);
    assert.equal(json.error.code, -32700);
    assert.equal(json.id, null);
  });

  for (const [name, body] of [
    ['an object that is not JSON-RPC', { hello: 'world' }],
    ['a wrong jsonrpc version', { jsonrpc: '1.0', id: 1, method: 'SendMessage', params: sendParams() }],
    ['a batch', [{ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' } }]],
    ['a bare string', '"SendMessage"'],
    ['a fractional id', { jsonrpc: '2.0', id: 1.5, method: 'GetTask', params: { id: 'x' } }],
    ['a missing method', { jsonrpc: '2.0', id: 3 }],
  ] as const) {
    test(`${name} is an invalid request (-32600), with HTTP 200`, async () => {
      const { status, json } = await rpc(typeof body === 'string' ? body : body);
      assert.equal(status, 200);
      assert.equal(json.error.code, -32600);
      assert.match(json.error.message, /Invalid Request/);
    });
  }

  test('an unknown method is method not found (-32601) and lists the methods that exist', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 'x1', method: 'tasks/explode', params: {} });
    assert.equal(json.id, 'x1');
    assert.equal(json.error.code, -32601);
    assert.match(json.error.message, /SendMessage/);
    assert.match(json.error.message, /message\/send/);
  });

  test('params that are not an object are invalid params (-32602)', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 2, method: 'SendMessage', params: 'hello' });
    assert.equal(json.error.code, -32602);
  });

  test('a SendMessage without a message is invalid params (-32602)', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 2, method: 'SendMessage', params: {} });
    assert.equal(json.error.code, -32602);
  });

  test('an unknown task is task not found (-32001)', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 4, method: 'GetTask', params: { id: 'does-not-exist' } });
    assert.equal(json.error.code, -32001);
  });

  test('cancelling a finished task is not cancelable (-32002)', async () => {
    const sent = await rpc({ jsonrpc: '2.0', id: 5, method: 'SendMessage', params: sendParams() });
    const taskId = sent.json.result.task.id;
    const { json } = await rpc({ jsonrpc: '2.0', id: 6, method: 'CancelTask', params: { id: taskId } });
    assert.equal(json.error.code, -32002);
  });

  test('A2A 0.3 methods get 0.3-shaped errors: tasks/get of an unknown task', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 7, method: 'tasks/get', params: { id: 'nope' } }, { 'Content-Type': 'application/json' });
    assert.equal(json.error.code, -32001);
  });

  test('a tenant in params that is not a short plain name is invalid params (-32602)', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 12, method: 'SendMessage', params: { ...sendParams(), tenant: 'x'.repeat(5000) } });
    assert.equal(json.error.code, -32602);
    const { json: typed } = await rpc({ jsonrpc: '2.0', id: 13, method: 'GetTask', params: { id: 'x', tenant: 42 } });
    assert.equal(typed.error.code, -32602);
  });

  test('no turn outlives its task, whatever the tenant', async () => {
    for (let i = 0; i < 20; i++) {
      await rest('POST', `/tenant-${i}/message:send`, JSON.stringify(sendParams()));
      await rpc({ jsonrpc: '2.0', id: i, method: 'SendMessage', params: { ...sendParams(), tenant: `rpc-${i}` } });
    }
    assert.equal(server.requestHandler.running, 0);
  });

  test('an unsupported protocol version is refused (-32009)', async () => {
    const { json } = await rpc({ jsonrpc: '2.0', id: 8, method: 'SendMessage', params: sendParams() }, { 'Content-Type': 'application/json', 'A2A-Version': '9.9' });
    assert.equal(json.error.code, -32009);
  });

  test('a wrong content type is refused (415, -32005)', async () => {
    const { status, json } = await rpc({ jsonrpc: '2.0', id: 9, method: 'GetTask', params: { id: 'x' } }, { 'Content-Type': 'text/plain' });
    assert.equal(status, 415);
    assert.equal(json.error.code, -32005);
  });

  test('a body over 1 MiB is refused with 413, declared or streamed', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'SendMessage', params: sendParams('x'.repeat(1024 * 1024 + 10)) });
    const declared = await rpc(big);
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.code, -32600);

    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: JSON_HEADERS, body: chunked, duplex: 'half' } as RequestInit);
    assert.equal(response.status, 413);
    assert.equal((await response.json()).error.code, -32600);
  });

  test('a GET on the JSON-RPC endpoint is not found, not a crash', async () => {
    const response = await fetch(`${server.url}/a2a/jsonrpc`);
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, 404);
  });
});

describe('HTTP+JSON binding', () => {
  test('malformed JSON is 400 INVALID_ARGUMENT', async () => {
    const { status, json } = await rest('POST', '/message:send', '{"message": ');
    assert.equal(status, 400);
    assert.equal(json.error.status, 'INVALID_ARGUMENT');
  });

  test('a body that is not an object is 400', async () => {
    const { status } = await rest('POST', '/message:send', '[1,2,3]');
    assert.equal(status, 400);
  });

  test('a missing message is 400', async () => {
    const { status, json } = await rest('POST', '/message:send', '{}');
    assert.equal(status, 400);
    assert.match(json.error.message, /message/);
  });

  test('a wrong content type is 415', async () => {
    const { status, json } = await rest('POST', '/message:send', JSON.stringify(sendParams()), { 'Content-Type': 'text/plain', 'A2A-Version': '1.0' });
    assert.equal(status, 415);
    assert.match(json.error.message, /Content-Type/);
  });

  test('an unknown task is 404', async () => {
    const { status, json } = await rest('GET', '/tasks/nope');
    assert.equal(status, 404);
    assert.equal(json.error.status, 'NOT_FOUND');
  });

  test('an unknown path is 404 and a known path with the wrong method is 405', async () => {
    assert.equal((await rest('GET', '/message:explode')).status, 404);
    assert.equal((await rest('GET', '/tasks/a/b/c')).status, 404);
    const wrong = await rest('GET', '/message:send');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
  });

  test('a bad historyLength or pageSize is 400', async () => {
    assert.equal((await rest('GET', '/tasks/x?historyLength=-1')).status, 400);
    assert.equal((await rest('GET', '/tasks?pageSize=ten')).status, 400);
    assert.equal((await rest('GET', '/tasks?pageSize=1000')).status, 400);
  });

  test('a body over 1 MiB is 413', async () => {
    const { status, json } = await rest('POST', '/message:send', JSON.stringify(sendParams('y'.repeat(1024 * 1024 + 10))));
    assert.equal(status, 413);
    assert.equal(json.error.code, 413);
  });

  test('a tenant that is not a short plain name is refused (400)', async () => {
    const long = 't'.repeat(65);
    assert.equal((await rest('POST', `/${long}/message:send`, JSON.stringify(sendParams()))).status, 400);
    assert.equal((await rest('GET', '/bad%20tenant/tasks')).status, 400);
  });

  test('the same operations work under a tenant prefix', async () => {
    const sent = await rest('POST', '/acme/message:send', JSON.stringify(sendParams('tenant hello')));
    assert.equal(sent.status, 200);
    const id = sent.json.task.id;
    assert.equal((await rest('GET', `/acme/tasks/${id}`)).status, 200);
    assert.equal((await rest('GET', `/other/tasks/${id}`)).status, 404, 'a task is not visible from another tenant');
  });
});

test('after all of that the server still serves', async () => {
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  const { json } = await rpc({ jsonrpc: '2.0', id: 11, method: 'SendMessage', params: sendParams('still here') });
  assert.equal(json.result.task.status.state, 'TASK_STATE_COMPLETED');
});
