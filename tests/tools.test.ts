/**
 * Agents that use MCP tools, called as the caller: the loop lists tools (never hard-coded), offers
 * them to the model as functions, runs the calls it asks for and feeds the results back; progress
 * shows as status updates; every failure ends in a good answer without that tool, or a task that
 * says what failed; listings are cached per caller; connections and tokens are never shared.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter, type RecordedRequest, type Reply } from './support/fake-router.ts';
import { HUGE_RESULT_CHARS, startMcpServer, type TestMcpServer } from './support/mcp-server.ts';
import { artifactText, clientFor, userMessage } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const ALICE = fakeToken('alice');
const BOB = fakeToken('bob');
const SERVER_TOKEN = fakeToken('server');
const MAX_RESULT = 2_000;

let hub: FakeHub;
let router: FakeRouter;
let mcp: TestMcpServer;
let server: RunningServer;
let alice: Client;

/** The model: on the first request ask for `call`, then answer with what the tool said. */
function toolThenAnswer(call: { name: string; arguments: string }) {
  return (request: RecordedRequest): Reply => {
    const toolMessage = [...request.body.messages].reverse().find((m: { role: string }) => m.role === 'tool');
    return toolMessage ? { text: `The tool said: ${toolMessage.content}` } : { toolCalls: [call] };
  };
}

const modelRequests = () => router.requests.filter((r) => r.path.endsWith('/chat/completions'));

before(async () => {
  hub = await startFakeHub({ [ALICE]: { name: 'alice' }, [BOB]: { name: 'bob' } });
  router = await startFakeRouter();
  mcp = await startMcpServer();
  const tooling = (name: string, extra: Record<string, unknown> = {}) =>
    card({ name, model: 'hf.acme/tool-user', use_history: false, mcp_connect: { hub: { target: mcp.url, auth: { forward: 'huggingface' } } }, ...extra });
  server = await startTestServer({
    cards: {
      'tooling.md': tooling('tooling', { default: true }),
      'looping.md': tooling('looping', { request_params: { max_iterations: 3 } }),
      'broken.md': card({ name: 'broken', model: 'hf.acme/tool-user', use_history: false, mcp_connect: { gone: { target: 'http://127.0.0.1:1/mcp' } } }),
      // Same server name as the tooling agent's, another server: listings must not mix them up.
      'namesake.md': card({ name: 'namesake', model: 'hf.acme/tool-user', use_history: false, mcp_connect: { hub: { target: 'http://127.0.0.1:1/other-mcp' } } }),
    },
    env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url, HF_TOKEN: SERVER_TOKEN },
    mcpLimits: { maxResultChars: MAX_RESULT, callTimeoutMs: 1_500, maxResponseBytes: 1_000_000 },
  });
  alice = await clientFor(server.url, 'jsonrpc', ALICE);
});
after(async () => {
  await server.close();
  await mcp.close();
  await router.close();
  await hub.close();
});
beforeEach(() => {
  mcp.requiredAuthorization = undefined;
  mcp.failWith = undefined;
  mcp.hangOn = undefined;
});

async function stream(client: Client, text: string, metadata?: Record<string, unknown>) {
  const events: StreamResponse[] = [];
  for await (const event of client.sendMessageStream(userMessage(text, metadata ? { metadata } : {}))) events.push(event);
  const task = events.find((e) => e.payload?.$case === 'task')!.payload!.value as Task;
  return { events, task: await client.getTask({ id: task.id, tenant: '', historyLength: undefined }) };
}

function progressTexts(events: StreamResponse[]): string[] {
  return events.flatMap((e) =>
    e.payload?.$case === 'statusUpdate' && e.payload.value.status?.message
      ? [artifactText({ artifacts: [{ parts: e.payload.value.status.message.parts }] })]
      : [],
  );
}

function statusText(task: Task): string {
  return artifactText({ artifacts: [{ parts: task.status?.message?.parts ?? [] }] });
}

