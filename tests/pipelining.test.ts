/**
 * Requests pipelined on one HTTP/1.1 connection are handled one at a time, each when its answer is
 * next to go out: a client that never reads pins one answer, not all of them; a client that reads
 * gets every answer, whole and in order; requests still waiting when the client goes away never run;
 * and past MAX_WAITING waiting on one connection, the rest are refused with 429. The real server on
 * loopback, raw sockets as the clients; /metrics (requests by route and status, counted when the app
 * has built the answer) and the fake router (one call per send handled) count what was handled.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { RunningServer } from '../src/server.ts';
import { MAX_WAITING } from '../src/http/pipelining.ts';
import { card, ECHO_AGENTS } from './support/agents.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { startTestServer } from './support/server.ts';

const STALL_MS = 1_000;
const A2A = { 'A2A-Version': '1.0' };
const METRICS = 'pipelining-test-metrics-token-0123456789';
/** The big task's question; its answer artifact and message echo it, so GetTask returns about 3 MB. */
const BIG_TEXT_CHARS = 1_000_000;
/** The slow agent's model answers after this long. */
const SLOW_MS = 1_000;

let router: FakeRouter;
let server: RunningServer;
let bigTaskPath: string;
let bigTaskBytes: number;

before(async () => {
  router = await startFakeRouter(() => ({ text: ['slow'], delayMs: SLOW_MS }));
  server = await startTestServer({
    cards: { ...ECHO_AGENTS, 'slow.md': card({ name: 'slow', model: 'hf.acme/slow-chat' }) },
    env: { HF_TOKEN: 'hf_pipeliningTestToken0123456789', HF_INFERENCE_ENDPOINT: router.url, METRICS_TOKEN: METRICS },
    writeStallMs: STALL_MS,
  });
  const task = await send('big', 'x'.repeat(BIG_TEXT_CHARS));
  bigTaskPath = `/a2a/rest/tasks/${task.id}?historyLength=10`;
  bigTaskBytes = Buffer.byteLength(await (await fetch(`${server.url}${bigTaskPath}`, { headers: A2A })).text());
  assert.ok(bigTaskBytes > 3_000_000, `GetTask's answer is large (${bigTaskBytes} bytes)`);
});
after(async () => {
  await server.close();
  await router.close();
});

async function send(messageId: string, text: string): Promise<{ id: string }> {
  const response = await fetch(`${server.url}/a2a/rest/message:send`, {
    method: 'POST',
    headers: { ...A2A, 'Content-Type': 'application/json' },
    body: JSON.stringify({ message: { messageId, role: 'ROLE_USER', parts: [{ text }] } }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { task: { id: string } }).task;
}

/** A2A REST requests the app has answered so far (built their answer, whether or not it was written). */
async function restHandled(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS}` } })).text();
  const line = text.split('\n').find((row) => row.startsWith('a2a_http_requests_total{route="/a2a/rest/*",status="200"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\nA2A-Version: 1.0\r\n\r\n`;
}

function connect(): Promise<net.Socket> {
  const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
  return new Promise((resolve, reject) => socket.once('connect', () => resolve(socket)).once('error', reject));
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads `count` HTTP/1.1 answers off `socket` (Content-Length or chunked bodies), failing after `timeoutMs`. */
function readAnswers(socket: net.Socket, count: number, timeoutMs = 5_000): Promise<RawAnswer[]> {
  return new Promise((resolve, reject) => {
    const answers: RawAnswer[] = [];
    let buffered = Buffer.alloc(0);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(answers);
    };
    const timer = setTimeout(() => finish(new Error(`${answers.length} of ${count} answers within ${timeoutMs} ms`)), timeoutMs);
    const onClose = () => finish(new Error(`the connection closed after ${answers.length} of ${count} answers`));
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let answer = parseOne(); answer; answer = parseOne()) answers.push(answer);
      if (answers.length >= count) finish();
    };
    /** The first whole answer in `buffered`, taken off it; undefined until one is whole. */
    const parseOne = (): RawAnswer | undefined => {
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd < 0) return undefined;
      const [statusLine, ...lines] = buffered.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1]);
      let at = headEnd + 4;
      let body: Buffer;
      if (headers['transfer-encoding'] === 'chunked') {
        const pieces: Buffer[] = [];
        for (;;) {
          const sizeEnd = buffered.indexOf('\r\n', at);
          if (sizeEnd < 0) return undefined;
          const size = parseInt(buffered.subarray(at, sizeEnd).toString('latin1'), 16);
          if (buffered.length < sizeEnd + 2 + size + 2) return undefined;
          pieces.push(buffered.subarray(sizeEnd + 2, sizeEnd + 2 + size));
          at = sizeEnd + 2 + size + 2;
          if (size === 0) break;
        }
        body = Buffer.concat(pieces);
      } else {
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < at + length) return undefined;
        body = Buffer.from(buffered.subarray(at, at + length));
        at += length;
      }
      buffered = buffered.subarray(at);
      return { status, headers, body };
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

