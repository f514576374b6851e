/**
 * Hardening against callers who mean harm, each test a defect that existed before and must stay
 * fixed: requests built to stall the event loop, memory that was stored but not counted, one caller
 * pushing out another's data, floods of made-up tokens that made the Hub rate-limit everyone, tokens
 * echoed back by upstreams and tools, oversized bodies answered with a reset, task listings that
 * returned every history, per-caller caps, slow bodies, and conversations shared across tenants.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { startTestServer, withTestServer } from './support/server.ts';
import { card, ECHO_AGENTS } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { echoScript, startFakeRouter, type FakeRouter, type RecordedRequest, type Reply } from './support/fake-router.ts';
import { startMcpServer, type TestMcpServer } from './support/mcp-server.ts';
import { startHeaderEchoMcpServer, type HeaderEchoMcpServer } from './support/header-echo-mcp.ts';
import { socketExchange, startLoggedProcess, watchEventLoop, type LoggedProcess } from './support/observe.ts';
import { agentsDir } from './support/agents.ts';
import type { RunningServer } from '../src/server.ts';

const V1 = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
const V03 = { 'Content-Type': 'application/json' };
const message = (text: string, extra: Record<string, unknown> = {}) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...extra });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function http(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...V1, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

let rpcId = 0;
const rpc = (url: string, method: string, params: unknown, headers: Record<string, string> = {}) =>
  http(url, 'POST', '/a2a/jsonrpc', headers, { jsonrpc: '2.0', id: ++rpcId, method, params });

/** A POST whose body is given as bytes, over node:http (one connection of its own). */
function postBytes(url: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method: 'POST', path, agent: false, headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls `check` until it holds. */
async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What the server says in its own words in a response (JSON or SSE): error messages and status message texts. */
function spokenBy(body: string): string[] {
  const documents: unknown[] = [];
  for (const line of body.split('\n')) {
    try {
      documents.push(JSON.parse(line.startsWith('data: ') ? line.slice(6) : line));
    } catch {
      // Not a JSON line.
    }
  }
  const found: string[] = [];
  const walk = (value: any): void => {
    if (!value || typeof value !== 'object') return;
    if (typeof value.error?.message === 'string') found.push(value.error.message);
    if (value.status?.message?.parts) found.push(...value.status.message.parts.map((p: { text?: string }) => p.text ?? ''));
    for (const child of Object.values(value)) walk(child);
  };
  documents.forEach(walk);
  return found;
}

function artifactTextOf(task: any): string {
  return (task?.artifacts ?? []).flatMap((a: any) => a.parts ?? []).map((p: any) => p.text ?? '').join('');
}

describe('a request built to stall the event loop', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const parts = `[${new Array(300_000).fill('{}').join(',')}]`;
  const cases = [
    ['JSON-RPC 1.0 SendMessage', '/a2a/jsonrpc', V1, `{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m","role":"ROLE_USER","parts":${parts}}}}`],
    ['JSON-RPC 0.3 message/send', '/a2a/jsonrpc', V03, `{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","messageId":"m","role":"user","parts":${parts}}}}`],
    ['REST message:send', '/a2a/rest/message:send', V1, `{"message":{"messageId":"m","role":"ROLE_USER","parts":${parts}}}`],
  ] as const;

  for (const [name, path, headers, text] of cases) {
    test(`${name}: 300,000 empty parts (~900 KB) are refused at once (invalid params), the event loop never stalls over 100 ms, and /healthz answers meanwhile`, async () => {
      const body = Buffer.from(text);
      assert.ok(body.length > 850_000 && body.length < 1024 * 1024, `the body is ~900 KB, under the 1 MiB limit: ${body.length}`);
      // The path's code is compiled by an ordinary request first; what is measured is the hostile one.
      await http(server.url, 'POST', path, headers, path.includes('rest') ? { message: message('warm') } : { jsonrpc: '2.0', id: 0, method: 'SendMessage', params: { message: message('warm') } });

      // A server that blocks on this request stalls every time; a machine busy with other work
      // (tests run in parallel) can delay one measurement. The best of three is what is judged.
      let maxMs = Infinity;
      let elapsed = Infinity;
      let answer = { status: 0, text: '' };
      const health: Array<Promise<number>> = [];
      for (let attempt = 0; attempt < 3 && maxMs >= 100; attempt++) {
        const loop = watchEventLoop(5);
        const started = performance.now();
        const poller = setInterval(() => health.push(fetch(`${server.url}/healthz`).then((r) => r.status)), 10);
        try {
          answer = await postBytes(server.url, path, headers, body);
        } finally {
          clearInterval(poller);
        }
        elapsed = Math.min(elapsed, performance.now() - started);
        maxMs = Math.min(maxMs, loop.stop().maxMs);
      }

      const json = JSON.parse(answer.text);
      if (path.includes('rest')) {
        assert.equal(answer.status, 400, answer.text);
        assert.equal(json.error.status, 'INVALID_ARGUMENT', answer.text);
      } else {
        assert.equal(answer.status, 200, answer.text);
        assert.equal(json.error?.code, -32602, answer.text);
      }
      assert.match(json.error.message, /parts|values/, 'the refusal says what is too much');
      assert.ok(elapsed < 1_000, `refused in well under a second, not ${Math.round(elapsed)} ms`);
      const statuses = await Promise.all(health);
      assert.ok(statuses.every((s) => s === 200), `every /healthz during the request answered 200: ${statuses}`);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.ok(maxMs < 100, `the event loop stalled for ${maxMs.toFixed(0)} ms while the request was refused (limit 100 ms)`);
    });
  }
});

