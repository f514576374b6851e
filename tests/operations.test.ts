/**
 * Running the built server as operators do (`node dist/app.js`, as its own process; `npm test`
 * builds it first): a restart (SIGTERM) lets running work finish or says it was cut short and exits
 * cleanly; every line on stderr is one JSON object; requests carry ids and leave one log line each;
 * LOG_LEVEL silences what it should; --help and a port in use say what they should; and /metrics is
 * there only for whoever holds METRICS_TOKEN, which never shows in the log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { agentsDir, card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { runStart } from './support/server.ts';
import { startLoggedProcess, type LoggedProcess } from './support/observe.ts';

const V1 = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const message = (text: string, extra: Record<string, unknown> = {}) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...extra });
const rpcBody = (method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });

const CARDS = agentsDir({
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
  'model.md': card({ name: 'model', model: 'hf.acme/chat' }),
});

/** Every stderr line parsed: each must be one JSON object with time, level and message. */
function parseLines(lines: string[]): Array<Record<string, unknown>> {
  return lines.map((line) => {
    let parsed: unknown;
    assert.doesNotThrow(() => (parsed = JSON.parse(line)), `a stderr line that is not JSON: ${JSON.stringify(line.slice(0, 300))}`);
    assert.ok(parsed && typeof parsed === 'object' && !Array.isArray(parsed), `a stderr line that is not a JSON object: ${line.slice(0, 300)}`);
    const record = parsed as Record<string, unknown>;
    assert.ok(typeof record.time === 'string' && !Number.isNaN(Date.parse(record.time)), `no time: ${line.slice(0, 300)}`);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(record.level as string), `no level: ${line.slice(0, 300)}`);
    assert.equal(typeof record.message, 'string', `no message: ${line.slice(0, 300)}`);
    return record;
  });
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The data lines of an SSE body, parsed. */
function sseEvents(body: string): any[] {
  return body.split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)));
}