test('a client that pipelines many large answers and reads none has about one handled at a time, not all, and the stalled-writer guard frees it', async () => {
  const handledBefore = await restHandled();
  const client = await connect();
  client.pause();
  client.write(get(bigTaskPath).repeat(20));
  await sleep(STALL_MS / 2);
  // The kernel's socket buffers take one answer whole (about 4 MB on loopback; measured here: 2
  // handled), the next waits in Node, and every other request waits unhandled. Handled all at once,
  // the 20 would hold 60 MB. (4 leaves room for a host whose buffers take two answers.)
  const handled = (await restHandled()) - handledBefore;
  assert.ok(handled >= 1 && handled <= 4, `${handled} of 20 pipelined GetTasks were handled while the client read nothing`);

  // The guard cuts the connection within 1.5 windows of the stall; the requests still waiting end unhandled.
  await sleep(STALL_MS * 2);
  assert.equal((await restHandled()) - handledBefore, handled, 'no waiting request was handled after the connection was cut');
  client.destroy();
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
});

test('a client that pipelines requests and reads gets every answer, whole and in order', async () => {
  const small = await send('small', 'a small one');
  const card = await (await fetch(`${server.url}/.well-known/agent-card.json`, { headers: A2A })).text();
  const client = await connect();
  try {
    client.write([bigTaskPath, '/.well-known/agent-card.json', `/a2a/rest/tasks/${small.id}`, '/healthz', bigTaskPath, `/a2a/rest/tasks/${small.id}`].map(get).join(''));
    const answers = await readAnswers(client, 6, 10_000);
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200, 200, 200, 200],
    );
    const bodies = answers.map((answer) => answer.body.toString('utf8'));
    assert.equal(answers[0]!.body.length, bigTaskBytes, 'the first large answer is whole');
    assert.match(bodies[0]!, /^\{"id":"[^"]+"/);
    assert.equal(bodies[1], card);
    assert.equal(JSON.parse(bodies[2]!).id, small.id);
    assert.deepEqual(JSON.parse(bodies[3]!), { status: 'ok' });
    assert.equal(bodies[4], bodies[0], 'the second large answer is whole');
    assert.equal(bodies[5], bodies[2]);
    // The connection is still usable afterwards.
    client.write(get('/healthz'));
    const [again] = await readAnswers(client, 1);
    assert.equal(again!.status, 200);
  } finally {
    client.destroy();
  }
});

test('requests still waiting when their client goes away never run, and the server goes on serving', async () => {
  const callsBefore = router.requests.length;
  const client = await connect();
  // Five blocking sends to the slow agent: the first one's turn takes SLOW_MS; the client leaves meanwhile.
  const body = (i: number) => JSON.stringify({ message: { messageId: `left-${i}`, role: 'ROLE_USER', parts: [{ text: 'hi' }], metadata: { agent: 'slow' } } });
  const post = (i: number) =>
    `POST /a2a/rest/message:send HTTP/1.1\r\nHost: test\r\nA2A-Version: 1.0\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body(i))}\r\n\r\n${body(i)}`;
  client.write([0, 1, 2, 3, 4].map(post).join(''));
  await sleep(SLOW_MS / 4);
  assert.equal(router.requests.length - callsBefore, 1, 'only the first send was handled while it ran');
  client.destroy();

  // Past the first turn's end, nothing else was handled and nothing is left running.
  await sleep(SLOW_MS * 1.5);
  assert.equal(router.requests.length - callsBefore, 1, 'no waiting send ran after its client left');
  assert.equal(server.requestHandler.running, 0, 'no turn is left running');

  // A client that leaves with answers unread resets the connection mid-write; Node then hands the
  // broken socket to the next answer in line, whose request must not run either.
  const handledBefore = await restHandled();
  const reader = await connect();
  reader.pause();
  reader.write(get(bigTaskPath).repeat(5));
  await sleep(300);
  const handled = (await restHandled()) - handledBefore;
  reader.destroy();
  await sleep(300);
  assert.equal((await restHandled()) - handledBefore, handled, `no waiting GetTask ran after the reset (${handled} had)`);

  const task = await send('after', 'still here');
  assert.ok(task.id);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test(`past ${MAX_WAITING} requests waiting on one connection, the rest are refused with 429 in their place, and the connection goes on`, async () => {
  const client = await connect();
  try {
    const count = MAX_WAITING + 8;
    client.write(get('/healthz').repeat(count));
    const answers = await readAnswers(client, count);
    const statuses = answers.map((answer) => answer.status);
    const served = statuses.indexOf(429);
    // All sent at once: the first is handled, MAX_WAITING wait their turn, and the rest are refused.
    assert.equal(served, MAX_WAITING + 1, `statuses: ${statuses.join(' ')}`);
    assert.ok(statuses.slice(served).every((status) => status === 429), `statuses: ${statuses.join(' ')}`);
    const refusal = answers[served]!;
    assert.equal(refusal.headers['retry-after'], '1');
    // The headers every answer carries, though the app never saw the request.
    assert.equal(refusal.headers['x-content-type-options'], 'nosniff');
    assert.match(String(refusal.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(JSON.parse(refusal.body.toString('utf8')).error.status, 'RESOURCE_EXHAUSTED');
    client.write(get('/healthz'));
    const [again] = await readAnswers(client, 1);
    assert.equal(again!.status, 200);
  } finally {
    client.destroy();
  }
});