describe('memory accounting: what a task stores, it weighs', () => {
  const KIB = 1024;
  /** Metadata whose JSON is `chars` characters long. */
  const metadataOf = (chars: number) => ({ pad: 'm'.repeat(chars - 10) });

  test('metadata over 16 KiB of JSON is refused (-32602 / 400) wherever it sits, on both bindings and both versions', async () => {
    await withTestServer({}, async (server) => {
      const big = metadataOf(16 * KIB + 100);
      const v1Cases: Array<[string, unknown]> = [
        ['message.metadata', { message: message('x', { metadata: big }) }],
        ['parts[0].metadata', { message: message('x', { parts: [{ text: 'x', metadata: big }] }) }],
        ['params.metadata', { message: message('x'), metadata: big }],
      ];
      for (const [where, params] of v1Cases) {
        const viaRpc = await rpc(server.url, 'SendMessage', params);
        assert.equal(viaRpc.json.error?.code, -32602, `${where} over JSON-RPC: ${viaRpc.text.slice(0, 300)}`);
        assert.match(viaRpc.json.error.message, /metadata/);
        const viaRest = await http(server.url, 'POST', '/a2a/rest/message:send', {}, params);
        assert.equal(viaRest.status, 400, `${where} over REST: ${viaRest.text.slice(0, 300)}`);
      }
      const legacy = await rpc(server.url, 'message/send', { message: { kind: 'message', messageId: 'l1', role: 'user', parts: [{ kind: 'text', text: 'x' }], metadata: big } }, { 'A2A-Version': '' });
      assert.equal(legacy.json.error?.code, -32602, legacy.text.slice(0, 300));
      assert.equal(server.tasks.size, 0, 'nothing was stored');
      // Just under the limit is accepted.
      const fits = await rpc(server.url, 'SendMessage', { message: message('x', { metadata: metadataOf(15 * KIB) }) });
      assert.equal(fits.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', fits.text.slice(0, 300));
    });
  });

  test('metadata, part metadata, empty parts, file names, referenceTaskIds and extensions each add their size to the store\'s weight', async () => {
    await withTestServer({}, async (server) => {
      const weightOf = async (params: unknown) => {
        const before = server.tasks.weight;
        const sent = await rpc(server.url, 'SendMessage', params);
        assert.ok(sent.json.result?.task, sent.text.slice(0, 300));
        return server.tasks.weight - before;
      };
      const baseline = await weightOf({ message: message('x') });
      const extra = async (what: string, params: unknown, atLeast: number) => {
        const added = (await weightOf(params)) - baseline;
        assert.ok(added >= atLeast, `${what}: the task weighs ${added} more than a bare one; it stores at least ${atLeast} more`);
      };
      await extra('15 KiB of message metadata', { message: message('x', { metadata: metadataOf(15 * KIB) }) }, 15_000);
      await extra('15 KiB of metadata on each of 4 parts', { message: message('x', { parts: Array.from({ length: 4 }, () => ({ text: 'x', metadata: metadataOf(15 * KIB) })) }) }, 60_000);
      await extra('63 more empty text parts', { message: message('x', { parts: [{ text: 'x' }, ...Array.from({ length: 63 }, () => ({ text: '' }))] }) }, 63 * 32);
      await extra('60 file names of 256 characters', { message: message('x', { parts: [{ text: 'x' }, ...Array.from({ length: 60 }, (_, i) => ({ url: `https://example.com/${i}`, filename: `${i}`.padEnd(256, 'f') }))] }) }, 60 * 256);
      await extra('32 referenceTaskIds of 256 characters', { message: message('x', { referenceTaskIds: Array.from({ length: 32 }, (_, i) => `${i}`.padEnd(256, 'r')) }) }, 32 * 256);
      await extra('32 extensions of 1,000 characters', { message: message('x', { extensions: Array.from({ length: 32 }, (_, i) => `https://example.com/ext/${i}/`.padEnd(1_000, 'e')) }) }, 32 * 1_000);
      // Weighed at what they cost in memory and on the wire, not by their characters.
      await extra('1,000 empty objects of metadata (3 KB of JSON, some 60 KB of heap)', { message: message('x', { metadata: { a: Array.from({ length: 1_000 }, () => ({})) } }) }, 64_000);
      await extra('10,000 U+FFFD characters (30 KB in UTF-8), asked, answered and kept in the history', { message: message('\uFFFD'.repeat(10_000)) }, 89_000);
    });
  });

  test('200 requests with 15 KiB of metadata each: every task adds at least 15 KB, and the store stays within its 2 MB budget', async () => {
    const maxWeight = 2_000_000;
    await withTestServer({ taskLimits: { maxWeight } }, async (server) => {
      const first: string[] = [];
      let heaviest = 0;
      for (let i = 0; i < 200; i++) {
        const before = server.tasks.weight;
        const sent = await rpc(server.url, 'SendMessage', { message: message(`n${i}`, { metadata: metadataOf(15 * KIB) }) });
        assert.equal(sent.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', sent.text.slice(0, 300));
        if (i < 3) first.push(sent.json.result.task.id);
        if (i < 100) assert.ok(server.tasks.weight - before >= 15_000, `task ${i} added ${server.tasks.weight - before} to the weight, not its 15 KiB of metadata`);
        heaviest = Math.max(heaviest, server.tasks.weight);
        assert.ok(server.tasks.weight <= maxWeight, `after ${i + 1} tasks the store holds ${server.tasks.weight}, over its ${maxWeight} budget`);
      }
      assert.ok(heaviest > maxWeight * 0.9, `the budget was really reached (${heaviest})`);
      assert.ok(server.tasks.size < 200 * 0.7, `old tasks were evicted: ${server.tasks.size} are left`);
      const gone = await rpc(server.url, 'GetTask', { id: first[0] });
      assert.equal(gone.json.error?.code, -32001, 'the oldest task made room');
    });
  });
});

describe('one caller cannot push out another\'s tasks or conversations', () => {
  const BOB = fakeToken('bob');
  const MALLORY = fakeToken('mallory');
  let hub: FakeHub;
  let router: FakeRouter;
  let server: RunningServer;
  const LIMIT = 3_000_000;

  before(async () => {
    hub = await startFakeHub({ [BOB]: { name: 'bob' }, [MALLORY]: { name: 'mallory' } });
    router = await startFakeRouter();
    server = await startTestServer({
      cards: {
        'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
        'model.md': card({ name: 'model', model: 'hf.acme/chat' }),
      },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
      taskLimits: { maxWeight: LIMIT },
      conversationLimits: { maxWeight: LIMIT },
    });
  });
  after(async () => {
    await server.close();
    await router.close();
    await hub.close();
  });

  test('mallory sends 30 messages of 500,000 characters; bob\'s task is still there and his conversation still remembered', { timeout: 60_000 }, async () => {
    const bobTask = await rpc(server.url, 'SendMessage', { message: message('bob was here') }, bearer(BOB));
    const bobTaskId = bobTask.json.result.task.id;
    const remember = await rpc(server.url, 'SendMessage', { message: message('Remember the word pelican.', { contextId: 'bob-ctx', metadata: { agent: 'model' } }) }, bearer(BOB));
    assert.equal(remember.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', remember.text.slice(0, 300));

    const flood = 'm'.repeat(500_000);
    const mallorys: string[] = [];
    for (let i = 0; i < 30; i++) {
      const sent = await rpc(server.url, 'SendMessage', { message: message(flood) }, bearer(MALLORY));
      assert.equal(sent.status, 200, sent.text.slice(0, 300));
      assert.equal(sent.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', sent.text.slice(0, 300));
      mallorys.push(sent.json.result.task.id);
    }
    // The flood really overflowed the shared budget: mallory lost her own oldest tasks.
    assert.equal((await rpc(server.url, 'GetTask', { id: mallorys[0] }, bearer(MALLORY))).json.error?.code, -32001, "the flood overflowed the store (mallory's first task is gone)");
    assert.ok(server.tasks.weight <= LIMIT, `the store holds ${server.tasks.weight}, over ${LIMIT}`);

    const got = await rpc(server.url, 'GetTask', { id: bobTaskId }, bearer(BOB));
    assert.equal(got.json.result?.id, bobTaskId, `bob's task survived mallory's flood: ${got.text.slice(0, 300)}`);
    assert.equal(artifactTextOf(got.json.result), 'bob was here');

    const before = router.requests.length;
    const followUp = await rpc(server.url, 'SendMessage', { message: message('What was the word?', { contextId: 'bob-ctx', metadata: { agent: 'model' } }) }, bearer(BOB));
    assert.equal(followUp.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', followUp.text.slice(0, 300));
    const seen = router.requests.slice(before).at(-1)!.body.messages.map((m: { content: string }) => m.content);
    assert.ok(seen.includes('Remember the word pelican.'), `bob's earlier turn survived the flood: ${JSON.stringify(seen)}`);
  });
});

describe('a flood of made-up tokens', () => {
  const LEGIT = fakeToken('legit');
  const NEWCOMER = fakeToken('newcomer');
  let hub: FakeHub;
  let server: RunningServer;
  const SEND = { message: message('hi') };
  const from = (address: string, token: string) => ({ 'X-Forwarded-For': address, ...bearer(token) });

  before(async () => {
    hub = await startFakeHub({ [LEGIT]: { name: 'legit' }, [NEWCOMER]: { name: 'newcomer' } });
    server = await startTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, FAST_AGENT_TRUSTED_PROXIES: '1' } });
  });
  after(async () => {
    await server.close();
    await hub.close();
  });

  test('300 random hf_ tokens from one address cost the Hub at most 12 checks; the rest get 429 with Retry-After; a known caller and a new caller elsewhere are not locked out', { timeout: 30_000 }, async () => {
    assert.equal((await rpc(server.url, 'SendMessage', SEND, from('198.51.100.20', LEGIT))).status, 200, 'the legitimate caller is known before the flood');
    const checksBefore = hub.checks.length;

    const statuses: number[] = [];
    const legit: number[] = [];
    for (let batch = 0; batch < 12; batch++) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => rpc(server.url, 'SendMessage', SEND, from('203.0.113.7', fakeToken('random')))));
      for (const answer of answers) {
        statuses.push(answer.status);
        if (answer.status === 429) {
          assert.ok(Number(answer.headers.get('retry-after')) > 0, `429 with Retry-After: ${answer.text}`);
          assert.match(answer.json?.error?.message ?? '', /address|token/i);
        } else {
          assert.equal(answer.status, 401, `a random token is refused or limited, nothing else: ${answer.status} ${answer.text.slice(0, 200)}`);
        }
      }
      legit.push((await rpc(server.url, 'SendMessage', SEND, from('198.51.100.20', LEGIT))).status);
    }
    const floodChecks = hub.checks.length - checksBefore;
    assert.equal(statuses.length, 300);
    assert.ok(floodChecks <= 12, `the flood cost the Hub ${floodChecks} checks`);
    assert.ok(statuses.filter((s) => s === 429).length >= 280, `most of the flood was turned away: ${statuses.filter((s) => s === 429).length} of 300`);
    assert.deepEqual(new Set(legit), new Set([200]), 'the known caller kept working during the flood');

    const newcomer = await rpc(server.url, 'SendMessage', SEND, from('192.0.2.55', NEWCOMER));
    assert.equal(newcomer.status, 200, `a new caller from another address is still checked: ${newcomer.text.slice(0, 200)}`);
    assert.equal(hub.checks.length - checksBefore, floodChecks + 1, 'the newcomer cost exactly one check');
    assert.ok(hub.checks.at(-1)!.authorization === `Bearer ${NEWCOMER}`);
  });

  test('while the Hub itself answers 429, a caller whose token is cached keeps working and the Hub is not asked', async () => {
    hub.mode = { kind: 'status', status: 429, retryAfter: '300' };
    try {
      const before = hub.checks.length;
      for (let i = 0; i < 5; i++) assert.equal((await rpc(server.url, 'SendMessage', SEND, from('198.51.100.20', LEGIT))).status, 200);
      const stranger = await rpc(server.url, 'SendMessage', SEND, from('192.0.2.99', fakeToken('stranger')));
      assert.equal(stranger.status, 503, 'a new token cannot be checked while the Hub refuses');
      assert.ok(Number(stranger.headers.get('retry-after')) > 0);
      for (let i = 0; i < 5; i++) assert.equal((await rpc(server.url, 'SendMessage', SEND, from('198.51.100.20', LEGIT))).status, 200, 'still working after the Hub said 429');
      assert.equal(hub.checks.length - before, 1, 'only the new token was sent to the Hub');
    } finally {
      hub.mode = { kind: 'normal' };
    }
  });
});