describe('a restart (SIGTERM) while streams are running', () => {
  let router: FakeRouter;
  before(async () => {
    router = await startFakeRouter((request) => {
      const last = request.body.messages.at(-1).content as string;
      if (last.includes('never')) return { hang: true };
      return { text: ['one ', 'two ', 'three'], delayMs: 400 };
    });
  });
  after(() => router.close());

  test('a stream that finishes within the drain ends with its answer; one that cannot ends failed, saying the server is restarting; the process exits 0', { timeout: 40_000 }, async () => {
    const server = await startLoggedProcess({ HF_TOKEN: fakeToken('restart'), HF_INFERENCE_ENDPOINT: router.url }, ['--agent-cards', CARDS]);
    try {
      const quick = fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: V1, body: rpcBody('SendStreamingMessage', { message: message('finish soon', { metadata: { agent: 'model' } }) }) }).then((r) => r.text());
      const stuck = fetch(`${server.url}/a2a/rest/message:stream`, { method: 'POST', headers: V1, body: JSON.stringify({ message: message('never finishes', { metadata: { agent: 'model' } }) }) }).then((r) => r.text());
      await waitFor(() => router.requests.length >= 2, 'both turns to reach the router');
      const signalled = Date.now();
      process.kill(server.child.pid!, 'SIGTERM');

      const [quickBody, stuckBody] = await Promise.all([quick, stuck]);
      const { code, signal } = await server.exited;
      assert.equal(signal, null, 'the process exited on its own, not by the signal');
      assert.equal(code, 0, `exit code 0:\n${server.stderr()}`);
      assert.ok(Date.now() - signalled < 15_000, 'the drain is bounded');

      const quickEvents = sseEvents(quickBody).map((e) => e.result);
      const answer = quickEvents.filter((e) => e.artifactUpdate).map((e) => e.artifactUpdate.artifact.parts[0].text).join('');
      assert.equal(answer, 'one two three', `the running stream finished within the drain: ${quickBody.slice(0, 500)}`);
      assert.equal(quickEvents.at(-1)?.statusUpdate?.status?.state, 'TASK_STATE_COMPLETED');

      const last = sseEvents(stuckBody).at(-1);
      assert.equal(last?.statusUpdate?.status?.state, 'TASK_STATE_FAILED', `the stuck stream was ended: ${stuckBody.slice(0, 500)}`);
      assert.match(last.statusUpdate.status.message.parts[0].text, /restarting.*again/i);

      const lines = parseLines(server.stderrLines());
      assert.ok(lines.some((l) => l.message === 'shutting down: finishing running work' && l.signal === 'SIGTERM'));
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('request ids, request log lines and metrics', () => {
  const METRICS = `metrics-${crypto.randomUUID()}`;
  const ALICE = fakeToken('alice');
  let hub: FakeHub;
  let router: FakeRouter;
  let server: LoggedProcess;
  const responses: string[] = [];

  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${path}`, init);
    const text = await response.text();
    responses.push(text, JSON.stringify([...response.headers]));
    return { response, text };
  };
  const logLines = () => parseLines(server.stderrLines());

  before(async () => {
    hub = await startFakeHub({ [ALICE]: { name: 'alice' } });
    router = await startFakeRouter();
    server = await startLoggedProcess(
      { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url, METRICS_TOKEN: METRICS },
      ['--agent-cards', CARDS],
    );
  });
  after(async () => {
    await server.stop('SIGKILL');
    await router.close();
    await hub.close();
  });

  test('every response carries an X-Request-Id: a sane inbound one is echoed, anything else is replaced by a new one', async () => {
    const fresh = (await call('/healthz')).response.headers.get('x-request-id') ?? '';
    assert.match(fresh, UUID);
    assert.notEqual((await call('/healthz')).response.headers.get('x-request-id'), fresh, 'a new id per request');
    assert.equal((await call('/healthz', { headers: { 'X-Request-Id': 'trace.abc-123:7' } })).response.headers.get('x-request-id'), 'trace.abc-123:7');
    for (const bad of ['has spaces', 'x'.repeat(300), '<script>', 'a"b', 'é', '']) {
      const id = (await call('/healthz', { headers: { 'X-Request-Id': bad } })).response.headers.get('x-request-id') ?? '';
      assert.match(id, UUID, `${JSON.stringify(bad.slice(0, 20))} is replaced by a fresh id, not ${JSON.stringify(id.slice(0, 40))}`);
    }
    // Also on refusals and on A2A routes.
    const refused = await call('/a2a/jsonrpc', { method: 'POST', headers: { ...V1, 'X-Request-Id': 'refused-1' }, body: rpcBody('SendMessage', { message: message('x') }) });
    assert.equal(refused.response.status, 401);
    assert.equal(refused.response.headers.get('x-request-id'), 'refused-1');
  });

  test('each request leaves one log line with requestId, method, route, status, ms and the A2A method', async () => {
    await call('/a2a/jsonrpc', { method: 'POST', headers: { ...V1, Authorization: `Bearer ${ALICE}`, 'X-Request-Id': 'line-rpc-1' }, body: rpcBody('SendMessage', { message: message('log me') }) });
    await call('/a2a/rest/tasks?pageSize=5', { headers: { ...V1, Authorization: `Bearer ${ALICE}`, 'X-Request-Id': 'line-rest-1' } });
    await call('/a2a/rest/message:send', { method: 'POST', headers: { ...V1, Authorization: `Bearer ${ALICE}`, 'X-Request-Id': 'line-rest-send' }, body: JSON.stringify({ message: message('log me too') }) });
    await call('/a2a/rest/tasks/nope', { headers: { ...V1, Authorization: `Bearer ${ALICE}`, 'X-Request-Id': 'line-rest-2' } });
    await waitFor(() => ['line-rpc-1', 'line-rest-1', 'line-rest-2', 'line-rest-send'].every((id) => logLines().some((l) => l.requestId === id)), 'the request lines');
    const byId = (id: string) => {
      const matching = logLines().filter((l) => l.requestId === id && l.message === 'request');
      assert.equal(matching.length, 1, `exactly one request line for ${id}`);
      return matching[0]!;
    };
    const rpcLine = byId('line-rpc-1');
    assert.equal(rpcLine.route, '/a2a/jsonrpc');
    assert.equal(rpcLine.status, 200);
    assert.equal(rpcLine.a2aMethod, 'SendMessage');
    assert.equal(rpcLine.method, 'POST');
    assert.ok(typeof rpcLine.ms === 'number' && rpcLine.ms >= 0);
    assert.ok(typeof rpcLine.caller === 'string' && rpcLine.caller.length > 0, 'the verified caller is named');
    const listLine = byId('line-rest-1');
    assert.equal(listLine.a2aMethod, 'list');
    assert.equal(listLine.status, 200);
    const missing = byId('line-rest-2');
    assert.equal(missing.a2aMethod, 'get');
    assert.equal(missing.status, 404);
    // A blocking send waited for its turn: its one line also says how the turn ended, and names the task.
    assert.match(String(rpcLine.taskId), /^[0-9a-f-]{36}$/);
    assert.equal(rpcLine.state, 'completed');
    assert.equal(rpcLine.agent, 'echo');
    assert.equal(rpcLine.toolCalls, 0);
    assert.ok(typeof rpcLine.turnMs === 'number' && rpcLine.turnMs >= 0);
    assert.ok(!logLines().some((l) => l.message === 'task turn ended' && l.taskId === rpcLine.taskId), 'no second line for a turn its request reported');
    const restSend = byId('line-rest-send');
    assert.equal(restSend.a2aMethod, 'send');
    assert.match(String(restSend.taskId), /^[0-9a-f-]{36}$/, 'a REST send names its task too');
    assert.equal(restSend.state, 'completed');
  });

  test('caller-chosen strings in a log line are cut to 1,000 characters, redacted before the cut; an unknown method is quoted back cut too', async () => {
    const auth = { ...V1, Authorization: `Bearer ${ALICE}` };
    // A token-shaped value across the cut: cut first, its start would be too short to be recognised.
    const secret = `hf_${'Q'.repeat(34)}`;
    const method = `${'m'.repeat(995)}${secret}${'m'.repeat(200_000)}`;
    const unknown = await call('/a2a/jsonrpc', { method: 'POST', headers: { ...auth, 'X-Request-Id': 'long-method' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} }) });
    const answer = JSON.parse(unknown.text);
    assert.equal(answer.error.code, -32601);
    assert.ok(answer.error.message.length < 1_000, `the error quotes ${answer.error.message.length} characters back`);
    await call('/a2a/jsonrpc', { method: 'POST', headers: { ...auth, 'X-Request-Id': 'long-task-id' }, body: rpcBody('GetTask', { id: 'i'.repeat(200_000) }) });
    await call(`/${'p'.repeat(12_000)}`, { headers: { 'X-Request-Id': 'long-path' } });
    // Control characters take 6 characters each in JSON: the cut is measured encoded.
    await call('/a2a/jsonrpc', { method: 'POST', headers: { ...auth, 'X-Request-Id': 'control-characters' }, body: rpcBody('GetTask', { id: '\u0001'.repeat(3_000) }) });
    await call(`/a2a/rest/tasks/${'%01'.repeat(3_000)}`, { headers: { ...auth, 'X-Request-Id': 'control-characters-path' } });
    const ids = ['long-method', 'long-task-id', 'long-path', 'control-characters', 'control-characters-path'];
    await waitFor(() => ids.every((id) => logLines().some((l) => l.requestId === id)), 'the request lines');
    const lines = server.stderrLines().filter((line) => ids.some((id) => line.includes(`"requestId":"${id}"`)));
    assert.ok(lines.length >= ids.length, 'the request lines, and the authentication lines of those that carried a token');
    for (const line of lines) assert.ok(line.length < 3_000, `a log line of ${line.length} characters: ${line.slice(0, 200)}`);
    const parsed = parseLines(lines).filter((l) => l.message === 'request');
    assert.match(String(parsed.find((l) => l.requestId === 'long-method')!.a2aMethod), /^m{995}\[red… \(201032 characters\)$/);
    assert.match(String(parsed.find((l) => l.requestId === 'long-task-id')!.taskId), /^i{999}… \(200000 characters\)$/);
    assert.match(String(parsed.find((l) => l.requestId === 'long-path')!.path), /^\/p{998}… \(12001 characters\)$/);
    assert.ok(!server.stderr().includes('hf_Q'), 'no part of the token reached the log');
  });

  test('a turn that outlives its request (returnImmediately) leaves a line of its own when it ends', async () => {
    const { text } = await call('/a2a/jsonrpc', {
      method: 'POST',
      headers: { ...V1, Authorization: `Bearer ${ALICE}`, 'X-Request-Id': 'line-rpc-2' },
      body: rpcBody('SendMessage', { message: message('later'), configuration: { returnImmediately: true } }),
    });
    const taskId = (JSON.parse(text) as { result: { task: { id: string } } }).result.task.id;
    await waitFor(() => logLines().some((l) => l.message === 'task turn ended' && l.taskId === taskId), 'the turn line');
    const turnLine = logLines().find((l) => l.message === 'task turn ended' && l.taskId === taskId)!;
    assert.equal(turnLine.state, 'completed');
    assert.equal(turnLine.agent, 'echo');
    assert.ok(typeof turnLine.caller === 'string' && turnLine.caller.length > 0);
    const requestLine = logLines().find((l) => l.requestId === 'line-rpc-2' && l.message === 'request')!;
    assert.equal(requestLine.taskId, taskId);
    assert.equal(requestLine.state, undefined, 'the request line does not claim a turn it did not wait for');
  });

  test('/metrics is 401 without the metrics bearer or with a wrong one, and with it serves the Prometheus series', async () => {
    // Traffic for the counters: a stream left open, a task, a Hub check.
    const openStream = new AbortController();
    router.script = () => ({ text: ['slow'], gate: () => new Promise(() => {}) });
    const streaming = await fetch(`${server.url}/a2a/rest/message:stream`, { method: 'POST', headers: { ...V1, Authorization: `Bearer ${ALICE}` }, body: JSON.stringify({ message: message('hold', { metadata: { agent: 'model' } }) }), signal: openStream.signal });
    assert.equal(streaming.status, 200);
    const reader = streaming.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const heldTaskId = JSON.parse(first.slice(first.indexOf('data: ') + 6).split('\n')[0]!).task.id as string;

    for (const headers of [{} as Record<string, string>, { Authorization: 'Bearer wrong-token-wrong-token' }, { Authorization: METRICS }, { Authorization: `Basic ${METRICS}` }, { Authorization: `Bearer ${ALICE}` }]) {
      const refused = await call('/metrics', { headers });
      assert.equal(refused.response.status, 401, JSON.stringify(headers).replace(METRICS, '<metrics token>'));
      assert.doesNotMatch(refused.text, /a2a_/);
    }
    const served = await call('/metrics', { headers: { Authorization: `Bearer ${METRICS}` } });
    assert.equal(served.response.status, 200);
    assert.match(served.response.headers.get('content-type') ?? '', /^text\/plain/);
    for (const series of ['a2a_http_requests_total', 'a2a_tasks_ended_total', 'a2a_hub_token_checks_total', 'a2a_open_streams', 'a2a_store_weight_bytes']) {
      assert.match(served.text, new RegExp(`^${series}(\\{[^}]*\\})? \\d`, 'm'), `${series} has a sample`);
    }
    assert.match(served.text, /^a2a_open_streams 1$/m, 'the open stream is counted');
    assert.match(served.text, /^a2a_tasks_ended_total\{state="completed"\} [1-9]/m);
    assert.match(served.text, /^a2a_hub_token_checks_total\{outcome="accepted"\} [1-9]/m);
    openStream.abort();
    // The held turn is canceled, so the restart at the end has nothing to wait for.
    const canceled = await call('/a2a/jsonrpc', { method: 'POST', headers: { ...V1, Authorization: `Bearer ${ALICE}` }, body: rpcBody('CancelTask', { id: heldTaskId }) });
    assert.equal(JSON.parse(canceled.text).result?.status?.state, 'TASK_STATE_CANCELED', canceled.text);
    router.script = (request, index) => ({ text: `You said: ${request.body.messages.at(-1).content}` });
  });

  test('the metrics token never appears in a log line, wherever a caller puts it', async () => {
    await call(`/metrics/${METRICS}`, { headers: { Authorization: `Bearer ${METRICS}` } });
    await call(`/a2a/rest/tasks/${METRICS}`, { headers: { ...V1, Authorization: `Bearer ${ALICE}`, 'X-Request-Id': METRICS } });
    await call('/a2a/jsonrpc', { method: 'POST', headers: { ...V1, Authorization: `Bearer ${METRICS}` }, body: rpcBody('SendMessage', { message: message(METRICS) }) });
    await call('/a2a/jsonrpc', { method: 'POST', headers: { ...V1, Authorization: `Bearer ${ALICE}` }, body: rpcBody('GetTask', { id: METRICS }) });
    await call('/a2a/jsonrpc', { method: 'POST', headers: { ...V1, Authorization: `Bearer ${ALICE}` }, body: rpcBody('SendMessage', { message: message('x', { metadata: { agent: METRICS } }) }) });
    await waitFor(() => logLines().filter((l) => l.message === 'request').length >= 20, 'the request lines');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const output = server.stderr() + server.stdout();
    assert.ok(output.includes('"message":"request"'), 'the log was captured');
    assert.ok(!output.includes(METRICS), 'the metrics token is in the log');
    assert.ok(!output.includes(ALICE.slice(3)), 'a caller token is in the log');
  });

  test('every stderr line of the whole session is one JSON object with time, level and message', async () => {
    const exited = await server.stop('SIGTERM');
    assert.equal(exited.code, 0);
    const lines = parseLines(server.stderrLines());
    assert.ok(lines.length > 20);
    assert.ok(server.stderr().endsWith('\n'), 'the last line is complete');
    assert.equal(server.stdout(), '', 'nothing but the log, and the log goes to stderr');
  });
});

describe('a log reader that falls behind', () => {
  const FLOOD = 2_000;
  /** FLOOD requests whose 404 line each carries a path of nearly 1,000 characters: over 2 MiB of log lines. */
  async function flood(server: LoggedProcess): Promise<void> {
    const longPath = `/nothing-here/${'x'.repeat(980)}`;
    for (let batch = 0; batch < FLOOD / 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}${longPath}`, { signal: AbortSignal.timeout(10_000) })));
      for (const answer of answers) {
        assert.equal(answer.status, 404);
        await answer.arrayBuffer();
      }
    }
  }

  test('while nobody reads the log the server keeps answering; past 1 Mi characters waiting, newer lines are dropped whole, and their count is logged once the reader is back', { timeout: 60_000 }, async () => {
    const server = await startLoggedProcess({}, ['--agent-cards', CARDS]);
    try {
      // Stop reading stderr: once the pipe and this side's buffer are full, every line has to wait in the server.
      server.child.stderr!.pause();
      await flood(server);
      const started = performance.now();
      assert.equal((await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) })).status, 200);
      assert.ok(performance.now() - started < 2_000, `/healthz took ${Math.round(performance.now() - started)} ms with the log unread`);
      const sent = await fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: V1, body: rpcBody('SendMessage', { message: message('still here') }), signal: AbortSignal.timeout(5_000) });
      assert.equal((await sent.json()).result.task.status.state, 'TASK_STATE_COMPLETED');

      server.child.stderr!.resume();
      await waitFor(() => server.stderr().includes('log lines dropped'), 'the line that counts the dropped lines', 15_000);
      // The reader is back: lines logged from now on are written again.
      const marker = `/after-the-backlog-${crypto.randomUUID()}`;
      await (await fetch(`${server.url}${marker}`)).arrayBuffer();
      await waitFor(() => server.stderr().includes(marker), 'a line logged after the reader caught up', 15_000);
    } finally {
      await server.stop('SIGTERM');
    }
    assert.ok(server.stderr().endsWith('\n'), 'the last line is complete');
    const lines = parseLines(server.stderrLines());
    const counts = lines.filter((line) => line.message === 'log lines dropped: the log reader fell behind').map((line) => line.dropped);
    assert.ok(counts.length > 0 && counts.every((count) => typeof count === 'number' && count > 0), `the counts of dropped lines: ${JSON.stringify(counts)}`);
    const dropped = (counts as number[]).reduce((sum, count) => sum + count, 0);
    const written = lines.filter((line) => line.message === 'request' && String(line.path).startsWith('/nothing-here/')).length;
    assert.ok(written < FLOOD, `some lines were dropped rather than held (${written} of ${FLOOD} written)`);
    // Besides the flood, the /healthz and SendMessage lines were logged while the reader was away: they may be among the dropped.
    assert.ok(written + dropped >= FLOOD && written + dropped <= FLOOD + 2, `every flood line was either written or counted as dropped, once (${written} written, ${dropped} dropped)`);
  });

  test('a restart while nobody reads the log still exits promptly', { timeout: 60_000 }, async () => {
    const server = await startLoggedProcess({}, ['--agent-cards', CARDS]);
    server.child.stderr!.pause();
    await flood(server);
    const started = performance.now();
    const exited = await server.stop('SIGTERM');
    assert.equal(exited.code, 0);
    // The exit waits up to 1 s for the reader to take the last lines, then goes without them.
    assert.ok(performance.now() - started < 5_000, `the exit took ${Math.round(performance.now() - started)} ms`);
    server.child.stderr!.resume();
  });
});

