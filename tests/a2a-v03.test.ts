/**
 * A2A 0.3, which most deployed clients still speak: a request without `A2A-Version` is 0.3, the
 * card such a client fetches lets it call the agent, and the 0.3 JSON-RPC methods work end to end
 * with two clients nobody here wrote: the last 0.3 release of @a2a-js/sdk, and the 1.x SDK's own
 * 0.3 compatibility transport.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { artifactText, legacyClientFor, userMessage, v03ClientFor } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

let router: FakeRouter;
let server: RunningServer;

before(async () => {
  router = await startFakeRouter(() => ({ text: 'slowly but surely we get there in the end', delayMs: 40 }));
  server = await startTestServer({
    cards: {
      'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
      'slow.md': card({ name: 'slow', model: 'hf.test-org/slow-model' }),
    },
    env: { HF_TOKEN: 'hf_servertoken0002', HF_INFERENCE_ENDPOINT: router.url },
  });
});
after(async () => {
  await server.close();
  await router.close();
});

describe('the card a header-less client fetches', () => {
  test('is a 0.3 card whose url is the JSON-RPC endpoint, and still lists the 1.0 interfaces', async () => {
    const response = await fetch(`${server.url}/.well-known/agent-card.json`);
    const body = await response.json();
    assert.equal(body.protocolVersion, '0.3.0');
    assert.equal(body.url, `${server.url}/a2a/jsonrpc`);
    assert.equal(body.preferredTransport, 'JSONRPC');
    assert.deepEqual(body.capabilities, { streaming: true, pushNotifications: false });
    assert.ok(body.supportedInterfaces.some((i: { protocolBinding: string; protocolVersion: string }) => i.protocolBinding === 'HTTP+JSON' && i.protocolVersion === '1.0'));
    assert.match(response.headers.get('vary') ?? '', /A2A-Version/);
  });

  test('the legacy path /.well-known/agent.json serves the same card', async () => {
    const legacy = await (await fetch(`${server.url}/.well-known/agent.json`)).json();
    const current = await (await fetch(`${server.url}/.well-known/agent-card.json`)).json();
    assert.deepEqual(legacy, current);
  });
});

describe('@a2a-js/sdk 0.3.14 client', () => {
  const message = (text: string, extra: Record<string, unknown> = {}) => ({
    message: { kind: 'message' as const, messageId: crypto.randomUUID(), role: 'user' as const, parts: [{ kind: 'text' as const, text }], ...extra },
  });

  test('sends and gets a completed task', async () => {
    const client = await v03ClientFor(server.url);
    const result = await client.sendMessage(message('hello from 0.3'));
    assert.equal(result.kind, 'task');
    const task = result as { id: string; status: { state: string }; artifacts?: Array<{ parts: Array<{ kind: string; text?: string }> }> };
    assert.equal(task.status.state, 'completed');
    assert.equal(task.artifacts?.[0]?.parts.map((p) => p.text).join(''), 'hello from 0.3');
    const got = await client.getTask({ id: task.id });
    assert.equal(got.status.state, 'completed');
  });

  test('streams 0.3 events: task, status-update, artifact-updates, final status-update', async () => {
    const client = await v03ClientFor(server.url);
    const kinds: string[] = [];
    let final: { final?: boolean; status?: { state: string } } | undefined;
    for await (const event of client.sendMessageStream(message('one two three'))) {
      kinds.push(event.kind);
      if (event.kind === 'status-update') final = event;
    }
    assert.equal(kinds[0], 'task');
    assert.ok(kinds.filter((k) => k === 'artifact-update').length >= 2, 'the answer streams in more than one piece');
    assert.equal(final?.status?.state, 'completed');
    assert.equal(final?.final, true);
  });

  test('cancels a running task', async () => {
    const client = await v03ClientFor(server.url);
    const stream = client.sendMessageStream(message('go', { metadata: { agent: 'slow' } }));
    const first = await stream.next();
    assert.equal(first.value?.kind, 'task');
    const taskId = (first.value as { id: string }).id;
    const canceled = await client.cancelTask({ id: taskId });
    assert.equal(canceled.status.state, 'canceled');
    await stream.return(undefined);
  });

  test('a task that does not exist is an error, not a hang', async () => {
    const client = await v03ClientFor(server.url);
    await assert.rejects(client.getTask({ id: 'nope' }), /not found/i);
  });
});

describe('@a2a-js/sdk 1.x v0.3 compatibility transport', () => {
  test('speaks 0.3 on the wire', async () => {
    const client = await legacyClientFor(server.url);
    assert.equal(client.transport.protocolVersion, '0.3');
  });

  test('send, get, stream, resubscribe and cancel', async () => {
    const client = await legacyClientFor(server.url);
    const sent = (await client.sendMessage(userMessage('compat hello'))) as Task;
    assert.equal(sent.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(sent), 'compat hello');
    assert.equal((await client.getTask({ id: sent.id, tenant: '', historyLength: undefined })).id, sent.id);

    const stream = client.sendMessageStream(userMessage('watch me', { metadata: { agent: 'slow' } }));
    const first = await stream.next();
    const taskId = (first.value!.payload!.value as Task).id;
    const follower = client.resubscribeTask({ id: taskId, tenant: '' });
    const snapshot = await follower.next();
    assert.equal(snapshot.value?.payload?.$case, 'task');
    const canceled = await client.cancelTask({ id: taskId, tenant: '', metadata: {} });
    assert.equal(canceled.status?.state, TaskState.TASK_STATE_CANCELED);
    let lastState: TaskState | undefined;
    for await (const event of follower) if (event.payload?.$case === 'statusUpdate') lastState = event.payload.value.status?.state;
    assert.equal(lastState, TaskState.TASK_STATE_CANCELED);
    await stream.return(undefined);
  });
});
