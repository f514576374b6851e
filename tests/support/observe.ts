/**
 * Watching the server from the outside: event-loop delay in this process (for servers started in
 * it), raw HTTP over a socket (bytes fetch and node:http refuse to send), and the built server as
 * a process whose stdout and stderr are kept apart.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { spawnStart } from './server.ts';

export interface LoopDelay {
  /** Stops watching; the largest and the 99th-percentile delay seen, in ms. */
  stop(): { maxMs: number; p99Ms: number };
}

/** Starts measuring how late the event loop of this process runs its timers. */
export function watchEventLoop(resolutionMs = 10): LoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      // With no sample taken yet the histogram reports huge numbers; a loop that never ran late shows 0.
      const sampled = histogram.count > 0;
      return { maxMs: sampled ? histogram.max / 1e6 : 0, p99Ms: sampled ? histogram.percentile(99) / 1e6 : 0 };
    },
  };
}

export interface SocketExchange {
  /** Everything the server sent before closing (or before the timeout). */
  response: string;
  /** The status of the first status line, 0 when none came. */
  status: number;
  /** The socket was closed by the server (or reset), rather than left open until the timeout. */
  closed: boolean;
  /** An error on the socket (ECONNRESET, EPIPE), if any. */
  error: string | undefined;
  ms: number;
}

/**
 * Writes `pieces` to a fresh connection, `gapMs` apart, and reads until the server closes it or
 * `timeoutMs` passes. Bytes go out exactly as given.
 */
export function socketExchange(baseUrl: string, pieces: Array<string | Buffer>, { gapMs = 0, timeoutMs = 5_000 } = {}): Promise<SocketExchange> {
  const { hostname, port } = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    let error: string | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);
      resolve({ response, status, closed, error, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      for (const [i, piece] of pieces.entries()) {
        if (done || socket.destroyed) return;
        if (i > 0 && gapMs) await new Promise((r) => setTimeout(r, gapMs));
        if (done || socket.destroyed) return;
        socket.write(piece);
      }
    });
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export interface LoggedProcess {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Every stderr line so far (complete lines only). */
  stderrLines(): string[];
  /** Settles when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to this process (by its id) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The built server (`node dist/app.js`) as its own process on a free loopback port, ready once
 * /healthz answers: this works whatever LOG_LEVEL silences.
 */
export async function startLoggedProcess(env: Record<string, string>, args: string[] = []): Promise<LoggedProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnStart({ HOST: '127.0.0.1', ...env, PORT: String(port) }, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone) throw new Error(`the server exited before it answered:\n${stdout}\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /healthz within 20 s:\n${stdout}\n${stderr}`);
    }
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stderrLines: () => stderr.split('\n').slice(0, -1),
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}
