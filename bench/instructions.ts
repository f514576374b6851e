/**
 * Instructions per request under valgrind's callgrind. On this shared, noisy machine req/s and even
 * CPU µs per request move by 20-40% between windows, so a 5-10% change in our own code cannot be
 * seen there; callgrind's count of executed instructions repeats within about 3%. Each server runs
 * as in the throughput phase, but as `valgrind --tool=callgrind node <compiled .js>`, with counting
 * off until it has been warmed up (V8 has compiled the hot paths and our task store is full, so the
 * count is the steady state's), then on for exactly N requests.
 */
import { spawnSync, execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { checkOnce, HEADERS, SEND_MESSAGE, type Target } from './load.ts';
import { startServer, type ServerCommand, type ServerProcess } from './server-process.ts';
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
  instructions: number;
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
  process.stdout.write(`${spec.name}: starting under callgrind... `);
  const server = await startServer(spec.name, spec.command, {
    // %p: valgrind execs node in the same process, so the file carries the server's pid.
    launcher: ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${path.join(outDir, `${spec.name}.%p.out`)}`],
    startTimeoutMs: START_TIMEOUT_MS,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const target = spec.target(server.url);
    await checkOnce(target).catch((error: Error) => {
      throw new Error(`${spec.name} answered wrongly, so it is not measured: ${error.message}\n${server.recentLog()}`);
    });
    process.stdout.write(`warm-up ${warmUp.toLocaleString('en')}... `);
    await send(target, agent, warmUp, server);
    process.stdout.write(`counting ${MEASURED.toLocaleString('en')}... `);
    await callgrindControl('-i', 'on', server);
    const counting = Date.now();
    await send(target, agent, MEASURED, server);
    const countedSeconds = (Date.now() - counting) / 1000;
    await callgrindControl('-i', 'off', server);
    await callgrindControl('-d', '', server); // returns once the dump is written
    const instructions = await dumpedTotal(outDir, spec.name, server.pid);
    const seconds = (Date.now() - started) / 1000;
    console.log(`${Math.round(instructions / MEASURED / 1000)}k instructions/request (${Math.round(seconds)} s in all, ${Math.round(countedSeconds)} s counting)`);
    return { name: spec.name, warmUp, measured: MEASURED, instructions, seconds };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

/** `callgrind_control <flag> [value] <pid>`: it reaches the server through valgrind's gdbserver (vgdb). */
async function callgrindControl(flag: string, value: string, server: ServerProcess): Promise<void> {
  const args = [flag, ...(value ? [value] : []), String(server.pid)];
  const { stdout } = await run('callgrind_control', args, { timeout: 60_000 });
  if (!/OK\./.test(stdout)) throw new Error(`callgrind_control ${args.join(' ')} did not answer OK:\n${stdout}\n${server.recentLog()}`);
}

/**
 * The instruction count of the dump `-d` wrote: the newest `<name>.<pid>.out*` file (`.out.1`; the
 * bare `.out` is written only at exit). Its `totals:` line holds the count; `summary:` can be 0.
 */
async function dumpedTotal(outDir: string, name: string, pid: number): Promise<number> {
  const prefix = `${name}.${pid}.out`;
  const files = await Promise.all(
    (await readdir(outDir)).filter((file) => file.startsWith(prefix)).map(async (file) => ({ file, mtime: (await stat(path.join(outDir, file))).mtimeMs })),
  );
  const newest = files.sort((a, b) => b.mtime - a.mtime || b.file.localeCompare(a.file))[0];
  if (!newest) throw new Error(`callgrind wrote no dump for ${name} (pid ${pid}) in ${outDir}`);
  const totals = /^totals:\s*(\d+)/m.exec(await readFile(path.join(outDir, newest.file), 'utf8'))?.[1];
  if (totals === undefined) throw new Error(`no "totals:" line in ${newest.file}`);
  return Number(totals);
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
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
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
    ['server', 'instructions/req (k)', 'vs hono-echo', 'warm-up requests', 'counted requests', 'phase s'],
    rows.map((r) => {
      const each = r.instructions / r.measured;
      return [r.name, (each / 1000).toFixed(1), floor ? `${(each / floor).toFixed(2)}x` : '-', r.warmUp.toLocaleString('en'), r.measured.toLocaleString('en'), Math.round(r.seconds).toString()];
    }),
  );
  const ours = perRequest('this-server');
  const sdk = perRequest('sdk-express');
  if (ours && sdk) console.log(`\nthis-server vs sdk-express: ${(sdk / ours).toFixed(2)}x fewer instructions per request`);
  if (sdk) console.log(SDK_WARM_UP_NOTE);
  console.log(
    "(callgrind counts the instructions the server's process runs in user space, on all its threads: not kernel time, not time waiting for memory. So it is the steadiest figure for comparing versions of our own code; the targets are set in CPU µs per request, from the throughput phase.)",
  );
}
