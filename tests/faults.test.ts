/**
 * Faults upstream, with loopback stand-ins: the Hub (token checks), the inference router and MCP
 * servers each fail in every way they can (error statuses, rate limits, silence, garbage, a broken
 * connection). For each, what the client sees is a status code or a task state with a message a
 * person can act on; no task is left working; and the server goes on serving.
 *
 * What tests/token-checks.test.ts, tests/inference.test.ts, tests/tools.test.ts and
 * tests/task-lifecycle.test.ts already assert (blocking JSON-RPC sends) is not repeated: these cover
 * every binding and streaming, the faults they leave out, and the state of the server afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { startTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { echoScript, startFakeRouter, type FakeRouter, type RecordedRequest, type Reply } from './support/fake-router.ts';
import { startMcpServer, type TestMcpServer } from './support/mcp-server.ts';
import { listenOnLoopback } from './support/http.ts';
import { freePort } from './support/observe.ts';
import type { RunningServer } from '../src/server.ts';

const V1 = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
const message = (text: string, extra: Record<string, unknown> = {}) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...extra });
const bearer = (token: string | undefined): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});

type Route = 'jsonrpc-send' | 'jsonrpc-stream' | 'rest-send' | 'rest-stream';
const ROUTES: Route[] = ['jsonrpc-send', 'jsonrpc-stream', 'rest-send', 'rest-stream'];

interface Outcome {
  status: number;
  headers: Headers;
  text: string;
  /** The task as the answer left it: the blocking result, or the stream's last status event applied. */
  state: string | undefined;
  statusText: string;
  /** Every status message the answer carried (progress included). */
  progress: string[];
  /** The answer: the task's artifact text, or the streamed chunks joined. */
  answer: string;
  taskId: string | undefined;
}

/** Sends `params` on `route` and reads the whole answer. */
async function send(url: string, route: Route, params: Record<string, unknown>, token?: string): Promise<Outcome> {
  const rest = route.startsWith('rest');
  const streaming = route.endsWith('stream');
  const path = rest ? `/a2a/rest/message:${streaming ? 'stream' : 'send'}` : '/a2a/jsonrpc';
  const body = rest ? params : { jsonrpc: '2.0', id: 1, method: streaming ? 'SendStreamingMessage' : 'SendMessage', params };
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { ...V1, ...bearer(token) }, body: JSON.stringify(body) });
  const text = await response.text();
  const outcome: Outcome = { status: response.status, headers: response.headers, text, state: undefined, statusText: '', progress: [], answer: '', taskId: undefined };
  const events: any[] = [];
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    for (const line of text.split('\n')) if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
  } else {
    try {
      events.push(JSON.parse(text));
    } catch {
      // Not JSON: the caller asserts on status and text.
    }
  }
  for (const raw of events) {
    const event = rest ? raw : raw.result;
    const task = event?.task;
    const status = task?.status ?? event?.statusUpdate?.status;
    if (task?.id) outcome.taskId = task.id;
    if (status) {
      outcome.state = status.state;
      const said = status.message?.parts?.map((p: { text?: string }) => p.text ?? '').join('') ?? '';
      outcome.statusText = said;
      if (said) outcome.progress.push(said);
    }
    for (const m of task?.history ?? []) if (m.role === 'ROLE_AGENT') outcome.progress.push(m.parts?.map((p: { text?: string }) => p.text ?? '').join('') ?? '');
    const textOf = (artifact: { parts?: Array<{ text?: string }> } | undefined) => artifact?.parts?.map((p) => p.text ?? '').join('') ?? '';
    if (task?.artifacts?.length) outcome.answer = task.artifacts.map(textOf).join('');
    const update = event?.artifactUpdate;
    if (update) outcome.answer = update.append ? outcome.answer + textOf(update.artifact) : textOf(update.artifact);
  }
  return outcome;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** No turn, no stream, and no stored task still working; /healthz answers. */