describe('the tool loop', () => {
  test('an SDK client streams a tool-using answer: tool start and end as status updates, then the answer', async () => {
    router.script = toolThenAnswer({ name: 'hub__search_models', arguments: '{"query":"text classification","limit":2}' });
    const before = modelRequests().length;
    const { events, task } = await stream(alice, 'find me a small text-classification model');

    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(task), 'The tool said: Found 2 models for "text classification": acme/tiny-classifier, acme/small-bert, acme/micro-cls');
    const progress = progressTexts(events);
    assert.ok(progress.some((t) => /^Calling hub\/search_models \(query: "text classification", limit: 2\)$/.test(t)), progress.join(' | '));
    assert.ok(progress.some((t) => /^hub\/search_models returned \d+ characters$/.test(t)), progress.join(' | '));
    const firstAnswerChunk = events.findIndex((e) => e.payload?.$case === 'artifactUpdate');
    const lastProgress = events.findLastIndex((e) => e.payload?.$case === 'statusUpdate' && e.payload.value.status?.state === TaskState.TASK_STATE_WORKING && e.payload.value.status.message);
    assert.ok(lastProgress < firstAnswerChunk, 'the tool ran before the answer streamed');

    const calls = modelRequests().slice(before);
    assert.equal(calls.length, 2, 'one model request to choose the tool, one after its result');
    const offered = calls[0]!.body.tools.map((t: { type: string; function: { name: string } }) => `${t.type}:${t.function.name}`);
    assert.deepEqual(offered.sort(), ['function:hub__enormous', 'function:hub__fail', 'function:hub__huge', 'function:hub__search_models', 'function:hub__slow']);
    assert.deepEqual(calls[0]!.body.tools.find((t: { function: { name: string } }) => t.function.name === 'hub__search_models').function.parameters.required, ['query']);
    const followUp = calls[1]!.body.messages.slice(-2);
    assert.equal(followUp[0].role, 'assistant');
    assert.equal(followUp[0].tool_calls[0].function.name, 'hub__search_models');
    assert.equal(followUp[0].tool_calls[0].function.arguments, '{"query":"text classification","limit":2}');
    assert.equal(followUp[1].role, 'tool');
    assert.equal(followUp[1].tool_call_id, followUp[0].tool_calls[0].id);
    assert.match(followUp[1].content, /acme\/tiny-classifier/);
  });

  test('the MCP server sees exactly the caller\'s token, never the server\'s', () => {
    const withCredentials = mcp.requests.filter((r) => r.authorization);
    assert.ok(withCredentials.length > 0);
    for (const request of mcp.requests) assert.equal(request.authorization, `Bearer ${ALICE}`);
    assert.ok(mcp.requests.every((r) => r.hfAuthorization === undefined));
  });

  test('a caller who authenticates with X-HF-Authorization has that token forwarded to the MCP server too', async () => {
    const erin = fakeToken('erin');
    hub.users.set(erin, { name: 'erin' });
    router.script = toolThenAnswer({ name: 'hub__search_models', arguments: '{"query":"via space header"}' });
    const before = mcp.requests.length;
    const response = await fetch(`${server.url}/a2a/jsonrpc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0', 'X-HF-Authorization': `Bearer ${erin}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'e1', role: 'ROLE_USER', parts: [{ text: 'search' }] } } }),
    });
    assert.equal((await response.json()).result.task.status.state, 'TASK_STATE_COMPLETED');
    const seen = mcp.requests.slice(before);
    assert.ok(seen.some((r) => r.method === 'tools/call'));
    assert.ok(seen.every((r) => r.authorization === `Bearer ${erin}`));
  });

  test('listings are cached per caller: a second turn lists nothing, and a turn without a tool call opens no connection', async () => {
    router.script = () => ({ text: 'no tools needed' });
    const before = mcp.requests.length;
    const { task } = await stream(alice, 'just chat');
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(mcp.requests.length, before, 'no MCP request at all');
    assert.ok(modelRequests().at(-1)!.body.tools.length === 5, 'the cached tools were still offered');
  });

  test('the cache never crosses callers: Bob\'s turn lists the tools again, with Bob\'s token', async () => {
    const bob = await clientFor(server.url, 'jsonrpc', BOB);
    router.script = () => ({ text: 'hello bob' });
    const before = mcp.requests.length;
    await stream(bob, 'hi');
    const bobs = mcp.requests.slice(before);
    assert.ok(bobs.some((r) => r.method === 'tools/list'));
    assert.ok(bobs.every((r) => r.authorization === `Bearer ${BOB}`));
  });

  test('concurrent callers never share a connection or a token', async () => {
    const callers = Array.from({ length: 8 }, (_, i) => ({ name: `c${i}`, token: fakeToken(`c${i}`) }));
    for (const c of callers) hub.users.set(c.token, { name: c.name });
    router.script = (request) => {
      const last = request.body.messages.at(-1);
      if (last.role === 'tool') return { text: 'done' };
      const who = /I am (c\d+)/.exec(last.content)![1];
      return { toolCalls: [{ name: 'hub__search_models', arguments: JSON.stringify({ query: who }) }] };
    };
    const before = mcp.requests.length;
    await Promise.all(callers.map(async (c) => stream(await clientFor(server.url, 'jsonrpc', c.token), `I am ${c.name}`)));
    const calls = mcp.requests.slice(before).filter((r) => r.method === 'tools/call');
    assert.equal(calls.length, callers.length);
    for (const call of calls) {
      const owner = callers.find((c) => c.name === call.arguments?.query)!;
      assert.equal(call.authorization, `Bearer ${owner.token}`, `the call for ${owner.name} carried another token`);
    }
  });

  test('a model that keeps asking for tools gets max_iterations rounds, then must answer without tools', async () => {
    router.script = (request) =>
      request.body.tools?.length ? { toolCalls: [{ name: 'hub__search_models', arguments: '{"query":"again"}' }] } : { text: 'Here is what I found.' };
    const before = modelRequests().length;
    const { task } = await stream(alice, 'loop forever', { agent: 'looping' });
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(task), 'Here is what I found.');
    const calls = modelRequests().slice(before);
    assert.equal(calls.length, 4, '3 rounds with tools, then one without');
    assert.equal(calls.at(-1)!.body.tools, undefined);
    assert.match(calls.at(-1)!.body.messages.at(-1).content, /Answer now/);
  });
});

