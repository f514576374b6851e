/**
 * An agent per endpoint: besides the combined card (every agent a skill, routed by
 * `metadata.agent`), each agent is an A2A agent of its own under /agents/<name>/, with its own public
 * card and its own JSON-RPC and REST endpoints behind the same authentication, so a client that
 * cannot set `metadata.agent` (a2a-ai-provider, the Vercel AI SDK's community A2A provider) reaches
 * any agent by URL alone. Also: a client that reads messages and not artifacts sees the answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, streamText } from 'ai';
import { a2a } from 'a2a-ai-provider';
import { Role, TaskState, type Task } from '@a2a-js/sdk';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { artifactText, clientFor, userMessage, v03ClientFor, type Binding } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true, description: 'Echoes.' }),
  'shout.md': card({ name: 'shout', model: 'hf.acme/shouty', description: 'Answers in capitals.', use_history: false }),
};

let router: FakeRouter;
before(async () => {
  // The non-default agent answers differently from the echo, so an answer shows which agent ran.
  router = await startFakeRouter((request) => ({ text: String(request.body.messages.at(-1).content).toUpperCase() }));
});
after(() => router.close());

const taskOf = (result: unknown) => result as Task;
const statusText = (task: Task) => artifactText({ artifacts: [{ parts: task.status?.message?.parts ?? [] }] });

describe('without inbound auth', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ cards: CARDS, env: { HF_TOKEN: fakeToken('server'), HF_INFERENCE_ENDPOINT: router.url } });
  });
  after(() => server.close());

  test("each agent's card is its own: name, description, one skill, endpoints under /agents/<name>/, in the 1.0 and 0.3 shapes", async () => {
    const v1 = await (await fetch(`${server.url}/agents/shout/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    assert.equal(v1.name, 'shout');
    assert.equal(v1.description, 'Answers in capitals.');
    assert.deepEqual(v1.skills.map((skill: { id: string }) => skill.id), ['shout']);
    assert.ok(v1.supportedInterfaces.every((i: { url: string }) => i.url.startsWith(`${server.url}/agents/shout/a2a/`)));
    const v03 = await (await fetch(`${server.url}/agents/shout/.well-known/agent-card.json`)).json();
    assert.equal(v03.protocolVersion, '0.3.0');
    assert.equal(v03.url, `${server.url}/agents/shout/a2a/jsonrpc`);
    assert.equal((await fetch(`${server.url}/agents/nobody/.well-known/agent-card.json`)).status, 404);
  });

  test('a2a-ai-provider (generateText and streamText) reaches the non-default agent by its card URL alone, and shows its answer once', async () => {
    const model = a2a(`${server.url}/agents/shout/.well-known/agent-card.json`);
    const generated = await generateText({ model, prompt: 'hello there' });
    assert.equal(generated.text, 'HELLO THERE');
    const streamed = streamText({ model, prompt: 'streamed hello' });
    let text = '';
    for await (const piece of streamed.textStream) text += piece;
    assert.equal(text, 'STREAMED HELLO');
  });

  for (const binding of ['jsonrpc', 'rest'] as Binding[]) {
    test(`@a2a-js/sdk 1.x over ${binding}: an agent's own endpoint runs that agent, whatever the message names`, async () => {
      const client = await clientFor(`${server.url}/agents/shout/`, binding);
      const task = taskOf(await client.sendMessage(userMessage('who answers', { metadata: { agent: 'echo' } })));
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
      assert.equal(task.metadata?.agent, 'shout');
      assert.equal(artifactText(task), 'WHO ANSWERS');
    });
  }

  test('@a2a-js/sdk 0.3.14 reaches an agent through its own endpoint', async () => {
    const client = await v03ClientFor(`${server.url}/agents/shout/`);
    const result = (await client.sendMessage({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'old client' }] } })) as {
      kind: string;
      artifacts?: Array<{ parts: Array<{ text?: string }> }>;
    };
    assert.equal(result.kind, 'task');
    assert.equal(result.artifacts?.[0]?.parts.map((part) => part.text).join(''), 'OLD CLIENT');
  });

  test("an agent's endpoint sees only that agent's tasks; the combined endpoint sees all of the caller's", async () => {
    const shout = await clientFor(`${server.url}/agents/shout/`, 'jsonrpc');
    const echo = await clientFor(`${server.url}/agents/echo/`, 'jsonrpc');
    const combined = await clientFor(server.url, 'jsonrpc');
    const task = taskOf(await shout.sendMessage(userMessage('mine')));
    assert.equal((await shout.getTask({ id: task.id, tenant: '', historyLength: undefined })).id, task.id);
    assert.equal((await combined.getTask({ id: task.id, tenant: '', historyLength: undefined })).id, task.id);
    await assert.rejects(echo.getTask({ id: task.id, tenant: '', historyLength: undefined }), /not found/i);
    await assert.rejects(echo.cancelTask({ id: task.id, tenant: '', metadata: {} }), /not found/i);
    const listed = await echo.listTasks({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined });
    assert.ok(listed.tasks.every((t) => t.metadata?.agent === 'echo'), 'the echo endpoint lists echo tasks only');
  });

  test("a client that reads only messages sees the answer as the agent's message in the task's history, and only once in what a2a-ai-provider reads", async () => {
    const client = await clientFor(server.url, 'jsonrpc');
    const task = taskOf(await client.sendMessage(userMessage('read me from the history')));
    const agentMessages = task.history.filter((message) => message.role === Role.ROLE_AGENT);
    assert.deepEqual(agentMessages.map((message) => artifactText({ artifacts: [message] })), ['read me from the history']);
    assert.equal(statusText(task), '', 'the status message does not repeat it');
    const streamed = [];
    for await (const event of client.sendMessageStream(userMessage('and after a stream'))) streamed.push(event);
    const first = streamed[0]?.payload?.value as Task;
    const got = await client.getTask({ id: first.id, tenant: '', historyLength: undefined });
    assert.equal(artifactText({ artifacts: [got.history.at(-1)!] }), 'and after a stream');
  });
});

describe('with inbound auth', () => {
  let hub: FakeHub;
  let server: RunningServer;
  const alice = fakeToken('alice');
  before(async () => {
    hub = await startFakeHub({ [alice]: { name: 'alice' } });
    server = await startTestServer({ cards: CARDS, env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url } });
  });
  after(async () => {
    await server.close();
    await hub.close();
  });

  test("an agent's card is public; its endpoints need the same token as the combined ones", async () => {
    const cardResponse = await fetch(`${server.url}/agents/shout/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } });
    assert.equal(cardResponse.status, 200);
    assert.ok(Object.keys((await cardResponse.json()).securitySchemes).length > 0, 'the card says how to authenticate');
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'm', role: 'ROLE_USER', parts: [{ text: 'x' }] } } });
    const headers = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
    for (const [method, path, sent] of [
      ['POST', '/agents/shout/a2a/jsonrpc', body],
      ['POST', '/agents/shout/a2a/rest/message:send', body],
      ['GET', '/agents/shout/a2a/rest/tasks', undefined],
      ['POST', '/agents/nobody/a2a/jsonrpc', body],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method, headers, body: sent });
      assert.equal(response.status, 401, `${method} ${path}`);
    }
    const client = await clientFor(`${server.url}/agents/shout/`, 'rest', alice);
    assert.equal(artifactText(taskOf(await client.sendMessage(userMessage('with a token')))), 'WITH A TOKEN');
  });
});
