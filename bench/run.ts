/**
 * `npm run bench`: throughput, latency and memory of our A2A server next to the HTTP floor of this
 * machine (hono-echo) and the SDK's own Express adapter (sdk-express); then what auth costs and what
 * the tool loop costs per turn. Each server under load runs in its own process, so this process only
 * drives load and reads /proc; only the tool-loop phase serves in this process, to time everything
 * on one clock. See bench/README.md.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { a2aTarget, checkOnce, CONNECTIONS, echoTarget, runLoad, type Measurement, type Target } from './load.ts';
import { readMemory, sampleMemory, startServer, type ServerProcess, type StartOptions } from './server-process.ts';
import { ECHO_CARD } from './echo-card.ts';
import { printTable } from './table.ts';
import { authCost, printAuthCost } from './auth-cost.ts';
import { printToolLoop, toolLoop } from './tool-loop.ts';

const WARM_UP_SECONDS = 3;
const MEASURE_SECONDS = positiveNumber('BENCH_SECONDS', 10);
const TASK_STAGES = [10_000, 50_000, 100_000];
const TARGET_RATIO = 2.5;
const AUTH_ROUNDS = 6;
const TOOL_WARM_UP_TURNS = 50;
const TOOL_TURNS = 300;
const MiB = 1024 * 1024;

interface ServerSpec {
  name: string;
  args: string[];
  target(baseUrl: string): Target;
}

async function main(): Promise<void> {
  console.log(`Machine: ${machine()}`);
  console.log(`Load: ${CONNECTIONS} connections, ${WARM_UP_SECONDS} s warm-up, ${MEASURE_SECONDS} s measured per server\n`);

  const cardsDir = await mkdtemp(path.join(os.tmpdir(), 'a2a-bench-'));
  // On exit rather than in a finally: Ctrl-C and failures leave through process.exit.
  process.once('exit', () => rmSync(cardsDir, { recursive: true, force: true }));
  await writeFile(path.join(cardsDir, 'echo.md'), ECHO_CARD);
  const servers: ServerSpec[] = [
    { name: 'hono-echo', args: ['bench/servers/hono-echo.ts'], target: echoTarget },
    { name: 'sdk-express', args: ['bench/servers/sdk-express.ts'], target: a2aTarget },
    // Started as `npm start` starts it, with port 0 so the OS picks a free one.
    { name: 'this-server', args: ['app.ts', '--port', '0', '--host', '127.0.0.1', '--agent-cards', cardsDir], target: a2aTarget },
  ];

  const results = new Map<string, Measurement & { peakRss: number }>();
  for (const spec of servers) results.set(spec.name, await throughput(spec));
  printThroughput(results);

  console.log(`\nMemory: ${TASK_STAGES.at(-1)!.toLocaleString('en')} SendMessage tasks into a fresh process of each A2A server`);
  // Both at once, one per core: the phase counts tasks, not speed, and alone it would take minutes.
  const memory = await Promise.all(servers.filter((s) => s.name !== 'hono-echo').reverse().map(memoryStages));
  printMemory(memory);

  const authWindow = MEASURE_SECONDS / 2;
  console.log(`\nAuth cost: this-server with auth off and on (token check cached), ${AUTH_ROUNDS} interleaved ${authWindow} s windows each`);
  printAuthCost(await authCost(servers.find((s) => s.name === 'this-server')!.args, { warmUpSeconds: WARM_UP_SECONDS, windowSeconds: authWindow, rounds: AUTH_ROUNDS }));

  console.log(`\nTool loop: one MCP tool call per turn, ${TOOL_TURNS} sequential SendMessage turns, server in this process`);
  printToolLoop(await toolLoop({ warmUpTurns: TOOL_WARM_UP_TURNS, turns: TOOL_TURNS }));
}

async function throughput(spec: ServerSpec): Promise<Measurement & { peakRss: number }> {
  return withServer(spec, async (server, target) => {
    process.stdout.write(`${spec.name}: warm-up... `);
    await runLoad(target, { seconds: WARM_UP_SECONDS });
    process.stdout.write('measuring... ');
    const sampler = sampleMemory(server.pid);
    const measured = await runLoad(target, { seconds: MEASURE_SECONDS });
    const peakRss = sampler.stop();
    console.log(`${Math.round(measured.requestsPerSecond)} req/s`);
    return { ...measured, peakRss };
  });
}

interface MemoryRow {
  name: string;
  rss: number[];
  liveHeap: number[];
  errors: number;
}

async function memoryStages(spec: ServerSpec): Promise<MemoryRow> {
  return withServer(spec, async (server, target) => {
    const row: MemoryRow = { name: spec.name, rss: [], liveHeap: [], errors: 0 };
    let done = 0;
    for (const stage of TASK_STAGES) {
      const run = await runLoad(target, { amount: stage - done });
      done = stage;
      row.errors += run.non2xx + run.errors;
      // Let in-flight work and timers settle so the reading is the resting size, not a spike.
      await sleep(1000);
      row.rss.push(readMemory(server.pid).rss); // before the probe's collection changes it
      row.liveHeap.push(await server.liveHeap());
      console.log(`${spec.name}: ${stage.toLocaleString('en')} tasks, RSS ${mib(row.rss.at(-1)!)} MiB, live heap ${mib(row.liveHeap.at(-1)!)} MiB`);
    }
    return row;
  }, { heapProbe: true });
}

/** Starts the server, checks one response, runs `body`, and always stops the server. */
async function withServer<T>(
  spec: ServerSpec,
  body: (server: ServerProcess, target: Target) => Promise<T>,
  options?: StartOptions,
): Promise<T> {
  const server = await startServer(spec.name, spec.args, options);
  try {
    const target = spec.target(server.url);
    await checkOnce(target).catch((error: Error) => {
      throw new Error(`${spec.name} answered wrongly, so it is not measured: ${error.message}\n${server.recentLog()}`);
    });
    return await body(server, target);
  } finally {
    await server.stop();
  }
}