describe('tool failures', () => {
  test('a tool that reports an error: the model gets the error and still answers', async () => {
    router.script = toolThenAnswer({ name: 'hub__fail', arguments: '{}' });
    const { events, task } = await stream(alice, 'use the failing tool');
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.match(artifactText(task), /The tool said: The tool reported an error: the database is on fire/);
    assert.ok(progressTexts(events).some((t) => /^hub\/fail failed: The tool reported an error: the database is on fire/.test(t)));
  });

  test('bad arguments from the model: the tool is not called and the model is told why', async () => {
    router.script = toolThenAnswer({ name: 'hub__search_models', arguments: '{"query": "unterminated' });
    const before = mcp.requests.filter((r) => r.method === 'tools/call').length;
    const { task } = await stream(alice, 'bad args');
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.match(artifactText(task), /not valid JSON/);
    assert.equal(mcp.requests.filter((r) => r.method === 'tools/call').length, before);
  });

  test('a tool the model made up: the model is told which tools exist', async () => {
    router.script = toolThenAnswer({ name: 'hub__delete_everything', arguments: '{}' });
    const { task } = await stream(alice, 'made up');
    assert.match(artifactText(task), /There is no tool named "hub__delete_everything".*hub__search_models/);
  });

  test('a huge result is cut, with a note saying how much was left out', async () => {
    router.script = toolThenAnswer({ name: 'hub__huge', arguments: '{}' });
    const before = modelRequests().length;
    await stream(alice, 'big');
    const toolMessage = modelRequests().slice(before)[1]!.body.messages.at(-1);
    assert.ok(toolMessage.content.length < MAX_RESULT + 200);
    assert.match(toolMessage.content, new RegExp(`\\[truncated: ${HUGE_RESULT_CHARS - MAX_RESULT} more characters were left out\\]$`));
  });

  test('a response too large to read is abandoned, and the model is told so', async () => {
    router.script = toolThenAnswer({ name: 'hub__enormous', arguments: '{}' });
    const { task } = await stream(alice, 'enormous');
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.match(artifactText(task), /enormous on MCP server "hub" failed: it sent more than 1000000 bytes/);
  });

  test('two agents whose MCP servers share a name do not share a tool listing', async () => {
    router.script = () => ({ text: 'answered' });
    const { events, task } = await stream(alice, 'hello', { agent: 'namesake' });
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.ok(progressTexts(events).some((t) => /MCP server "hub" \(127\.0\.0\.1:1\) is unavailable/.test(t)), progressTexts(events).join(' | '));
    assert.equal(modelRequests().at(-1)!.body.tools, undefined, 'the other agent\'s "hub" tools were not offered');
  });

  test('a tool that takes too long is stopped and the model is told so', async () => {
    router.script = toolThenAnswer({ name: 'hub__slow', arguments: '{"seconds": 30}' });
    const { task } = await stream(alice, 'slow one');
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.match(artifactText(task), /hub\/slow|slow on MCP server "hub" failed: it did not answer in time/);
  });

  test('an MCP server that cannot be reached: the agent answers without it and says so on the way', async () => {
    router.script = () => ({ text: 'I answered without tools.' });
    const before = modelRequests().length;
    const { events, task } = await stream(alice, 'hello', { agent: 'broken' });
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(task), 'I answered without tools.');
    assert.ok(progressTexts(events).some((t) => /MCP server "gone" \(127\.0\.0\.1:1\) is unavailable: it could not be reached/.test(t)), progressTexts(events).join(' | '));
    assert.equal(modelRequests().slice(before)[0]!.body.tools, undefined, 'no tools were offered');
  });

  test('an MCP server that answers 503: the same', async () => {
    const bob = await clientFor(server.url, 'jsonrpc', BOB);
    mcp.failWith = 503;
    router.script = () => ({ text: 'fine without' });
    const carol = fakeToken('carol');
    hub.users.set(carol, { name: 'carol' });
    const { events, task } = await stream(await clientFor(server.url, 'jsonrpc', carol), 'hi');
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.ok(progressTexts(events).some((t) => /MCP server "hub" .* is unavailable: it answered HTTP 503/.test(t)), progressTexts(events).join(' | '));
    void bob;
  });

  test('a forwarded MCP server that refuses the caller\'s token: the task waits in auth-required and says which server', async () => {
    mcp.requiredAuthorization = 'Bearer somebody-else';
    const dave = fakeToken('dave');
    hub.users.set(dave, { name: 'dave' });
    router.script = () => ({ text: 'should not get here' });
    const { task } = await stream(await clientFor(server.url, 'jsonrpc', dave), 'hi');
    assert.equal(task.status?.state, TaskState.TASK_STATE_AUTH_REQUIRED);
    assert.match(statusText(task), /MCP server "hub" \(127\.0\.0\.1:\d+\) refused your Hugging Face token \(HTTP 401\)/);
  });

  test('the same refusal in the middle of a turn, on the tool call', async () => {
    router.script = toolThenAnswer({ name: 'hub__search_models', arguments: '{"query":"x"}' });
    // Alice's listing is cached, so the refusal comes on the call itself.
    mcp.requiredAuthorization = 'Bearer somebody-else';
    const { task } = await stream(alice, 'search please');
    assert.equal(task.status?.state, TaskState.TASK_STATE_AUTH_REQUIRED);
    assert.match(statusText(task), /refused your Hugging Face token/);
  });
});

