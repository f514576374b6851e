/**
 * Instructions per request under valgrind's callgrind. On this shared, noisy machine req/s and even
 * CPU µs per request move by 20-40% between windows, so a 5-10% change in our own code cannot be
 * seen there; callgrind's count of executed instructions repeats within about 3%. Each server runs
 * as in the throughput phase, but as `valgrind --tool=callgrind node <compiled .js>`, with counting
 * off until it has been warmed up (V8 has compiled the hot paths and our task store is full, so the
 * count is the steady state's), then on for exactly N requests. The A2A servers then go on to
 * streamed sends in the same process: a regression that only streams paid for (every finished
 * stream aborting with a default DOMException reason, 860k to 1,210k instructions a stream) went
 * unnoticed while only blocking sends were counted, and the streaming phase's CPU figures are too
 * noisy here to show it.
 */
import { spawnSync, execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { checkOnce, HEADERS, SEND_MESSAGE, type Target } from './load.ts';
import { startServer, type ServerCommand, type ServerProcess } from './server-process.ts';
import { StreamClient } from './streaming.ts';
import { printTable } from './table.ts';

const run = promisify(execFile);

/** Requests in flight at once: enough to keep the server busy, few enough for the bench process to stay cheap. */
const CONCURRENCY = 8;
/** Requests counted per server. */
const MEASURED = 5_000;
/**
 * Uncounted requests first. this-server keeps at most 10,000 tasks (and 5,000 conversations): only
 * past that does each request also evict, as it does in a long-running server. hono-echo keeps
 * nothing and needs only V8's warm-up. sdk-express's store keeps every task, so it has no steady
 * state to reach, and it is the slowest under valgrind (20-30 ms a request): V8's warm-up alone
 * keeps the phase near 5 minutes rather than 7 on a busy machine.
 */
const WARM_UP: Record<string, number> = { 'hono-echo': 4_000, 'this-server': 12_000, 'sdk-express': 4_000 };
const SDK_WARM_UP_NOTE = "sdk-express is warmed up with 4,000 requests, not 12,000: its store keeps every task, so there is no steady state to wait for, and each of its requests takes the longest under valgrind.";
/**
 * Streamed sends (SendStreamingMessage, the streaming phase's request and checks), after the blocking
 * count, in the same process, so V8 is warm and our task store full; hono-echo does not stream. Only
 * the streaming path is new to V8 then, so 1,000 uncounted streams are warm-up enough for the main
 * thread's count. sdk-express counts fewer: each of its streams takes 30-35 ms under callgrind with
 * counting on (this server's about 20 ms), so 2,000 would add another half minute.
 */
const STREAMED: Record<string, { warmUp: number; measured: number }> = {
  'this-server': { warmUp: 1_000, measured: 2_000 },
  'sdk-express': { warmUp: 1_000, measured: 1_000 },
};
const SDK_STREAM_NOTE = `sdk-express counts ${STREAMED['sdk-express']!.measured.toLocaleString('en')} streams, not ${STREAMED['this-server']!.measured.toLocaleString('en')}: its streams take the longest under callgrind (30-35 ms each with counting on), and the phase is kept within about 2 minutes of what it took before streams were counted.`;
/**
 * Why streams are compared by the main thread's count. The all-threads count includes V8's helper
 * threads, where a major garbage collection's concurrent marking and the optimizing compiler run,
 * each a few hundred million instructions at a time: whether 2,000 streams hold one such event more
 * or less moves the all-threads count by up to a third. On the main thread, where JavaScript runs,
 * windows of 1,000 streams agreed within about 4% (658k to 712k per stream for this server; with
 * 1b4db1b's regression, 887k to 920k; on all threads, 686k to 1,111k against the regression's
 * 1,244k to 1,615k, which one count of 2,000 could not always tell apart).
 */
const MAIN_THREAD_NOTE =
  "Compare streams by the main thread's count: on all threads, a major garbage collection's concurrent marking or a round of optimizing compiles (hundreds of millions of instructions each, on V8's helper threads) falls into one count and not the next, and moves it by up to a third; the main thread's count repeats within about 4%.";
/** Under valgrind node takes 10-30 s to start; allow for a busy machine on top. */
const START_TIMEOUT_MS = 180_000;
/** A request that takes this long under valgrind means the server is stuck, not slow. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface InstructionServer {
  name: string;
  command: ServerCommand;
  target(baseUrl: string): Target;
}

export interface InstructionRow {
  name: string;
  warmUp: number;
  measured: number;
  /** On all the server's threads. */
  instructions: number;
  /** On its main thread alone: without V8's helper threads (concurrent marking, optimizing compiles). */
  mainThread: number;
  /** Streamed sends, counted after the blocking ones; absent for a server that does not stream. */
  streams?: { warmUp: number; measured: number; instructions: number; mainThread: number; events: number; seconds: number };
  seconds: number;
}

