/**
 * A connection whose client takes none of its answer is cut after the write-stall window, so the
 * answer stops pinning the server's memory; a slow reader that keeps taking bytes, a blocking send
 * waiting on its model and a stream that reads are not. The real server on loopback, with a 1 s
 * window; a 4 MB ListTasks page is the large answer (the kernel's socket buffers on loopback take
 * about 3.9 MB of it before anything waits in Node).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import net from 'node:net';
import type { RunningServer } from '../src/server.ts';
import { card, ECHO_AGENTS } from './support/agents.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { startTestServer } from './support/server.ts';

const STALL_MS = 1_000;
const A2A = { 'A2A-Version': '1.0' };
const LIST_PATH = '/a2a/rest/tasks?includeArtifacts=true&historyLength=20';
/** Three tasks of this much text each (question, answer artifact, answer message) fill one page to about 4 MiB. */
const TEXT_CHARS = 460_000;
/** The slow agent's model answers in these pieces, this far apart: longer in all than two windows. */
const SLOW_PIECES = ['slow ', 'but ', 'sure'];
const PIECE_DELAY_MS = 900;

let router: FakeRouter;
let server: RunningServer;
let pageBytes: number;

before(async () => {
  router = await startFakeRouter(() => ({ text: SLOW_PIECES, delayMs: PIECE_DELAY_MS }));
  server = await startTestServer({
    cards: { ...ECHO_AGENTS, 'slow.md': card({ name: 'slow', model: 'hf.acme/slow-chat' }) },
    env: { HF_TOKEN: 'hf_stalledWritersTestToken0123456789', HF_INFERENCE_ENDPOINT: router.url },
    writeStallMs: STALL_MS,
  });
  const text = 'x'.repeat(TEXT_CHARS);
  for (let i = 0; i < 3; i++) {
    const sent = await post('/a2a/rest/message:send', { message: { messageId: `big-${i}`, role: 'ROLE_USER', parts: [{ text }] } });
    assert.equal(sent.status, 200);
  }
  const page = await (await fetch(`${server.url}${LIST_PATH}`, { headers: A2A })).text();
  pageBytes = Buffer.byteLength(page);
  assert.equal(JSON.parse(page).tasks.length, 3, 'the page holds all three tasks');
  assert.ok(pageBytes > 4_000_000, `the page is large (${pageBytes} bytes)`);
});
after(async () => {
  await server.close();
  await router.close();
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { ...A2A, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a client that never reads its large answer is cut within about two windows, and other clients are answered meanwhile', async () => {
  const client = net.connect(Number(new URL(server.url).port), '127.0.0.1');
  client.pause();
  await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
  // Two pages asked for at once, so the answers outgrow the kernel's buffers on hosts with larger ones too.
  client.write(`GET ${LIST_PATH} HTTP/1.1\r\nHost: test\r\nA2A-Version: 1.0\r\n\r\n`.repeat(2));

  await sleep(STALL_MS / 2);
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200, 'the server answers others while one client is stalled');
  const listed = await (await post('/a2a/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'ListTasks', params: { pageSize: 1 } })).json();
  assert.equal(listed.result.tasks.length, 1);

  // Cut within 1.5 windows of the stall (which begins once the answers are built); read only after
  // 2.5: a cut connection yields what the kernel still held, then ends, short of the two answers.
  // (Uncut, reading would let both arrive whole.)
  await sleep(STALL_MS * 2);
  let received = 0;
  const ended = await new Promise<string>((resolve) => {
    const done = (how: string) => {
      clearTimeout(timer);
      resolve(how);
    };
    const timer = setTimeout(() => done('still open 5 s after reading began'), 5_000);
    client.on('data', (chunk: Buffer) => (received += chunk.length));
    client.once('end', () => done('ended'));
    client.once('close', () => done('ended'));
    client.on('error', (error: NodeJS.ErrnoException) => done(`ended (${error.code})`));
    client.resume();
  });
  client.destroy();
  assert.match(ended, /^ended/);
  assert.ok(received < 2 * pageBytes, `the connection was cut before the answers were sent (${received} of over ${2 * pageBytes} bytes)`);
});

test('a client that reads the large answer slowly but steadily, for longer than the window, gets all of it', async () => {
  const started = Date.now();
  const { status, body, slowBytes } = await new Promise<{ status: number; body: string; slowBytes: number }>((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    const req = request({ hostname, port, path: LIST_PATH, headers: A2A }, (res) => {
      const chunks: Buffer[] = [];
      let slowBytes = 0;
      // About 16 KB every 50 ms (~300 KB/s) for three windows, then the rest at full speed.
      const slow = setInterval(() => {
        const chunk = res.read() as Buffer | null;
        if (chunk) {
          chunks.push(chunk);
          slowBytes += chunk.length;
        }
      }, 50);
      setTimeout(() => {
        clearInterval(slow);
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
      }, 3 * STALL_MS);
      res.once('end', () => {
        clearInterval(slow);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), slowBytes });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.end();
  });
  assert.equal(status, 200);
  assert.ok(Date.now() - started > 3 * STALL_MS, 'the read lasted longer than the window');
  assert.ok(slowBytes > 0 && slowBytes < pageBytes, `bytes were taken slowly first (${slowBytes})`);
  assert.equal(Buffer.byteLength(body), pageBytes, 'every byte of the answer arrived');
  assert.equal(JSON.parse(body).tasks.length, 3);
});

test('a blocking send and a stream that wait on a slow model longer than the window are not cut', async () => {
  const started = Date.now();
  const message = (messageId: string) => ({ message: { messageId, role: 'ROLE_USER', parts: [{ text: 'take your time' }], metadata: { agent: 'slow' } } });
  const [blocking, streamed] = await Promise.all([
    post('/a2a/rest/message:send', message('slow-blocking')).then(async (response) => ({ status: response.status, body: await response.json() })),
    fetch(`${server.url}/a2a/rest/message:stream`, {
      method: 'POST',
      headers: { ...A2A, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(message('slow-stream')),
    }).then(async (response) => ({ status: response.status, text: await response.text() })),
  ]);
  const elapsed = Date.now() - started;
  assert.ok(elapsed > 2 * STALL_MS, `the model took longer than two windows (${elapsed} ms)`);

  assert.equal(blocking.status, 200);
  assert.equal(blocking.body.task.status.state, 'TASK_STATE_COMPLETED');
  assert.equal(blocking.body.task.artifacts[0].parts[0].text, SLOW_PIECES.join(''));

  assert.equal(streamed.status, 200);
  const events = streamed.text.split('\n\n').filter((frame) => frame.startsWith('data: ')).map((frame) => JSON.parse(frame.slice(6)));
  assert.equal(events.at(-1).statusUpdate?.status?.state, 'TASK_STATE_COMPLETED', 'the stream ran to its end');
});