describe('cancel', () => {
  test('cancel stops the loop and the slow tool call in flight', async () => {
    router.script = toolThenAnswer({ name: 'hub__slow', arguments: '{"seconds": 20}' });
    const before = modelRequests().length;
    const abortedBefore = mcp.abortedSlowCalls;
    const events = alice.sendMessageStream(userMessage('slow please'));
    let taskId = '';
    for await (const event of events) {
      if (event.payload?.$case === 'task') taskId = event.payload.value.id;
      const message = event.payload?.$case === 'statusUpdate' ? event.payload.value.status?.message : undefined;
      if (message && /^Calling hub\/slow/.test(artifactText({ artifacts: [{ parts: message.parts }] }))) break;
    }
    // The tool call is under way; give it a moment to reach the MCP server, then cancel.
    await waitFor(() => mcp.requests.some((r) => r.tool === 'slow' && r.arguments?.seconds === 20));
    const canceled = await alice.cancelTask({ id: taskId, tenant: '', metadata: {} });
    assert.equal(canceled.status?.state, TaskState.TASK_STATE_CANCELED);
    await waitFor(() => mcp.abortedSlowCalls > abortedBefore, 'the MCP server to see the call stop');
    assert.equal(modelRequests().length - before, 1, 'no model request after the cancel');
  });
});