describe('a tool that echoes the request headers', () => {
  const TOKEN = fakeToken('toolcaller');
  let hub: FakeHub;
  let router: FakeRouter;
  let spy: HeaderEchoMcpServer;
  let server: RunningServer;

  before(async () => {
    hub = await startFakeHub({ [TOKEN]: { name: 'toolcaller' } });
    spy = await startHeaderEchoMcpServer();
    router = await startFakeRouter((request: RecordedRequest): Reply => {
      const results = request.body.messages.filter((m: { role: string }) => m.role === 'tool').map((m: { content: string }) => m.content);
      return results.length ? { text: `The tool said: ${results.join(' | ')}` } : { toolCalls: [{ name: 'spy__echo_headers', arguments: '{}' }] };
    });
    server = await startTestServer({
      cards: { 'tooling.md': card({ name: 'tooling', model: 'hf.acme/tool-user', default: true, use_history: false, mcp_connect: { spy: { target: spy.url, auth: { forward: 'huggingface' } } } }) },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
    });
  });
  after(async () => {
    await server.close();
    await router.close();
    await spy.close();
    await hub.close();
  });

  for (const method of ['SendMessage', 'SendStreamingMessage'] as const) {
    test(`${method}: the caller's token reaches the tool, but not the model's prompt, the answer or any event`, async () => {
      const before = router.requests.length;
      const echoedBefore = spy.echoed.length;
      const sent = await rpc(server.url, method, { message: message('show me your headers') }, bearer(TOKEN));
      assert.equal(sent.status, 200);
      assert.ok(spy.echoed.slice(echoedBefore).includes(`Bearer ${TOKEN}`), 'the tool received the caller\'s token, as the host policy says');

      const prompts = router.requests.slice(before);
      assert.equal(prompts.length, 2, 'one model request to choose the tool, one with its result');
      const toolResult = prompts[1]!.body.messages.find((m: { role: string }) => m.role === 'tool')?.content ?? '';
      assert.match(toolResult, /Headers I got/, 'the tool result itself reached the model');
      for (const prompt of prompts) {
        const text = JSON.stringify(prompt.body);
        assert.ok(!text.includes(TOKEN.slice(3)), `a model prompt holds the token: ${text.slice(0, 2_000)}`);
      }
      assert.ok(!sent.text.includes(TOKEN.slice(3)), `the answer holds the token: ${sent.text.slice(0, 2_000)}`);
      const taskId = method === 'SendMessage' ? sent.json.result.task.id : /"id":"([0-9a-f-]{36})"/.exec(sent.text)![1];
      const got = await rpc(server.url, 'GetTask', { id: taskId }, bearer(TOKEN));
      assert.equal(got.json.result.status.state, 'TASK_STATE_COMPLETED');
      assert.match(artifactTextOf(got.json.result), /The tool said: Headers I got/);
      assert.ok(!got.text.includes(TOKEN.slice(3)), `the stored task holds the token: ${got.text.slice(0, 2_000)}`);
    });
  }
});