/** Why the phase cannot run here (a tool missing), or undefined when it can. */
export function instructionsUnavailable(): string | undefined {
  const missing = ['valgrind', 'callgrind_control'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  return missing.length > 0 ? `${missing.join(' and ')} not found on PATH (install valgrind)` : undefined;
}

export async function instructions(servers: InstructionServer[]): Promise<InstructionRow[]> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'a2a-bench-callgrind-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  const rows: InstructionRow[] = [];
  // One at a time: under valgrind a server's threads share one core, and two servers at once would
  // change how requests batch per event-loop turn, which the count sees.
  for (const spec of servers) rows.push(await countOne(spec, outDir));
  return rows;
}

async function countOne(spec: InstructionServer, outDir: string): Promise<InstructionRow> {
  const started = Date.now();
  const warmUp = WARM_UP[spec.name] ?? 12_000;
  const streamed = STREAMED[spec.name];
  process.stdout.write(`${spec.name}: starting under callgrind... `);
  const server = await startServer(spec.name, spec.command, {
    // %p: valgrind execs node in the same process, so the file carries the server's pid.
    // --separate-threads: a dump per thread, so the main thread's count can be read apart (see dumpedCounts).
    launcher: ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${path.join(outDir, `${spec.name}.%p.out`)}`],
    startTimeoutMs: START_TIMEOUT_MS,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const streams = streamed && new StreamClient(server.url);
  try {
    const target = spec.target(server.url);
    await checkOnce(target).catch((error: Error) => {
      throw new Error(`${spec.name} answered wrongly, so it is not measured: ${error.message}\n${server.recentLog()}`);
    });
    process.stdout.write(`warm-up ${warmUp.toLocaleString('en')}... `);
    await send(target, agent, warmUp, server);
    process.stdout.write(`counting ${MEASURED.toLocaleString('en')}... `);
    const counted = await counting(server, () => send(target, agent, MEASURED, server));
    const { all: instructions, main: mainThread } = await dumpedCounts(outDir, spec.name, server.pid, 1);
    process.stdout.write(`${Math.round(instructions / MEASURED / 1000)}k instructions/request (${Math.round(counted)} s counting)`);
    const row: InstructionRow = { name: spec.name, warmUp, measured: MEASURED, instructions, mainThread, seconds: 0 };
    if (streamed && streams) {
      // The blocking sends' connections close now, in uncounted time, not at the server's keep-alive timeout mid-count.
      agent.destroy();
      const streamsStarted = Date.now();
      process.stdout.write(`; streams: warm-up ${streamed.warmUp.toLocaleString('en')}... `);
      await stream(streams, streamed.warmUp, server);
      process.stdout.write(`counting ${streamed.measured.toLocaleString('en')}... `);
      let events = 0;
      const countedStreams = await counting(server, async () => (events = await stream(streams, streamed.measured, server)));
      // The second dump: it holds only what ran since the first, which zeroed the counters.
      const dumped = await dumpedCounts(outDir, spec.name, server.pid, 2);
      const seconds = (Date.now() - streamsStarted) / 1000;
      row.streams = { warmUp: streamed.warmUp, measured: streamed.measured, instructions: dumped.all, mainThread: dumped.main, events, seconds };
      process.stdout.write(`${Math.round(dumped.all / streamed.measured / 1000)}k instructions/stream (${Math.round(countedStreams)} s counting, ${Math.round(seconds)} s for streams in all)`);
    }
    row.seconds = (Date.now() - started) / 1000;
    console.log(`; ${Math.round(row.seconds)} s in all`);
    return row;
  } finally {
    agent.destroy();
    streams?.close();
    await server.stop();
  }
}

/**
 * Runs `work` with counting on (`-i on` before, `-i off` after), then dumps the counts (`-d`, which
 * returns once the dump is written, and zeroes the counters); returns the seconds `work` took.
 */
async function counting(server: ServerProcess, work: () => Promise<unknown>): Promise<number> {
  await callgrindControl('-i', 'on', server);
  const start = Date.now();
  await work();
  const seconds = (Date.now() - start) / 1000;
  await callgrindControl('-i', 'off', server);
  await callgrindControl('-d', '', server);
  return seconds;
}

/** `callgrind_control <flag> [value] <pid>`: it reaches the server through valgrind's gdbserver (vgdb). */
async function callgrindControl(flag: string, value: string, server: ServerProcess): Promise<void> {
  const args = [flag, ...(value ? [value] : []), String(server.pid)];
  const { stdout } = await run('callgrind_control', args, { timeout: 60_000 });
  if (!/OK\./.test(stdout)) throw new Error(`callgrind_control ${args.join(' ')} did not answer OK:\n${stdout}\n${server.recentLog()}`);
}

/**
 * The instruction counts of the `part`-th dump `-d` wrote, one file per thread:
 * `<name>.<pid>.out.<part>-<thread>` (the bare `.out` ones are written only at exit). Each dump
 * zeroes the counters, so a dump holds only what was counted since the one before (a `-d` right
 * after another one dumps `totals: 0`). `all` is the sum of every thread's `totals:` line (`summary:`
 * can be 0); `main` is thread 1's, the main thread, where JavaScript runs.
 */
async function dumpedCounts(outDir: string, name: string, pid: number, part: number): Promise<{ all: number; main: number }> {
  const prefix = `${name}.${pid}.out.${part}-`;
  const files = (await readdir(outDir)).filter((file) => file.startsWith(prefix));
  const main = `${prefix}01`;
  if (!files.includes(main)) throw new Error(`callgrind's dump ${part} for ${name} (pid ${pid}) has no main-thread file ${main} in ${outDir}; there are: ${files.join(', ') || 'none'}`);
  let all = 0;
  let mainCount = 0;
  for (const file of files) {
    const text = await readFile(path.join(outDir, file), 'utf8');
    const dumped = /^part:\s*(\d+)/m.exec(text)?.[1];
    if (dumped !== String(part)) throw new Error(`${file} says it is part ${dumped}, not ${part}`);
    const totals = /^totals:\s*(\d+)/m.exec(text)?.[1];
    if (totals === undefined) throw new Error(`no "totals:" line in ${file}`);
    all += Number(totals);
    if (file === main) mainCount = Number(totals);
  }
  return { all, main: mainCount };
}

/**
 * Sends `count` SendMessage requests (the throughput phase's body), CONCURRENCY at a time over the
 * agent's kept-alive connections, and throws at the first answer that is not a 200 the target
 * accepts (a completed task, or the echoed body). A node:http client rather than autocannon: fixed
 * request counts at a low concurrency, and the connections stay open from warm-up into counting.
 */
async function send(target: Target, agent: http.Agent, count: number, server: ServerProcess): Promise<void> {
  const headers = { ...HEADERS, ...target.headers, 'content-length': String(Buffer.byteLength(SEND_MESSAGE)) };
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(target.url, { method: 'POST', agent, headers }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          if (response.statusCode === 200 && target.verifyBody(body)) resolve();
          else reject(new Error(`${server.name} answered HTTP ${response.statusCode}: ${body.slice(0, 500)}\n${server.recentLog()}`));
        });
        response.on('error', reject);
      });
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`${server.name} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      request.on('error', reject);
      request.end(SEND_MESSAGE);
    });
  await times(count, one);
}

/**
 * Sends `count` SendStreamingMessage requests, CONCURRENCY at a time on the client's kept-alive
 * connections, each read to its end and checked in full as in the streaming phase (HTTP 200, an
 * event stream, no error event, the answer joined from its chunks, a completed final status);
 * throws at the first that fails. Returns the events of all of them.
 */
async function stream(client: StreamClient, count: number, server: ServerProcess): Promise<number> {
  let events = 0;
  await times(count, async () => {
    const outcome = await client.stream().catch((error: Error) => {
      throw new Error(`${server.name} streamed wrongly: ${error.message}\n${server.recentLog()}`);
    });
    events += outcome.events;
  });
  return events;
}

/** Runs `one` `count` times, CONCURRENCY at once. */
async function times(count: number, one: () => Promise<void>): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

export function printInstructions(rows: InstructionRow[]): void {
  const perRequest = (name: string) => {
    const row = rows.find((r) => r.name === name);
    return row && row.instructions / row.measured;
  };
  const floor = perRequest('hono-echo');
  console.log();
  printTable(
    ['server', 'instructions/req (k)', 'main thread (k)', 'vs hono-echo', 'warm-up requests', 'counted requests', 'phase s'],
    rows.map((r) => {
      const each = r.instructions / r.measured;
      return [r.name, k(each), k(r.mainThread / r.measured), floor ? `${(each / floor).toFixed(2)}x` : '-', r.warmUp.toLocaleString('en'), r.measured.toLocaleString('en'), Math.round(r.seconds).toString()];
    }),
  );
  const ours = perRequest('this-server');
  const sdk = perRequest('sdk-express');
  if (ours && sdk) console.log(`\nthis-server vs sdk-express: ${(sdk / ours).toFixed(2)}x fewer instructions per request`);
  if (sdk) console.log(SDK_WARM_UP_NOTE);

  const streamed = rows.filter((r) => r.streams);
  if (streamed.length > 0) {
    console.log('\nStreamed SendStreamingMessage, counted after the blocking sends in the same process:\n');
    printTable(
      ['server', 'instructions/stream (k)', 'main thread (k)', 'main thread vs its SendMessage', 'events/stream', 'warm-up streams', 'counted streams', 'streams s'],
      streamed.map((r) => {
        const s = r.streams!;
        const main = s.mainThread / s.measured;
        return [r.name, k(s.instructions / s.measured), k(main), `${(main / (r.mainThread / r.measured)).toFixed(2)}x`, (s.events / s.measured).toFixed(1), s.warmUp.toLocaleString('en'), s.measured.toLocaleString('en'), Math.round(s.seconds).toString()];
      }),
    );
    const oursStreams = rows.find((r) => r.name === 'this-server')?.streams;
    const sdkStreams = rows.find((r) => r.name === 'sdk-express')?.streams;
    if (oursStreams && sdkStreams) {
      const ratio = (count: (s: NonNullable<InstructionRow['streams']>) => number) => ((count(sdkStreams) / sdkStreams.measured) / (count(oursStreams) / oursStreams.measured)).toFixed(2);
      console.log(
        `\nthis-server vs sdk-express, streamed: ${ratio((s) => s.mainThread)}x fewer instructions per stream on the main thread, ${ratio((s) => s.instructions)}x on all threads (this server sends one event more per stream)`,
      );
    }
    if (sdkStreams) console.log(SDK_STREAM_NOTE);
    console.log(MAIN_THREAD_NOTE);
  }
  console.log(
    "(callgrind counts the instructions the server's process runs in user space, on all its threads: not kernel time, not time waiting for memory. So it is the steadiest figure for comparing versions of our own code; the targets are set in CPU µs per request, from the throughput phase.)",
  );
}

function k(instructions: number): string {
  return (instructions / 1000).toFixed(1);
}