describe('secrets in progress messages', () => {
  test('argument values under secret-looking names, and token-shaped strings, are redacted', async () => {
    router.script = toolThenAnswer({ name: 'hub__search_models', arguments: JSON.stringify({ query: `find ${ALICE}`, api_key: 'sk-live-123456', limit: 1 }) });
    const { events, task } = await stream(alice, 'leaky args');
    const progress = progressTexts(events).join('\n');
    assert.match(progress, /api_key: \[redacted\]/);
    assert.ok(!progress.includes(ALICE) && !progress.includes('sk-live-123456'));
    assert.ok(!JSON.stringify(task.history).includes(ALICE));
  });
});

async function waitFor(check: () => boolean, what = 'a condition', timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('what each MCP server is sent, by the host policy and the card', () => {
  const SPACE_HOST = 'tools-demo.hf.space';
  let routed: RunningServer;
  /** Names no test machine resolves, routed to the loopback MCP server; the policy still sees the name. */
  const mcpFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname !== SPACE_HOST) return fetch(input, init);
    return fetch(new URL(`${url.pathname}${url.search}`, mcp.url), init);
  };
  const agent = (name: string, entry: Record<string, unknown>) => card({ name, model: 'hf.acme/tool-user', use_history: false, mcp_connect: { [name]: entry } });

  before(async () => {
    routed = await startTestServer({
      cards: {
        'space.md': agent('space', { target: `https://${SPACE_HOST}/mcp`, auth: { forward: 'huggingface' } }),
        'headed.md': agent('headed', { target: mcp.url, headers: { 'X-Team': 'blue' }, auth: { forward: 'huggingface' } }),
        'keyed.md': agent('keyed', { target: mcp.url, headers: { Authorization: 'Bearer card-set-key' }, auth: { forward: 'huggingface' } }),
      },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url, HF_TOKEN: SERVER_TOKEN },
      mcpLimits: { connectTimeoutMs: 400, listTimeoutMs: 400 },
      mcpFetch,
    });
  });
  after(() => routed.close());

  /** One search_models call through `agentName`'s server; returns what the MCP server received. */
  async function searchThrough(agentName: string, token: string) {
    router.script = toolThenAnswer({ name: `${agentName}__search_models`, arguments: '{"query":"policy"}' });
    const first = mcp.requests.length;
    const client = await clientFor(routed.url, 'jsonrpc', token);
    const { task } = await stream(client, 'search', { agent: agentName });
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
    const requests = mcp.requests.slice(first);
    assert.ok(requests.some((r) => r.tool === 'search_models'), 'the tool was called');
    return requests;
  }

  test('a *.hf.space MCP server gets the caller\'s token as X-HF-Authorization, never as Authorization', async () => {
    for (const request of await searchThrough('space', ALICE)) {
      assert.equal(request.hfAuthorization, `Bearer ${ALICE}`);
      assert.equal(request.authorization, undefined);
    }
  });

  test('headers a card sets are sent as written, next to the forwarded token', async () => {
    for (const request of await searchThrough('headed', ALICE)) {
      assert.equal(request.headers['x-team'], 'blue');
      assert.equal(request.authorization, `Bearer ${ALICE}`);
    }
  });

  test('a credential header the card sets wins over the caller\'s token', async () => {
    for (const request of await searchThrough('keyed', ALICE)) {
      assert.equal(request.authorization, 'Bearer card-set-key');
      assert.equal(request.hfAuthorization, undefined);
    }
  });

  for (const [method, phase] of [['initialize', 'connect'], ['tools/list', 'list its tools']] as const) {
    test(`an MCP server that never answers ${method}: the agent answers without it and says the server did not answer in time (${phase})`, async () => {
      mcp.hangOn = method;
      // A caller of its own, so no cached listing answers for the server.
      const token = fakeToken(`hang${phase.length}`);
      hub.users.set(token, { name: `hang-${phase.length}` });
      router.script = () => ({ text: 'Answered without tools.' });
      const { events, task } = await stream(await clientFor(routed.url, 'jsonrpc', token), 'search', { agent: 'headed' });
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED, statusText(task));
      assert.equal(artifactText(task), 'Answered without tools.');
      assert.ok(progressTexts(events).some((t) => /MCP server "headed" .* is unavailable: it did not answer in time/.test(t)), progressTexts(events).join(' | '));
      assert.deepEqual(router.requests.at(-1)!.body.tools ?? [], [], 'no tools were offered');
    });
  }
});
