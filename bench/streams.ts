/**
 * 1,000 streams open at once on one server: this server, compiled, in its own process, auth off (so
 * no per-caller cap on open streams applies: every anonymous request is the same caller, and loopback
 * is not rate-limited by address), its model the fake inference router in this process. The router
 * holds every answer: it accepts the request and sends nothing until released. All 1,000
 * SendStreamingMessage requests are sent at once, each on a connection of its own (node:http,
 * agent: false); the server answers each with its first frame (the task, working) before the model
 * has said anything. Once every stream has its first frame and every turn waits on the router, the
 * bench reads the server's RSS and CPU time and times GET /healthz, then releases the router; every
 * stream must then end with its own answer and a completed task.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCpuSeconds, readMemory, startServer, type ServerCommand } from './server-process.ts';
import { ROUTER_CARD } from './echo-card.ts';
import { printTable } from './table.ts';
import { percentile } from './stats.ts';
import { fakeToken } from '../tests/support/fake-hub.ts';
import { startFakeRouter, type RecordedRequest, type Reply } from '../tests/support/fake-router.ts';

const WARM_UP_STREAMS = 50;
const OPEN_TIMEOUT_MS = 60_000;
const END_TIMEOUT_MS = 60_000;
const HEALTH_SAMPLES = 20;
const EXAMPLES_KEPT = 3;
const MiB = 1024 * 1024;

export interface OpenStreams {
  streams: number;
  opened: number;
  completed: number;
  /** Request start -> first SSE frame, per stream that got one. */
  firstFrameMs: number[];
  /** From the first request's start to the last stream's first frame. */
  openAllMs: number;
  /**
   * Connection attempts the kernel dropped because a listen queue was full while the streams
   * opened (TcpExt ListenOverflows, counted for the whole machine): each waits for a SYN retry, 1 s
   * or more later.
   */
  listenOverflows: number;
  /** Turns waiting on the router when the readings were taken. */
  held: number;
  rssBefore: number;
  rssOpen: number;
  rssAfter: number;
  /** Server CPU time from before the first request until all were open and waiting. */
  cpuOpenSeconds: number;
  /** Server CPU time from before the first request until every stream had ended. */
  cpuTotalSeconds: number;
  /** GET /healthz latency while every stream was open. */
  healthOpenMs: number[];
  /** From the release to the last stream's end. */
  releaseToEndMs: number;
  failures: string[];
  failureCount: number;
}

interface Stream {
  /** When the request started (performance.now()). */
  start: number;
  /** When its first SSE frame arrived (performance.now()), undefined if none did. */
  firstFrame: Promise<number | undefined>;
  done: Promise<string | undefined>;
}