describe('a request body over the 1 MiB limit', () => {
  // Its own process: a client and a server sharing one event loop take turns and never race as a
  // real client and server do, which is where the reset happened.
  let server: LoggedProcess;
  before(async () => {
    server = await startLoggedProcess({}, ['--agent-cards', agentsDir(ECHO_AGENTS)]);
  });
  after(() => server.stop('SIGKILL'));

  /**
   * Sends `size` bytes with a declared Content-Length over a fresh keep-alive connection (as fetch,
   * curl and browsers send), and waits for the answer and the connection's end.
   */
  function oversized(path: string, size: number): Promise<{ status: number; error: string | undefined }> {
    const { hostname, port } = new URL(server.url);
    const agent = new Agent({ keepAlive: true });
    return new Promise<{ status: number; error: string | undefined }>((resolve) => {
      let status = 0;
      let error: string | undefined;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        resolve({ status, error });
      };
      const req = request({ hostname, port, method: 'POST', path, agent, headers: { ...V1, 'Content-Length': String(size) } }, (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => setTimeout(settle, 20)); // a reset right after the answer still counts
        res.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
        settle();
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).finally(() => agent.destroy());
  }

  test('20 sequential 2 MiB POSTs, on both bindings, each get a 413 the client reads; never a reset', { timeout: 30_000 }, async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const path = i % 2 === 0 ? '/a2a/jsonrpc' : '/a2a/rest/message:send';
      const { status, error } = await oversized(path, 2 * 1024 * 1024);
      outcomes.push(`${path}: ${status}${error ? ` ${error}` : ''}`);
    }
    const bad = outcomes.filter((o) => !/: 413$/.test(o));
    assert.deepEqual(bad, [], `every oversized POST got its 413 without a connection error:\n${outcomes.join('\n')}`);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});

describe('listing tasks', () => {
  let router: FakeRouter;
  let mcp: TestMcpServer;
  let server: RunningServer;
  const ROUNDS = 12;

  before(async () => {
    mcp = await startMcpServer();
    router = await startFakeRouter((request, index) =>
      request.body.model === 'acme/looper'
        ? request.body.tools?.length
          ? { toolCalls: [{ name: 'tools__search_models', arguments: '{"query":"again"}' }] }
          : { text: 'done looping' }
        : echoScript(request, index),
    );
    server = await startTestServer({
      cards: {
        'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
        'looper.md': card({ name: 'looper', model: 'hf.acme/looper', use_history: false, request_params: { max_iterations: ROUNDS }, mcp_connect: { tools: { target: mcp.url } } }),
        'model.md': card({ name: 'model', model: 'hf.acme/chat' }),
      },
      env: { HF_TOKEN: fakeToken('lister'), HF_INFERENCE_ENDPOINT: router.url },
    });
  });
  after(async () => {
    await server.close();
    await router.close();
    await mcp.close();
  });

  test('GET /tasks?pageSize=100 over 100 tasks holding big messages returns no history by default and stays small; at most 20 messages of history when asked for more', { timeout: 30_000 }, async () => {
    // A task with a long history: every tool round adds two progress messages.
    const looped = await rpc(server.url, 'SendMessage', { message: message('loop', { metadata: { agent: 'looper' } }) });
    const loopTask = looped.json.result.task;
    assert.equal(loopTask.status.state, 'TASK_STATE_COMPLETED', looped.text.slice(0, 500));
    assert.ok(loopTask.history.length > 20, `the looping task has a long history: ${loopTask.history.length}`);

    const big = 'b'.repeat(40_000);
    for (let i = 0; i < 100; i++) {
      const sent = await rpc(server.url, 'SendMessage', { message: message(`${i} ${big}`) });
      assert.equal(sent.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED');
    }

    const listed = await http(server.url, 'GET', '/a2a/rest/tasks?pageSize=100');
    assert.equal(listed.status, 200, listed.text.slice(0, 300));
    assert.equal(listed.json.tasks.length, 100);
    for (const task of listed.json.tasks) assert.equal(task.history?.length ?? 0, 0, 'no history unless asked for');
    assert.ok(listed.text.length < 100_000, `100 tasks listed in ${listed.text.length} bytes; their messages alone hold 8 MB`);

    const viaRpc = await rpc(server.url, 'ListTasks', { pageSize: 100 });
    assert.equal(viaRpc.json.result.tasks.length, 100);
    assert.ok(viaRpc.json.result.tasks.every((t: { history?: unknown[] }) => (t.history?.length ?? 0) === 0), 'JSON-RPC ListTasks: no history by default');
    assert.ok(viaRpc.text.length < 100_000, `JSON-RPC ListTasks answered ${viaRpc.text.length} bytes`);

    const asked = await http(server.url, 'GET', `/a2a/rest/tasks?contextId=${loopTask.contextId}&historyLength=1000`);
    assert.equal(asked.json.tasks.length, 1);
    assert.ok(asked.json.tasks[0].history.length > 0 && asked.json.tasks[0].history.length <= 20, `historyLength=1000 gives at most 20 messages: ${asked.json.tasks[0].history.length}`);
    const askedRpc = await rpc(server.url, 'ListTasks', { contextId: loopTask.contextId, historyLength: 1000 });
    assert.ok(askedRpc.json.result.tasks[0].history.length <= 20);
    const some = await http(server.url, 'GET', '/a2a/rest/tasks?pageSize=100&historyLength=1');
    assert.ok(some.json.tasks.every((t: { history?: unknown[] }) => (t.history?.length ?? 0) <= 1));
    // GetTask still reads one task in full.
    const full = await rpc(server.url, 'GetTask', { id: loopTask.id });
    assert.equal(full.json.result.history.length, loopTask.history.length);
  });

  test('a ListTasks page that asks for history and artifacts stops at 4 MiB of tasks, and its token leads on to the rest', { timeout: 60_000 }, async () => {
    await withTestServer({}, async (server) => {
      const contextId = `heavy-${crypto.randomUUID()}`;
      const sent: string[] = [];
      for (let i = 0; i < 6; i++) {
        const answer = await rpc(server.url, 'SendMessage', { message: message(`${i} ${'h'.repeat(600_000)}`, { contextId }) });
        assert.equal(answer.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED');
        sent.push(answer.json.result.task.id);
      }
      const seen: string[] = [];
      let pageToken = '';
      let pages = 0;
      do {
        const page = await rpc(server.url, 'ListTasks', { contextId, pageSize: 100, historyLength: 20, includeArtifacts: true, pageToken });
        assert.ok(page.json.result, page.text.slice(0, 300));
        assert.ok(page.text.length < 6 * 1024 * 1024, `a page of ${page.text.length} bytes`);
        seen.push(...page.json.result.tasks.map((task: { id: string }) => task.id));
        pageToken = page.json.result.nextPageToken;
        pages++;
      } while (pageToken && pages < 10);
      assert.ok(pages > 1, 'the 6 tasks (about 11 MB with their history and answers) did not fit one page');
      assert.deepEqual([...seen].sort(), [...sent].sort(), 'every task once, across the pages');
      // Without history and artifacts they are small, and one page holds them all.
      const light = await rpc(server.url, 'ListTasks', { contextId, pageSize: 100 });
      assert.equal(light.json.result.tasks.length, 6);
    });
  });

  test('the same contextId under two tenants is two conversations: the second tenant\'s model call does not see the first\'s text', async () => {
    const contextId = `shared-${crypto.randomUUID()}`;
    const turn = async (path: string, text: string) => {
      const before = router.requests.length;
      const sent = await http(server.url, 'POST', path, {}, { message: message(text, { contextId, metadata: { agent: 'model' } }) });
      assert.equal(sent.status, 200, sent.text.slice(0, 300));
      return JSON.stringify(router.requests.slice(before).at(-1)!.body.messages);
    };
    await turn('/a2a/rest/tenant-one/message:send', 'alpha is the secret of tenant one');
    assert.ok(!(await turn('/a2a/rest/tenant-two/message:send', 'beta speaking')).includes('alpha is the secret'), 'tenant two saw tenant one\'s turn');
    const rpcTenant = await rpc(server.url, 'SendMessage', { tenant: 'tenant-three', message: message('gamma', { contextId, metadata: { agent: 'model' } }) });
    assert.equal(rpcTenant.status, 200);
    assert.ok(!JSON.stringify(router.requests.at(-1)!.body.messages).includes('alpha is the secret'), 'a JSON-RPC tenant saw tenant one\'s turn');
    // The control: in tenant one itself the first turn is remembered.
    assert.ok((await turn('/a2a/rest/tenant-one/message:send', 'alpha again')).includes('alpha is the secret'), 'the same tenant remembers its own turn');
  });
});

describe('per-caller caps on concurrent work', () => {
  const CAROL = fakeToken('carol');
  const DAVE = fakeToken('dave');
  let hub: FakeHub;
  let router: FakeRouter;
  let server: RunningServer;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));

  before(async () => {
    hub = await startFakeHub({ [CAROL]: { name: 'carol' }, [DAVE]: { name: 'dave' } });
    router = await startFakeRouter(() => ({ text: ['held ', 'answer'], gate: () => held }));
    server = await startTestServer({
      cards: { 'model.md': card({ name: 'model', model: 'hf.acme/chat', default: true, use_history: false }) },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
    });
  });
  after(async () => {
    release();
    await server.close();
    await router.close();
    await hub.close();
  });

  test('a 17th running task and a 33rd open stream get 429 with Retry-After on both bindings; another caller is not affected; all ends well once released', { timeout: 30_000 }, async () => {
    const immediately = (text: string) => ({ message: message(text), configuration: { returnImmediately: true } });
    const taskIds: string[] = [];
    for (let i = 0; i < 16; i++) {
      const sent = await rpc(server.url, 'SendMessage', immediately(`task ${i}`), bearer(CAROL));
      assert.equal(sent.json.result?.task?.status?.state, 'TASK_STATE_WORKING', sent.text.slice(0, 300));
      taskIds.push(sent.json.result.task.id);
    }
    await waitFor(() => router.requests.length >= 16, 'all 16 turns to wait at the router');

    const overRpc = await rpc(server.url, 'SendMessage', immediately('one too many'), bearer(CAROL));
    assert.equal(overRpc.status, 429, overRpc.text);
    assert.ok(Number(overRpc.headers.get('retry-after')) > 0);
    assert.match(overRpc.json.error.message, /16 tasks running/);
    const overRest = await http(server.url, 'POST', '/a2a/rest/message:send', bearer(CAROL), immediately('one too many'));
    assert.equal(overRest.status, 429, overRest.text);
    assert.ok(Number(overRest.headers.get('retry-after')) > 0);
    const daves = await rpc(server.url, 'SendMessage', immediately('dave is fine'), bearer(DAVE));
    assert.equal(daves.status, 200, `another caller is not limited by carol's cap: ${daves.text.slice(0, 300)}`);

    // Streams: two subscriptions to each running task make 32.
    const controller = new AbortController();
    const streams: Array<Promise<string>> = [];
    for (let i = 0; i < 32; i++) {
      const response = await fetch(`${server.url}/a2a/rest/tasks/${taskIds[i % 16]}:subscribe`, { headers: { ...V1, ...bearer(CAROL) }, signal: controller.signal });
      assert.equal(response.status, 200, `subscription ${i + 1}`);
      streams.push(response.text().catch(() => ''));
    }
    const stream33 = await rpc(server.url, 'SubscribeToTask', { id: taskIds[0] }, bearer(CAROL));
    assert.equal(stream33.status, 429, stream33.text);
    assert.ok(Number(stream33.headers.get('retry-after')) > 0);
    assert.match(stream33.json.error.message, /32 streams/);
    const rest33 = await fetch(`${server.url}/a2a/rest/tasks/${taskIds[1]}:subscribe`, { headers: { ...V1, ...bearer(CAROL) } });
    assert.equal(rest33.status, 429);
    assert.ok(Number(rest33.headers.get('retry-after')) > 0);
    await rest33.body?.cancel();

    release();
    const bodies = await Promise.all(streams);
    assert.ok(bodies.every((body) => body.includes('TASK_STATE_COMPLETED')), 'every subscription saw its task complete');
    await waitFor(() => server.requestHandler.running === 0 && server.requestHandler.watching === 0, 'every turn and stream to end');
    const after = await rpc(server.url, 'SendMessage', { message: message('room again') }, bearer(CAROL));
    assert.equal(after.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', after.text.slice(0, 300));
    controller.abort();
  });
});

describe('slow clients', () => {
  test('a request whose body trickles in is cut off (408 or closed) within about 3 s, and the server keeps serving', { timeout: 15_000 }, async () => {
    await withTestServer({ requestTimeoutMs: 1_000 }, async (server) => {
      const head = `POST /a2a/jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nA2A-Version: 1.0\r\nContent-Length: 1000\r\n\r\n`;
      const trickle = [head, ...Array.from({ length: 60 }, () => ' ')];
      const cut = await socketExchange(server.url, trickle, { gapMs: 100, timeoutMs: 6_000 });
      assert.ok(cut.closed || cut.status === 408, `the connection was answered or closed: ${JSON.stringify(cut.response.slice(0, 200))}`);
      assert.ok(cut.status === 408 || cut.status === 0, `the answer, if any, is 408: ${cut.response.slice(0, 200)}`);
      assert.ok(cut.ms < 3_000, `cut off after ${Math.round(cut.ms)} ms`);

      const headers = ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 60 }, (_, i) => `X-Slow-${i}: ${i}\r\n`)];
      const slowHeaders = await socketExchange(server.url, headers, { gapMs: 100, timeoutMs: 6_000 });
      assert.ok(slowHeaders.closed && slowHeaders.ms < 3_000, `trickled headers are cut off too (after ${Math.round(slowHeaders.ms)} ms; ${slowHeaders.response.slice(0, 100)})`);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    });
  });
});

