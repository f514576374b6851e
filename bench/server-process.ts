/**
 * One server under test, in its own process, so its memory and CPU time are its own. Each child is
 * plain `node <compiled .js>` (see build.ts), with no launcher in between: the pid we read /proc for
 * must be the process that serves, and a launcher (like the tsx CLI) would serve from a grandchild.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compiled, ROOT } from './build.ts';

const READY = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/;
const START_TIMEOUT_MS = 30_000;
const LOG_LINES_KEPT = 20;
const LOG_TAIL_CHARS = 16 * 1024;

export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  /** The last lines the server wrote to stderr, for error reports. */
  recentLog(): string;
  /** Live heap after a full collection, in bytes; only for servers started with `heapProbe`. */
  liveHeap(): Promise<number>;
  /** The same, with process.memoryUsage() from just before the collection; only with `heapProbe`. */
  heapReport(): Promise<HeapReport>;
  stop(): Promise<void>;
}

/** What to run: a source file under the repository root (run compiled) and its arguments. */
export interface ServerCommand {
  script: string;
  args?: string[];
}

export interface StartOptions {
  /** Preload bench/heap-probe.ts (compiled); it adds nothing to a request's path, but it is not how users start a server. */
  heapProbe?: boolean;
  /** Set on top of the cleared environment, e.g. to turn auth on. */
  env?: Record<string, string>;
  /** A command to run node under, e.g. valgrind with its options; it must exec node in the same process, so the pid stays the server's. */
  launcher?: string[];
  /** How long to wait for the server's "url" line; a server under valgrind takes far longer than the default. */
  startTimeoutMs?: number;
}

export interface HeapReport {
  /** Live heap after a full collection, in bytes. */
  heapUsed: number;
  /** The server's process.memoryUsage() just before that collection. */
  before: NodeJS.MemoryUsage;
}

export interface Memory {
  /** Resident set size now, in bytes. */
  rss: number;
  /** Peak resident set size since the process started, in bytes. */
  peak: number;
}

const children = new Set<ChildProcess>();

// Whatever way the bench ends, no server outlives it.
process.once('exit', () => {
  for (const child of children) killGroup(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** Starts the compiled script and resolves once it logs the URL it listens on. */
export function startServer(name: string, { script, args = [] }: ServerCommand, { heapProbe = false, env = {}, launcher = [], startTimeoutMs = START_TIMEOUT_MS }: StartOptions = {}): Promise<ServerProcess> {
  const probe = heapProbe ? ['--expose-gc', '--import', pathToFileURL(compiled('bench/heap-probe.ts')).href] : [];
  const [command, ...argv] = [...launcher, process.execPath, ...probe, compiled(script), ...args];
  const child = spawn(command!, argv, {
    cwd: ROOT,
    env: { ...serverEnv(), ...env },
    // Its own process group, so a stop also takes down anything the server spawned.
    detached: true,
    stdio: heapProbe ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));

  // Raw chunks, not lines, and joined only when asked for: a server that logs every request would
  // otherwise cost this process (the load generator, on the same cores) work per request.
  const tail: string[] = [];
  let tailChars = 0;
  const keep = (chunk: string) => {
    tail.push(chunk);
    tailChars += chunk.length;
    while (tail.length > 1 && tailChars - tail[0]!.length >= LOG_TAIL_CHARS) tailChars -= tail.shift()!.length;
  };
  const recentLog = () => tail.join('').split('\n').slice(-LOG_LINES_KEPT - 1).join('\n');
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child, 'SIGKILL');
      reject(new Error(`${name} did not start: ${why}\n${recentLog()}`));
    };
    const timer = setTimeout(() => fail(`no "url" log line within ${startTimeoutMs / 1000} s`), startTimeoutMs);
    child.once('error', (error) => fail(error.message));
    // 'close', not 'exit': by then everything the server wrote is in the tail.
    child.once('close', (code, signal) => fail(`exited with ${signal ?? code}`));

    // Keep reading stderr for the whole run: a full pipe would stall the server.
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      keep(chunk);
      if (settled) return;
      const url = READY.exec(tail.join(''))?.[1];
      if (url === undefined || child.pid === undefined) return;
      if (hasChildren(child.pid)) return fail('it serves from a child process, so its memory would not be measured');
      settled = true;
      clearTimeout(timer);
      resolve({ name, pid: child.pid, url, recentLog, liveHeap: async () => (await askHeap(child)).heapUsed, heapReport: () => askHeap(child), stop: () => stop(child) });
    });
  });
}

/** Reads VmRSS and VmHWM from /proc/<pid>/status. */
export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

// USER_HZ, the unit of /proc/<pid>/stat times: 100 on every architecture Linux ships for servers.
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) the process has used so far, in seconds. */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Count fields from after the command name: it may contain spaces and parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function askHeap(child: ChildProcess): Promise<HeapReport> {
  if (!child.connected) return Promise.reject(new Error('the server was started without the heap probe'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer from the heap probe')), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as HeapReport);
    });
    child.send('heap');
  });
}

/** Whether the process has children: then it is a launcher (like the tsx CLI), not the server. */
function hasChildren(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '';
  } catch {
    return false; // kernels without CONFIG_PROC_CHILDREN: cannot tell, trust the spawn
  }
}

/** Polls memory every 200 ms until stopped; returns the highest resident size seen. */
export function sampleMemory(pid: number): { stop(): number } {
  let peak = 0;
  const poll = () => {
    const memory = readMemory(pid);
    peak = Math.max(peak, memory.rss, memory.peak);
  };
  poll();
  const timer = setInterval(poll, 200);
  return {
    stop() {
      clearInterval(timer);
      poll();
      return peak;
    },
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      killGroup(child, 'SIGKILL'); // anything left in the group
      resolve();
    });
    killGroup(child, 'SIGTERM');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Our server reads its settings from the environment too (src/config.ts); clear them so it runs with
 * its defaults and auth off, whatever the shell that started the bench holds.
 */
const SERVER_SETTINGS = new Set(['SPACE_HOST', 'HF_TOKEN', 'HOST', 'PORT', 'HF_ENDPOINT', 'HF_INFERENCE_ENDPOINT', 'LOG_LEVEL', 'METRICS_TOKEN']);

function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('FAST_AGENT_') || key.startsWith('RATE_LIMIT_') || SERVER_SETTINGS.has(key)) delete env[key];
  }
  return env;
}
