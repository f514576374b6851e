/**
 * Starts the real server for a test: in this process (startServer, the function app.ts calls) or as
 * its own process with the package's start command, on a loopback port either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.ts';
import { isLevel, setLogLevel } from '../../src/util/log.ts';
import { agentsDir, ECHO_AGENTS } from './agents.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

// Servers started in a test process write no log lines, so `npm test` shows tests; TEST_LOG_LEVEL=debug shows them.
const testLogLevel = process.env.TEST_LOG_LEVEL ?? 'silent';
setLogLevel(isLevel(testLogLevel) ? testLogLevel : 'silent');

export interface TestServerOptions extends Omit<ServerOptions, 'env'> {
  env?: Record<string, string | undefined>;
  argv?: string[];
  /** Agent card files; the echo pair by default. */
  cards?: Record<string, string>;
}

/** The real server in this process, on 127.0.0.1 and a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<RunningServer> {
  const env = { PORT: '0', HOST: '127.0.0.1', ...options.env };
  const argv = ['--agent-cards', agentsDir(options.cards ?? ECHO_AGENTS), ...(options.argv ?? [])];
  return startServer(loadConfig(argv, env), { ...options, env });
}

/** A server of its own for one test, closed however the test ends. */
export async function withTestServer<T>(options: TestServerOptions, use: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startTestServer(options);
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * The built server exactly as the Dockerfile and `npm start` run it (`node dist/app.js`; `npm test`
 * builds it first), as its own process group.
 */
export function spawnStart(env: Record<string, string>, args: string[] = []): ChildProcess {
  const start = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  const [command, ...startArgs] = start.split(' ');
  if (command !== 'node') throw new Error(`the start script is not "node <file>": ${start}`);
  return spawn(process.execPath, [...startArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the server process and waits until it says where it listens. */
export function startServerProcess(env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  const child = spawnStart({ PORT: '0', HOST: '127.0.0.1', ...env }, args);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /"message":"serving agents","url":"([^"]+)"/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child, output: () => output, stop: () => stopProcess(child) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

/** Runs the start command to completion (for start-up failures). */
export function runStart(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawnStart({ PORT: '0', HOST: '127.0.0.1', ...env }, args);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => stopProcess(child), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      resolve(child.exitCode);
    }
  });
}