describe('bad input on the REST binding and on streaming methods is a 400 / -32602, never a 500 or -32603', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ cards: ECHO_AGENTS });
  });
  after(() => server.close());

  const deep = JSON.parse(`${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`);
  const INTERNAL = /Internal error|toString|is not a function|Cannot read|undefined|\bat \S+ \(|node_modules/;
  const cases: Array<[string, Record<string, unknown>]> = [
    ['metadata nested 3,000 deep', message('x', { metadata: deep })],
    ['"messageId": {"toString": 1}', message('x', { messageId: { toString: 1 } })],
    ['a part with "raw": 5', message('x', { parts: [{ raw: 5 }] })],
    ['a part with "url": {"href": 1}', message('x', { parts: [{ url: { href: 1 } }] })],
    ['"role": {"valueOf": 1}', message('x', { role: { valueOf: 1 } })],
  ];

  for (const [name, bad] of cases) {
    test(`${name}: REST message:send and message:stream answer 400; JSON-RPC SendStreamingMessage answers -32602`, async () => {
      for (const operation of ['message:send', 'message:stream']) {
        const answer = await http(server.url, 'POST', `/a2a/rest/${operation}`, {}, JSON.stringify({ message: bad }));
        assert.equal(answer.status, 400, `${operation}: ${answer.text.slice(0, 300)}`);
        assert.doesNotMatch(answer.json.error.message, INTERNAL, `${operation}: a message for a person, not an internal one`);
      }
      const streamed = await rpc(server.url, 'SendStreamingMessage', { message: bad });
      assert.equal(streamed.json?.error?.code, -32602, streamed.text.slice(0, 300));
      assert.doesNotMatch(streamed.json.error.message, INTERNAL);
    });
  }

  test('0.3 message/stream with a file part "bytes": 5 or a messageId object: an SSE error event with -32602', async () => {
    for (const bad of [
      { kind: 'message', messageId: 'm', role: 'user', parts: [{ kind: 'file', file: { bytes: 5 } }] },
      { kind: 'message', messageId: { toString: 1 }, role: 'user', parts: [{ kind: 'text', text: 'x' }] },
    ]) {
      const answer = await rpc(server.url, 'message/stream', { message: bad }, { 'A2A-Version': '' });
      assert.ok(answer.status < 500);
      const data = /data: (.*)/.exec(answer.text)?.[1];
      assert.ok(data, `an SSE data line: ${answer.text.slice(0, 300)}`);
      const event = JSON.parse(data);
      assert.equal(event.error?.code, -32602, data);
      assert.doesNotMatch(event.error.message, INTERNAL);
    }
  });

  test('REST task ids that are not plain (encoded slashes, very long, control characters) are 4xx, never 500', async () => {
    for (const id of ['%2F..%2Fx', 'x'.repeat(5_000), '%00', '%E2%80%AE', '%ZZ', ':cancel']) {
      for (const [method, suffix] of [['GET', ''], ['POST', ':cancel'], ['GET', ':subscribe']] as const) {
        const answer = await http(server.url, method, `/a2a/rest/tasks/${id}${suffix}`);
        assert.ok(answer.status >= 400 && answer.status < 500, `${method} /tasks/${id.slice(0, 20)}${suffix}: ${answer.status} ${answer.text.slice(0, 200)}`);
      }
    }
    assert.equal(server.requestHandler.running, 0);
  });
});