async function assertSettled(server: RunningServer, token?: string): Promise<void> {
  await waitFor(() => server.requestHandler.running === 0 && server.requestHandler.watching === 0, 'every turn and stream to end');
  const working = await fetch(`${server.url}/a2a/rest/tasks?status=TASK_STATE_WORKING&pageSize=100`, { headers: { ...V1, ...bearer(token) } });
  assert.equal(working.status, 200);
  const listed = await working.json();
  assert.deepEqual(listed.tasks ?? [], [], 'no stored task is left working');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
}

/** The echo agent still completes a turn, over both bindings. */
async function assertStillServes(server: RunningServer, token?: string, agent = 'echo'): Promise<void> {
  for (const route of ['jsonrpc-send', 'rest-stream'] as const) {
    const done = await send(server.url, route, { message: message('still serving', { metadata: { agent } }) }, token);
    assert.equal(done.state, 'TASK_STATE_COMPLETED', `${route}: ${done.text.slice(0, 300)}`);
  }
}

describe('the Hub fails while a new token is checked', () => {
  const KNOWN = fakeToken('known');
  const clock = { now: Date.now() };
  let hub: FakeHub;
  let router: FakeRouter;
  let server: RunningServer;

  before(async () => {
    hub = await startFakeHub({ [KNOWN]: { name: 'known' } });
    router = await startFakeRouter();
    server = await startTestServer({
      cards: { 'echo.md': card({ name: 'echo', model: 'passthrough', default: true }), 'model.md': card({ name: 'model', model: 'hf.acme/chat' }) },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
      verifierOptions: { timeoutMs: 300, now: () => clock.now },
    });
    assert.equal((await send(server.url, 'jsonrpc-send', { message: message('hello') }, KNOWN)).state, 'TASK_STATE_COMPLETED');
  });
  after(async () => {
    await server.close();
    await router.close();
    await hub.close();
  });

  const modes: Array<[string, FakeHub['mode'], RegExp]> = [
    ['answers 500', { kind: 'status', status: 500 }, /HTTP 500/],
    ['answers 429', { kind: 'status', status: 429, retryAfter: '7' }, /rate-limiting/],
    ['hangs', { kind: 'hang' }, /did not answer within 0\.3 s/],
    ['answers garbage', { kind: 'garbage' }, /does not understand/],
  ];
  for (const [what, mode, reason] of modes) {
    test(`a Hub that ${what}: every send route is a 503 with Retry-After that says why and that nothing ran; a known caller is served meanwhile`, async () => {
      const tasksBefore = server.tasks.size;
      const routerBefore = router.requests.length;
      for (const route of ROUTES) {
        hub.mode = mode;
        const token = fakeToken('unlucky');
        hub.users.set(token, { name: 'unlucky' });
        const pending = send(server.url, route, { message: message('do something', { metadata: { agent: 'model' } }) }, token);
        // A check that hangs holds only its own request: a cached caller and /healthz answer at once.
        const known = send(server.url, 'jsonrpc-send', { message: message('meanwhile') }, KNOWN);
        const [refused, served] = await Promise.all([pending, known]);
        assert.equal(served.state, 'TASK_STATE_COMPLETED', `a cached caller is served while the Hub ${what}`);
        assert.equal(refused.status, 503, `${route}: ${refused.status} ${refused.text.slice(0, 300)}`);
        assert.ok(Number(refused.headers.get('retry-after')) > 0, `${route}: Retry-After`);
        const body = JSON.parse(refused.text);
        assert.match(body.error.message, reason, route);
        assert.match(body.error.message, /could not be checked.*Nothing was run; try again in \d+ s/, route);
        clock.now += 8_000; // past the pause a rate-limiting Hub asked for, well within the known caller's cache lifetime
      }
      hub.mode = { kind: 'normal' };
      assert.equal(router.requests.length, routerBefore, 'no model was called for a caller whose token could not be checked');
      assert.equal(server.tasks.size, tasksBefore + 4, 'no task was made for them (the four are the known caller\'s)');
      await assertSettled(server, KNOWN);
      const fresh = fakeToken('fresh');
      hub.users.set(fresh, { name: `fresh-${what}` });
      assert.equal((await send(server.url, 'rest-send', { message: message('after the fault') }, fresh)).state, 'TASK_STATE_COMPLETED', 'a new token is checked again once the Hub is back');
    });
  }

  describe('faults the fake Hub has no mode for', () => {
    let mode = 'normal';
    let odd: { url: string; close(): Promise<void> };
    let oddServer: RunningServer;
    before(async () => {
      odd = await listenOnLoopback(
        createServer((req, res) => {
          if (mode === 'reset') return void req.socket.destroy();
          if (mode === 'stall-body') return void res.writeHead(200, { 'Content-Type': 'application/json' }).write('{"type":"user","name":"sl');
          if (mode === 'html') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Bad gateway, but 200</body></html>');
          if (mode === 'array') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('[{"name":"someone"}]');
          if (mode === 'empty') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end();
          if (mode === 'name-not-string') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"name":{"toString":1},"id":5}');
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ type: 'user', id: 'id-odd', name: 'odd', auth: { type: 'access_token', accessToken: { role: 'read' } } }));
        }),
      );
      oddServer = await startTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: odd.url }, verifierOptions: { timeoutMs: 300 } });
    });
    after(async () => {
      await oddServer.close();
      await odd.close();
    });

    const cases: Array<[string, RegExp]> = [
      ['reset', /could not be reached/],
      ['stall-body', /did not answer within|does not understand/],
      ['html', /does not understand/],
      ['array', /does not understand/],
      ['empty', /does not understand/],
      ['name-not-string', /does not understand/],
    ];
    for (const [name, reason] of cases) {
      test(`a Hub that answers "${name}": 503 with Retry-After within the check's timeout, and the server still serves`, async () => {
        mode = name;
        const tasksBefore = oddServer.tasks.size;
        const started = performance.now();
        const refused = await send(oddServer.url, 'rest-stream', { message: message('hi') }, fakeToken('odd'));
        mode = 'normal';
        assert.equal(refused.status, 503, refused.text.slice(0, 300));
        assert.ok(Number(refused.headers.get('retry-after')) > 0);
        assert.match(JSON.parse(refused.text).error.message, reason);
        assert.ok(performance.now() - started < 2_000, 'answered within the check timeout, not left hanging');
        assert.equal(oddServer.tasks.size, tasksBefore, 'no task was made');
        await assertSettled(oddServer, fakeToken('odd'));
        assert.equal((await send(oddServer.url, 'jsonrpc-send', { message: message('ok now') }, fakeToken('odd'))).state, 'TASK_STATE_COMPLETED');
      });
    }
  });
});