function printThroughput(results: Map<string, Measurement & { peakRss: number }>): void {
  const rows = [...results].map(([name, r]) => [
    name,
    Math.round(r.requestsPerSecond).toString(),
    r.p50Ms.toString(),
    r.p99Ms.toString(),
    mib(r.peakRss),
    problems(r),
  ]);
  console.log();
  printTable(['server', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'errors'], rows);

  const rps = (name: string) => results.get(name)!.requestsPerSecond;
  const vsSdk = rps('this-server') / rps('sdk-express');
  console.log(`\nthis-server / sdk-express: ${vsSdk.toFixed(2)}x req/s (target >= ${TARGET_RATIO}x: ${vsSdk >= TARGET_RATIO ? 'met' : 'NOT MET'})`);
  console.log(`this-server / hono-echo:   ${(rps('this-server') / rps('hono-echo')).toFixed(2)}x req/s (share of the HTTP floor)`);
}

function printMemory(rows: MemoryRow[]): void {
  const stages = TASK_STAGES.map((n) => `${n / 1000}k`);
  const growth = (values: number[]) => {
    const delta = values.at(-1)! - values[0]!;
    return `${delta >= 0 ? '+' : ''}${mib(delta)}`;
  };
  console.log();
  printTable(
    ['server', ...stages.map((s) => `RSS @ ${s}`), `RSS ${stages[0]}->${stages.at(-1)}`, ...stages.map((s) => `heap @ ${s}`), `heap ${stages[0]}->${stages.at(-1)}`, 'errors'],
    rows.map((r) => [r.name, ...r.rss.map(mib), growth(r.rss), ...r.liveHeap.map(mib), growth(r.liveHeap), r.errors.toString()]),
  );
  console.log('(MiB; heap = live heap after a full garbage collection)');
}

function problems(r: Measurement): string {
  if (r.non2xx === 0 && r.errors === 0) return '0';
  return `${r.non2xx} non-2xx, ${r.errors} errors`;
}

function machine(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number of seconds, not "${raw}"`);
  return value;
}

main().catch((error: unknown) => {
  console.error(`\nBench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1); // now, not when a load still running elsewhere ends; exit stops every server
});