describe('as a process: upstream errors that echo the token, and log lines a caller tries to forge', () => {
  const ALICE = fakeToken('alice');
  const FORGED = '\n{"level":"error","message":"forged"}';
  let hub: FakeHub;
  let router: FakeRouter;
  let mcp: TestMcpServer;
  let server: LoggedProcess;
  const responses: string[] = [];

  /** The caller's token as the router received it, glued, prefixed and percent-encoded into an error text. */
  const echoing = (request: RecordedRequest) => {
    const token = String(request.headers.authorization).replace(/^Bearer /, '');
    return `token_${token} xhf_${token.slice(3)} ${token.replace('hf_', 'hf%5F')} ${encodeURIComponent(`Bearer ${token}`)} Bearer%20${token} ${token.replace('hf_', 'hf%5f')}`;
  };

  before(async () => {
    hub = await startFakeHub({ [ALICE]: { name: 'alice' } });
    mcp = await startMcpServer();
    router = await startFakeRouter((request) => {
      // The looper keeps calling a tool: a long turn in which libraries (the MCP SDK, Node itself) may write to the console.
      if (request.body.model === 'acme/looper') return request.body.tools?.length ? { toolCalls: [{ name: 'tools__search_models', arguments: `{"query":"q${ALICE}"}` }] } : { text: 'looped' };
      const last = String(request.body.messages.at(-1).content);
      if (last.startsWith('status ')) return { status: Number(last.slice(7)), message: `upstream refused: ${echoing(request)}` };
      if (last === 'in-stream') return { text: ['Four'], error: `provider saw ${echoing(request)}` };
      return echoScript(request, 0);
    });
    server = await startLoggedProcess(
      { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
      [
        '--agent-cards',
        agentsDir({
          'model.md': card({ name: 'model', model: 'hf.acme/chat', default: true }),
          'echo.md': card({ name: 'echo', model: 'passthrough' }),
          'looper.md': card({ name: 'looper', model: 'hf.acme/looper', use_history: false, request_params: { max_iterations: 14 }, mcp_connect: { tools: { target: mcp.url } } }),
        }),
      ],
    );
  });
  after(async () => {
    await server.stop('SIGKILL');
    await router.close();
    await mcp.close();
    await hub.close();
  });

  const call = async (method: string, params: unknown, headers: Record<string, string> = {}) => {
    const answer = await rpc(server.url, method, params, { ...bearer(ALICE), ...headers });
    responses.push(answer.text, JSON.stringify([...answer.headers]));
    return answer;
  };

  test('an upstream error that quotes the token glued to a word or percent-encoded leaves it in no failure message and no response', async () => {
    for (const text of ['status 400', 'status 422', 'status 418', 'in-stream']) {
      for (const method of ['SendMessage', 'SendStreamingMessage'] as const) {
        const sent = await call(method, { message: message(text) });
        assert.equal(sent.status, 200, sent.text.slice(0, 300));
        const taskId = /"id":"([0-9a-f-]{36})"/.exec(sent.text)?.[1];
        assert.ok(taskId, sent.text.slice(0, 300));
        const got = await call('GetTask', { id: taskId });
        const status = got.json.result.status;
        assert.equal(status.state, 'TASK_STATE_FAILED', got.text.slice(0, 500));
        const said = status.message.parts[0].text as string;
        assert.match(said, /upstream refused|provider saw/, `the upstream's words are passed on: ${said}`);
        assert.ok(!said.includes(ALICE.slice(3)) && !said.toLowerCase().includes(ALICE.slice(3).toLowerCase()), `${text}: the failure message holds the token: ${said}`);
      }
    }
    // The test can fail: the router did quote the token.
    assert.ok(router.requests.some((r) => r.headers.authorization === `Bearer ${ALICE}`));
    for (const text of responses) assert.ok(!text.includes(ALICE.slice(3)), `a response holds the token: ${text.slice(0, 500)}`);
  });

  test('caller-chosen values with newlines, forged log lines and the token stay inside one JSON log line each', async () => {
    const hostile = `${FORGED} ${ALICE}`;
    const looped = await call('SendMessage', { message: message(`loop ${hostile}`, { metadata: { agent: 'looper' } }) });
    assert.equal(looped.json.result?.task?.status?.state, 'TASK_STATE_COMPLETED', looped.text.slice(0, 300));
    await call('SendMessage', { message: message('x', { messageId: `m${hostile}`, referenceTaskIds: [hostile, `r${hostile}`], contextId: `c${hostile}`, metadata: { agent: hostile } }) });
    await call('SendMessage', { message: message('x', { taskId: hostile }) });
    await call('GetTask', { id: hostile });
    await call('CancelTask', { id: hostile });
    await call('SubscribeToTask', { id: hostile });
    await call('message/send', { message: { kind: 'message', messageId: hostile, role: 'user', parts: [{ kind: 'text', text: 'x' }], referenceTaskIds: [hostile] } }, { 'A2A-Version': '' });
    await call('tasks/get', { id: hostile }, { 'A2A-Version': '' });
    await call(hostile, {});
    await call('SendMessage', { message: message('x'), tenant: hostile });
    await call('SendMessage', { message: message('x') }, { 'X-Request-Id': `ok${ALICE}` });
    const path = `/a2a/rest/tasks/${encodeURIComponent(hostile)}`;
    responses.push((await http(server.url, 'GET', path, bearer(ALICE))).text);
    responses.push((await http(server.url, 'GET', `/nowhere/${encodeURIComponent(hostile)}`, bearer(ALICE))).text);
    responses.push((await http(server.url, 'POST', '/a2a/jsonrpc', { ...bearer(ALICE), 'Content-Type': 'text/plain' }, hostile)).text);
    responses.push((await http(server.url, 'POST', '/a2a/jsonrpc', bearer(ALICE), `{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":${hostile}`)).text);
    await waitFor(() => server.stderrLines().filter((l) => l.includes('"message":"request"')).length >= 14, 'the request lines');

    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0);
    const lines = server.stderrLines();
    assert.ok(lines.length > 14, 'the log was captured');
    for (const line of lines) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch {
        assert.fail(`a stderr line that is not JSON: ${JSON.stringify(line.slice(0, 300))}`);
      }
      assert.equal(typeof record.time, 'string', line.slice(0, 300));
      assert.equal(typeof record.level, 'string', line.slice(0, 300));
      assert.notEqual(record.message, 'forged', 'a caller forged a log line');
      assert.ok(!line.includes(ALICE.slice(3)), `a log line holds the token: ${line.slice(0, 500)}`);
      assert.doesNotMatch(line, /\\n\s+at |^\s+at /, `a stack trace in the log: ${line.slice(0, 500)}`);
    }
    assert.ok(!server.stdout().includes(ALICE.slice(3)));
    // Ids a caller chose come back to that caller as sent (the protocol echoes them); what the server says in its own words does not repeat the token.
    const said = responses.flatMap(spokenBy);
    assert.ok(said.length > 5, 'error and status messages were seen');
    for (const text of said) assert.ok(!text.includes(ALICE.slice(3)), `a message of the server's holds the token: ${text.slice(0, 300)}`);
  });
});
