/**
 * The load: one A2A SendMessage request (or the same bytes to the echo floor), fired by autocannon
 * over 32 keep-alive connections, with every response checked so a fast error cannot pass for speed.
 */
import autocannon from 'autocannon';
import { readCpuSeconds, sampleMemory, type ServerProcess } from './server-process.ts';

export const CONNECTIONS = 32;
export const TEXT = 'hello benchmark world';

export const SEND_MESSAGE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'SendMessage',
  params: { message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ text: TEXT }] } },
});
export const HEADERS = { 'content-type': 'application/json', 'a2a-version': '1.0' };

export interface Target {
  url: string;
  /** Sent with every request on top of the JSON ones, e.g. a caller's Authorization. */
  headers?: Record<string, string>;
  /** Cheap enough to run on every response; a false counts as a mismatch. */
  verifyBody(body: string): boolean;
  /** The thorough check of one response before any load; throws with what is wrong. */
  check(response: unknown): void;
}

export function echoTarget(baseUrl: string): Target {
  return {
    url: `${baseUrl}/`,
    verifyBody: (body) => body === SEND_MESSAGE,
    check(response) {
      if (JSON.stringify(response) !== SEND_MESSAGE) throw new Error(`expected the body echoed back, got ${JSON.stringify(response)}`);
    },
  };
}

export function a2aTarget(baseUrl: string, headers?: Record<string, string>): Target {
  return {
    url: `${baseUrl}/a2a/jsonrpc`,
    headers,
    verifyBody: (body) => body.includes('"state":"TASK_STATE_COMPLETED"'),
    check(response) {
      const task = (response as { result?: { task?: Task } }).result?.task;
      const state = task?.status?.state;
      const answer = task?.artifacts?.[0]?.parts?.map((part) => part.text ?? '').join('');
      if (state !== 'TASK_STATE_COMPLETED' || answer !== TEXT) {
        throw new Error(`expected a completed task answering ${JSON.stringify(TEXT)}, got ${JSON.stringify(response)}`);
      }
    },
  };
}

interface Task {
  status?: { state?: string };
  artifacts?: { parts?: { text?: string }[] }[];
}

/** Sends one request and checks the answer, so a broken server fails before it is measured. */
export async function checkOnce(target: Target): Promise<void> {
  const response = await fetch(target.url, { method: 'POST', headers: { ...HEADERS, ...target.headers }, body: SEND_MESSAGE });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${target.url}: ${text}`);
  target.check(JSON.parse(text));
}

export interface Measurement {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  seconds: number;
  non2xx: number;
  /** Connection errors, timeouts and bodies that failed verifyBody. */
  errors: number;
}

/** Runs for `seconds`, or until `amount` requests have completed. */
export async function runLoad(target: Target, limit: { seconds: number } | { amount: number }): Promise<Measurement> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { ...HEADERS, ...target.headers },
    body: SEND_MESSAGE,
    connections: CONNECTIONS,
    ...('seconds' in limit ? { duration: limit.seconds } : { amount: limit.amount }),
    verifyBody: target.verifyBody,
  });
  return {
    requestsPerSecond: result.requests.mean,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    completed: result.requests.total,
    seconds: result.duration,
    non2xx: result.non2xx,
    errors: result.errors + result.mismatches,
  };
}

export interface Window extends Measurement {
  /** The server's CPU time (user + system) over the window, in seconds. */
  serverCpuSeconds: number;
  /** This process's CPU time over the window: what the load generator took of the machine. */
  loadCpuSeconds: number;
  /** The highest resident size of the server seen during the window (VmHWM included), in bytes. */
  peakRss: number;
}

/**
 * One measured window of load on one server, with the server's CPU time beside its throughput:
 * on a shared machine req/s moves with whatever else runs, while CPU per request mostly does not.
 */
export async function measureWindow(server: ServerProcess, target: Target, seconds: number): Promise<Window> {
  const sampler = sampleMemory(server.pid);
  const loadCpuBefore = process.cpuUsage();
  const serverCpuBefore = readCpuSeconds(server.pid);
  const measured = await runLoad(target, { seconds });
  const serverCpuSeconds = readCpuSeconds(server.pid) - serverCpuBefore;
  const loadCpu = process.cpuUsage(loadCpuBefore);
  return { ...measured, serverCpuSeconds, loadCpuSeconds: (loadCpu.user + loadCpu.system) / 1e6, peakRss: sampler.stop() };
}