describe('the inference router fails while a turn is streamed', () => {
  const TOKEN = fakeToken('router-faults');
  let router: FakeRouter;
  let server: RunningServer;

  before(async () => {
    router = await startFakeRouter();
    server = await startTestServer({
      cards: { 'model.md': card({ name: 'model', model: 'hf.acme/chat', default: true }), 'echo.md': card({ name: 'echo', model: 'passthrough' }) },
      env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: router.url },
      modelOptions: { idleTimeoutMs: 300, maxAttempts: 2, backoffMs: 10 },
    });
  });
  after(async () => {
    await server.close();
    await router.close();
  });

  const faults: Array<[string, () => Reply, RegExp, { retried?: boolean; aborted?: boolean }]> = [
    ['401', () => ({ status: 401, message: 'Invalid credentials' }), /rejected the token.*401.*Inference Providers/, {}],
    ['402', () => ({ status: 402, message: 'No credit' }), /credit.*settings\/billing/, {}],
    ['429', () => ({ status: 429, message: 'Slow down', headers: { 'Retry-After': '1' } }), /rate-limiting.*429.*Wait/, { retried: true }],
    ['503', () => ({ status: 503, message: 'Model is loading' }), /failed \(HTTP 503\).*Try again later/, { retried: true }],
    ['a timeout (nothing sent)', () => ({ hang: true }), /sent nothing for 300 ms/, { aborted: true }],
    ['a mid-stream disconnect', () => ({ breakAfter: ['Half ', 'an '] }), /broke off/, {}],
    ['an error event mid-stream', () => ({ text: ['Half '], error: 'worker died' }), /failed while answering: .*worker died/, {}],
  ];
  for (const [name, reply, reason, { retried, aborted }] of faults) {
    for (const route of ['jsonrpc-stream', 'rest-stream', 'rest-send'] as const) {
      test(`router ${name}, ${route}: the task ends failed saying what to do; nothing is left working; the server still serves`, async () => {
        router.script = reply;
        const first = router.requests.length;
        const outcome = await send(server.url, route, { message: message('two plus two?') });
        router.script = echoScript;
        assert.equal(outcome.status, 200, outcome.text.slice(0, 300));
        assert.equal(outcome.state, 'TASK_STATE_FAILED', `${outcome.state}: ${outcome.text.slice(0, 500)}`);
        assert.match(outcome.statusText, reason);
        assert.equal(router.requests.length - first, retried ? 2 : 1, 'attempts made');
        if (aborted) await waitFor(() => router.requests[first]!.aborted, 'the silent upstream call to be closed');
        assert.ok(!outcome.text.includes(TOKEN.slice(3)), 'no token in the answer');
        await assertSettled(server);
        await assertStillServes(server, undefined, 'model');
      });
    }
  }

  describe('malformed answers from a router that is not the fake one', () => {
    let upstream: { url: string; close(): Promise<void> };
    let junk: RunningServer;
    const answers: Record<string, (res: ServerResponse, req: IncomingMessage) => void> = {
      'bad-json': (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end('data: {"choices": [{"delta": {"content": "hi"\n\ndata: [DONE]\n\n'),
      'no-finish': (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] })}\n\ndata: [DONE]\n\n`),
      'not-sse': (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"choices":[{"message":{"content":"not streamed"}}]}'),
      'binary': (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x0a, 0x80])),
      'reset': (_res, req) => req.socket.destroy(),
      'endless-comments': (res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(': still here\n\n')), 50);
        res.on('close', () => clearInterval(timer));
      },
    };
    before(async () => {
      upstream = await listenOnLoopback(
        createServer(async (req, res) => {
          let raw = '';
          for await (const chunk of req) raw += chunk;
          const model = (JSON.parse(raw) as { model: string }).model.replace(/^junk\//, '');
          const answer = answers[model];
          if (answer) answer(res, req);
          else res.writeHead(404).end();
        }),
      );
      junk = await startTestServer({
        cards: {
          ...Object.fromEntries(Object.keys(answers).map((name, i) => [`${name}.md`, card({ name, model: `hf.junk/${name}`, default: i === 0 })])),
          'echo.md': card({ name: 'echo', model: 'passthrough' }),
        },
        env: { HF_TOKEN: TOKEN, HF_INFERENCE_ENDPOINT: upstream.url },
        modelOptions: { idleTimeoutMs: 500, maxAttempts: 1, backoffMs: 10 },
      });
    });
    after(async () => {
      await junk.close();
      await upstream.close();
    });

    for (const name of Object.keys(answers)) {
      test(`a router answering "${name}" to a streamed send: failed with a message, over both bindings; nothing left working`, async () => {
        for (const route of ['jsonrpc-stream', 'rest-stream'] as const) {
          const outcome = await send(junk.url, route, { message: message('hello', { metadata: { agent: name } }) });
          assert.equal(outcome.status, 200, outcome.text.slice(0, 300));
          assert.equal(outcome.state, 'TASK_STATE_FAILED', `${route}: ${outcome.text.slice(0, 500)}`);
          assert.ok(outcome.statusText.length > 20, `${route}: the task says why: ${outcome.statusText}`);
          assert.doesNotMatch(outcome.statusText, /unexpectedly|Internal error/, `${route}: a reason, not "unexpected": ${outcome.statusText}`);
        }
        await assertSettled(junk);
        await assertStillServes(junk);
      });
    }
  });
});

describe('MCP servers fail during a turn', () => {
  const TOKEN = fakeToken('mcp-faults');
  let hub: FakeHub;
  let router: FakeRouter;
  let mcp: TestMcpServer;
  let junk: { url: string; close(): Promise<void> };
  let server: RunningServer;
  let closedPort: number;

  /** A hand-written MCP endpoint: right enough to list a tool, then broken in the way its path says. */
  function junkMcp(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = req.url ?? '';
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (path.startsWith('/html')) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>Welcome to nginx</html>');
    if (path.startsWith('/not-jsonrpc')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"hello":"world"}');
    if (path.startsWith('/sse-garbage')) return void res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end('data: this is not json\n\n');
    if (path.startsWith('/reset-all')) return void req.socket.destroy();
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return void res.writeHead(400).end();
    }
    if (!('id' in body)) return void res.writeHead(202).end();
    const answer = (result: unknown): void => void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result }));
    if (body.method === 'initialize') return answer({ protocolVersion: body.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'junk', version: '0' } });
    if (body.method === 'tools/list') return answer({ tools: [{ name: 'boom', description: 'Breaks.', inputSchema: { type: 'object', properties: {} } }] });
    if (body.method === 'tools/call') {
      if (path.startsWith('/reset-call')) return void req.socket.destroy();
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"jsonrpc":"2.0","id":');
    }
    res.writeHead(404).end();
  }

  before(async () => {
    hub = await startFakeHub({ [TOKEN]: { name: 'mcp-faults' } });
    mcp = await startMcpServer();
    junk = await listenOnLoopback(
      createServer(async (req, res) => {
        let raw = '';
        for await (const chunk of req) raw += chunk;
        junkMcp(req, res, raw);
      }),
    );
    closedPort = await freePort();
    router = await startFakeRouter((request: RecordedRequest): Reply => {
      const tool = request.body.messages.findLast((m: { role: string }) => m.role === 'tool');
      if (tool) return { text: `Answered after the tool: ${tool.content}` };
      const offered = request.body.tools?.[0]?.function?.name;
      const slow = offered?.endsWith('__slow') || request.body.tools?.some((t: { function: { name: string } }) => t.function.name.endsWith('__slow'));
      if (slow) return { toolCalls: [{ name: request.body.tools.find((t: { function: { name: string } }) => t.function.name.endsWith('__slow')).function.name, arguments: '{"seconds": 30}' }] };
      return offered ? { toolCalls: [{ name: offered, arguments: '{}' }] } : { text: 'Answered without tools.' };
    });
    const agent = (name: string, target: string) => card({ name, model: 'hf.acme/tool-user', use_history: false, mcp_connect: { [name]: { target, auth: { forward: 'huggingface' } } } });
    server = await startTestServer({
      cards: {
        'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
        'down.md': agent('down', `http://127.0.0.1:${closedPort}/mcp`),
        'std.md': agent('std', mcp.url),
        'html.md': agent('html', `${junk.url}/html`),
        'notrpc.md': agent('notrpc', `${junk.url}/not-jsonrpc`),
        'ssejunk.md': agent('ssejunk', `${junk.url}/sse-garbage`),
        'resetall.md': agent('resetall', `${junk.url}/reset-all`),
        'resetcall.md': agent('resetcall', `${junk.url}/reset-call`),
        'cutcall.md': agent('cutcall', `${junk.url}/cut-call`),
      },
      env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url },
      mcpLimits: { connectTimeoutMs: 400, listTimeoutMs: 400, callTimeoutMs: 400 },
    });
  });
  after(async () => {
    await server.close();
    await router.close();
    await junk.close();
    await mcp.close();
    await hub.close();
  });

  const cases: Array<[string, string, RegExp, () => void]> = [
    ['is down (a closed port)', 'down', /MCP server "down" .* is unavailable: it could not be reached/, () => {}],
    ['never answers initialize', 'std', /MCP server "std" .* is unavailable: it did not answer in time/, () => (mcp.hangOn = 'initialize')],
    ['answers HTML', 'html', /MCP server "html" .* is unavailable/, () => {}],
    ['answers JSON that is not JSON-RPC', 'notrpc', /MCP server "notrpc" .* is unavailable/, () => {}],
    ['answers an event stream of garbage', 'ssejunk', /MCP server "ssejunk" .* is unavailable/, () => {}],
    ['resets every connection', 'resetall', /MCP server "resetall" .* is unavailable/, () => {}],
  ];
  for (const [what, agentName, progress, arrange] of cases) {
    test(`an MCP server that ${what}: the agent answers without it, says so, leaves nothing working, and the server still serves`, async () => {
      mcp.hangOn = undefined;
      arrange();
      try {
        for (const route of ['rest-stream', 'jsonrpc-send'] as const) {
          const outcome = await send(server.url, route, { message: message('use your tools', { metadata: { agent: agentName } }) }, TOKEN);
          assert.equal(outcome.state, 'TASK_STATE_COMPLETED', `${route}: ${outcome.text.slice(0, 500)}`);
          assert.ok(outcome.progress.some((p) => progress.test(p)), `${route}: progress says the server is unavailable: ${outcome.progress.join(' | ')}`);
          assert.equal(outcome.answer, 'Answered without tools.');
        }
      } finally {
        mcp.hangOn = undefined;
      }
      await assertSettled(server, TOKEN);
      await assertStillServes(server, TOKEN);
    });
  }

  const callFaults: Array<[string, string, RegExp]> = [
    ['takes longer than the call timeout', 'std', /did not answer in time/],
    ['resets the connection during the call', 'resetcall', /boom on MCP server "resetcall" failed/],
    ['cuts its answer to the call short', 'cutcall', /boom on MCP server "cutcall" failed/],
  ];
  for (const [what, agentName, reason] of callFaults) {
    test(`an MCP server that ${what}: the model is told, the task completes, nothing is left working`, async () => {
      const outcome = await send(server.url, 'rest-stream', { message: message('call the tool', { metadata: { agent: agentName } }) }, TOKEN);
      assert.equal(outcome.state, 'TASK_STATE_COMPLETED', outcome.text.slice(0, 500));
      assert.match(outcome.answer, /^Answered after the tool: The tool /);
      assert.match(outcome.answer, reason);
      await assertSettled(server, TOKEN);
      await assertStillServes(server, TOKEN);
    });
  }

  test('an MCP server that answers 401 to the caller\'s token: auth-required naming the server; once it accepts, the same task continues and completes', async () => {
    mcp.requiredAuthorization = 'Bearer somebody-else';
    let outcome: Outcome;
    try {
      outcome = await send(server.url, 'jsonrpc-stream', { message: message('search', { metadata: { agent: 'std' } }) }, TOKEN);
    } finally {
      mcp.requiredAuthorization = undefined;
    }
    assert.equal(outcome.state, 'TASK_STATE_AUTH_REQUIRED', outcome.text.slice(0, 500));
    assert.match(outcome.statusText, /MCP server "std" \(127\.0\.0\.1:\d+\) refused your Hugging Face token \(HTTP 401\).*send the message again/);
    assert.ok(!outcome.text.includes(TOKEN.slice(3)));
    await assertSettled(server, TOKEN);

    // A continuation that names an agent that does not exist is refused, and the task stays as it was.
    const unknown = await send(server.url, 'jsonrpc-send', { message: message('search again', { taskId: outcome.taskId, metadata: { agent: 'nobody' } }) }, TOKEN);
    const refusal = JSON.parse(unknown.text);
    assert.equal(refusal.error?.code, -32602, unknown.text);
    assert.match(refusal.error.message, /no agent named "nobody" here\. Available agents: .*std/);
    const kept = await fetch(`${server.url}/a2a/rest/tasks/${outcome.taskId}`, { headers: { ...V1, ...bearer(TOKEN) } });
    assert.equal((await kept.json()).status.state, 'TASK_STATE_AUTH_REQUIRED', 'the refused continuation did not end the task');

    const again = await send(server.url, 'rest-send', { message: message('search again', { taskId: outcome.taskId, metadata: { agent: 'std' } }) }, TOKEN);
    assert.equal(again.taskId, outcome.taskId, 'the same task');
    assert.equal(again.state, 'TASK_STATE_COMPLETED', again.text.slice(0, 500));
    await assertSettled(server, TOKEN);
  });
});