describe('LOG_LEVEL, --help, a port in use, and /metrics without METRICS_TOKEN', () => {
  test('LOG_LEVEL=warn: no request or info lines, but warnings still come; /metrics does not exist without METRICS_TOKEN', { timeout: 30_000 }, async () => {
    // On a Space, without inbound auth but with HF_TOKEN set, the server warns at start-up.
    const server = await startLoggedProcess({ LOG_LEVEL: 'warn', SPACE_HOST: 'someone-demo.hf.space', HF_TOKEN: fakeToken('space') }, ['--agent-cards', CARDS]);
    try {
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      for (const headers of [{} as Record<string, string>, { Authorization: 'Bearer anything-at-all-long-enough' }]) {
        const metrics = await fetch(`${server.url}/metrics`, { headers });
        assert.equal(metrics.status, 404, '/metrics does not exist without METRICS_TOKEN');
        assert.doesNotMatch(await metrics.text(), /a2a_/);
      }
      const sent = await fetch(`${server.url}/a2a/jsonrpc`, { method: 'POST', headers: V1, body: rpcBody('SendMessage', { message: message('x') }) });
      assert.equal((await sent.json()).result.task.status.state, 'TASK_STATE_COMPLETED');
      await waitFor(() => server.stderr().includes('FAST_AGENT_SERVE_OAUTH is not set'), 'the warning line');
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await server.stop('SIGTERM');
    }
    const lines = parseLines(server.stderrLines());
    assert.ok(lines.some((l) => l.level === 'warn'), 'warnings are written');
    assert.deepEqual(lines.filter((l) => l.level === 'info' || l.level === 'debug').map((l) => l.message), [], 'nothing below warn is written');
  });

  test('--help prints the usage and exits 0', async () => {
    const { code, output } = await runStart({}, ['--help']);
    assert.equal(code, 0);
    assert.match(output, /^Usage: npm start -- \[options\]/);
    for (const flag of ['--host', '--port', '--agent-cards', '--model', '--instance-scope', '--help']) assert.ok(output.includes(flag), flag);
  });

  test('a port already in use: one clear "Cannot start:" line naming the port, exit code 2, no stack trace', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      const { code, output } = await runStart({ PORT: String(port) }, ['--agent-cards', CARDS]);
      assert.equal(code, 2, output);
      const lines = output.split('\n').filter(Boolean);
      const cannot = lines.filter((line) => line.startsWith('Cannot start:'));
      assert.equal(cannot.length, 1, output);
      assert.match(cannot[0]!, new RegExp(`127\\.0\\.0\\.1:${port} is already in use; stop the other server or choose another --port`));
      assert.doesNotMatch(output, /\n\s+at \S|EADDRINUSE.*\n.*at /);
      assert.ok(lines.every((line) => line.startsWith('Cannot start:') || JSON.parse(line)), `every other line is a log line: ${output}`);
    } finally {
      blocker.close();
    }
  });
});