export async function openStreams(command: ServerCommand, { streams }: { streams: number }): Promise<OpenStreams> {
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  let held = 0;
  const router = await startFakeRouter((recorded: RecordedRequest): Reply => {
    router.requests.length = 0;
    const messages = (recorded.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
    const text = String(messages.findLast((m) => m.role === 'user')?.content ?? '');
    const wait = gate;
    held++;
    return { text: ['You said: ', text], gate: (index) => (index === 0 ? wait : Promise.resolve()) };
  });
  const cardsDir = await mkdtemp(path.join(os.tmpdir(), 'a2a-streams-'));
  await writeFile(path.join(cardsDir, 'relay.md'), ROUTER_CARD);
  const result: OpenStreams = {
    streams,
    opened: 0,
    completed: 0,
    firstFrameMs: [],
    openAllMs: NaN,
    listenOverflows: NaN,
    held: 0,
    rssBefore: NaN,
    rssOpen: NaN,
    rssAfter: NaN,
    cpuOpenSeconds: NaN,
    cpuTotalSeconds: NaN,
    healthOpenMs: [],
    releaseToEndMs: NaN,
    failures: [],
    failureCount: 0,
  };
  const fail = (why: string) => {
    result.failureCount++;
    if (result.failures.length < EXAMPLES_KEPT) result.failures.push(why);
  };
  // Auth off: the model runs on the server's own token (a made-up one; the fake router takes any).
  const server = await startServer('open-streams', { ...command, args: [...(command.args ?? []), '--agent-cards', cardsDir] }, {
    env: { HF_TOKEN: fakeToken('benchserver'), HF_INFERENCE_ENDPOINT: router.url },
  });
  const url = new URL(`${server.url}/a2a/jsonrpc`);
  try {
    process.stdout.write(`open streams: warm-up (${WARM_UP_STREAMS} streams, router not holding)... `);
    for (let i = 0; i < WARM_UP_STREAMS; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => openStream(url, `warm-up ${i + j}`));
      const outcomes = await Promise.all(batch.map((s) => s.done));
      const wrong = outcomes.find((o) => o !== undefined);
      if (wrong !== undefined) throw new Error(`a warm-up stream went wrong, so the phase is not run: ${wrong}\n${server.recentLog()}`);
    }
    await sleep(1000);
    result.rssBefore = readMemory(server.pid).rss;
    const cpuBefore = readCpuSeconds(server.pid);
    console.log(`done; RSS ${mib(result.rssBefore)} MiB`);

    process.stdout.write(`open streams: ${streams} SendStreamingMessage requests at once, router holding every answer... `);
    gate = new Promise((resolve) => (release = resolve));
    held = 0;
    const overflowsBefore = listenOverflows();
    const start = performance.now();
    const opened: Stream[] = Array.from({ length: streams }, (_, i) => openStream(url, `open-stream ${i}`));
    const firstFrames = await withTimeout(Promise.all(opened.map((s) => s.firstFrame)), OPEN_TIMEOUT_MS);
    let last = 0;
    for (const [i, at] of (firstFrames ?? []).entries()) {
      if (at === undefined) fail(`stream ${i} got no first frame`);
      else {
        result.firstFrameMs.push(at - opened[i]!.start);
        last = Math.max(last, at);
      }
    }
    if (firstFrames === undefined) fail(`not every stream had its first frame within ${OPEN_TIMEOUT_MS / 1000} s`);
    result.opened = result.firstFrameMs.length;
    result.listenOverflows = listenOverflows() - overflowsBefore;
    result.openAllMs = result.opened === streams ? last - start : NaN;
    // Every turn should now be waiting on the router.
    const deadline = performance.now() + 10_000;
    while (held < streams && performance.now() < deadline) await sleep(50);
    result.held = held;
    if (held < streams) fail(`only ${held} of ${streams} turns reached the model router`);
    await sleep(500);
    result.rssOpen = readMemory(server.pid).rss;
    result.cpuOpenSeconds = readCpuSeconds(server.pid) - cpuBefore;
    result.healthOpenMs = await healthLatencies(server.url, HEALTH_SAMPLES);
    console.log(`done; ${result.opened} open, RSS ${mib(result.rssOpen)} MiB`);

    process.stdout.write('open streams: released; waiting for every stream to end... ');
    const released = performance.now();
    release();
    const outcomes = await withTimeout(Promise.all(opened.map((s) => s.done)), END_TIMEOUT_MS);
    result.releaseToEndMs = performance.now() - released;
    if (outcomes === undefined) fail(`not every stream ended within ${END_TIMEOUT_MS / 1000} s of the release`);
    for (const [i, outcome] of (outcomes ?? []).entries()) {
      if (outcome === undefined) result.completed++;
      else fail(`stream ${i}: ${outcome}`);
    }
    result.cpuTotalSeconds = readCpuSeconds(server.pid) - cpuBefore;
    await sleep(1000);
    result.rssAfter = readMemory(server.pid).rss;
    console.log(`done; ${result.completed} completed`);
    return result;
  } finally {
    release();
    await server.stop();
    await Promise.all([router.close(), rm(cardsDir, { recursive: true, force: true })]);
  }
}

/** One streamed send on a connection of its own; `done` resolves undefined when it ended as it must, else with what was wrong. */
function openStream(url: URL, text: string): Stream {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendStreamingMessage', params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] } } });
  let frame: (at: number | undefined) => void = () => {};
  const firstFrame = new Promise<number | undefined>((resolve) => (frame = resolve));
  const start = performance.now();
  const done = new Promise<string | undefined>((resolve) => {
    const end = (why: string | undefined) => {
      frame(undefined);
      resolve(why);
    };
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'a2a-version': '1.0', accept: 'text/event-stream', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        let received = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (received === '' && chunk.includes('data: ')) frame(performance.now());
          received += chunk;
        });
        res.once('error', (error) => end(error.message));
        res.once('end', () => {
          if (res.statusCode !== 200) return end(`HTTP ${res.statusCode}: ${received.slice(0, 300)}`);
          end(checkStream(received, `You said: ${text}`));
        });
      },
    );
    req.once('error', (error) => end(error.message));
    req.end(body);
  });
  return { start, firstFrame, done };
}

/** Undefined when the stream answered `expected` and ended completed; else what was wrong. */
function checkStream(body: string, expected: string): string | undefined {
  try {
    const events = body
      .split('\n\n')
      .filter((block) => block.trim() !== '' && !block.startsWith(':'))
      .map((block) => {
        if (/^event: error$/m.test(block)) throw new Error(`an error event: ${block.slice(0, 300)}`);
        return JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as {
          result?: { task?: { status?: { state?: string } }; artifactUpdate?: { artifact?: { parts?: Array<{ text?: string }> } }; statusUpdate?: { status?: { state?: string } } };
        };
      });
    const answer = events.flatMap((e) => e?.result?.artifactUpdate?.artifact?.parts ?? []).map((p) => p.text ?? '').join('');
    const last = events.at(-1)?.result;
    const state = last?.statusUpdate?.status?.state ?? last?.task?.status?.state;
    if (state !== 'TASK_STATE_COMPLETED' || answer !== expected) return `expected ${JSON.stringify(expected)} and completed, got ${body.slice(0, 500)}`;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function healthLatencies(baseUrl: string, samples: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = request(`${baseUrl}/healthz`, { agent }, (res) => {
          res.resume();
          res.once('end', resolve);
        });
        req.once('error', reject);
        req.end();
      });
      latencies.push(performance.now() - start);
      await sleep(50);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

/** TcpExt ListenOverflows from /proc/net/netstat (NaN where it cannot be read). */
function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((line) => line.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    return Number(values[names.indexOf('ListenOverflows')]);
  } catch {
    return NaN;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function printOpenStreams(r: OpenStreams): string[] {
  const perStream = (value: number) => value / r.streams;
  console.log();
  printTable(
    ['streams', 'first frame', 'completed', 'time to open all ms', 'listen queue overflows', 'first frame p50 ms', 'first frame p99 ms', 'RSS before MiB', `RSS with ${r.streams} open MiB`, 'RSS per open stream KiB', 'server CPU µs/stream, to open', 'server CPU µs/stream, open to end', '/healthz p50 / max ms, all open', 'release to last end ms', 'RSS after MiB', 'errors'],
    [
      [
        r.streams.toString(),
        r.opened.toString(),
        r.completed.toString(),
        fixed(r.openAllMs, 0),
        fixed(r.listenOverflows, 0),
        fixed(percentile(r.firstFrameMs, 50), 1),
        fixed(percentile(r.firstFrameMs, 99), 1),
        mib(r.rssBefore),
        mib(r.rssOpen),
        fixed(perStream(r.rssOpen - r.rssBefore) / 1024, 1),
        fixed(perStream(r.cpuOpenSeconds) * 1e6, 0),
        fixed(perStream(r.cpuTotalSeconds) * 1e6, 0),
        `${fixed(percentile(r.healthOpenMs, 50), 1)} / ${fixed(Math.max(...r.healthOpenMs), 1)}`,
        fixed(r.releaseToEndMs, 0),
        mib(r.rssAfter),
        r.failureCount.toString(),
      ],
    ],
  );
  console.log(`(first frame: request start -> the task's first SSE frame, sent before the model answers; listen queue overflows: connection attempts the kernel dropped while they opened, each retried 1 s or more later (Node listens with a backlog of 511); RSS per stream: (RSS open - before) / ${r.streams}, every stream's connection, turn and model request included; CPU: the server's user + system time over the streams)`);
  const problems = r.failureCount === 0 ? [] : [`open streams: ${r.failureCount} failures, e.g. ${r.failures.join(' // ')}`];
  for (const failure of r.failures) console.log(`failure: ${failure}`);
  console.log(`\nopen streams: ${problems.length === 0 ? 'PASSED' : 'FAILED'} (every stream must get its first frame while the model holds its answer, and end with its own answer once released)`);
  return problems;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function mib(bytes: number): string {
  return fixed(bytes / MiB, 1);
}
