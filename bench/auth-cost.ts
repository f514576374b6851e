/**
 * What inbound auth costs once the token check is cached: this server, compiled, as a child process
 * with auth off and with FAST_AGENT_SERVE_OAUTH=huggingface, against a fake Hub in this process. Both get the
 * very same requests, Authorization header included, so the only difference is the check itself.
 * Beside throughput it reads each server's CPU time per request: it does not depend on how much of
 * the machine the neighbours leave free, though it still moves by a few percent between runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { a2aTarget, checkOnce, measureWindow, runLoad, type Target, type Window } from './load.ts';
import { startServer, type ServerCommand, type ServerProcess } from './server-process.ts';
import { printTable } from './table.ts';
import { mean as meanOf, median } from './stats.ts';
import { fakeToken, startFakeHub } from '../tests/support/fake-hub.ts';

const MAX_SLOWDOWN = 0.05;
/**
 * One verified caller sending thousands of requests a second is what the per-caller rate limit
 * exists to refuse. Raised out of reach rather than turned off, so the limiter still does its
 * per-request work and only the refusals, which would make errors of the measurement, are gone.
 */
const CALLER_RATE_OUT_OF_REACH = { RATE_LIMIT_PER_CALLER: '100000000' };

export interface AuthCost {
  off: Window[];
  on: Window[];
  /** whoami requests the fake Hub received over the whole phase. */
  whoamiCalls: number;
}

/** Both servers run throughout; measured windows alternate off/on, then on/off, so drift hits both alike. */
export async function authCost(command: ServerCommand, options: { warmUpSeconds: number; windowSeconds: number; rounds: number }): Promise<AuthCost> {
  const token = fakeToken('bench');
  const hub = await startFakeHub({ [token]: { name: 'bench' } });
  const servers: ServerProcess[] = [];
  try {
    const start = async (name: string, env: Record<string, string> = {}) => {
      const server = await startServer(name, command, { env });
      servers.push(server);
      return server;
    };
    const off = await start('auth-off', CALLER_RATE_OUT_OF_REACH);
    const on = await start('auth-on', { ...CALLER_RATE_OUT_OF_REACH, FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url });
    const headers = { authorization: `Bearer ${token}` };
    const targets = { off: a2aTarget(off.url, headers), on: a2aTarget(on.url, headers) };
    const running = { off, on };
    await refusesWithoutToken(targets.on);
    for (const [name, target] of Object.entries(targets)) {
      await checkOnce(target).catch((error: Error) => {
        throw new Error(`auth-${name} answered wrongly, so it is not measured: ${error.message}`);
      });
    }

    process.stdout.write('auth off/on: warm-up... ');
    await runLoad(targets.off, { seconds: options.warmUpSeconds });
    await runLoad(targets.on, { seconds: options.warmUpSeconds });
    const result: AuthCost = { off: [], on: [], whoamiCalls: 0 };
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const mode of order) {
        process.stdout.write(`${mode}... `);
        result[mode].push(await measureWindow(running[mode], targets[mode], options.windowSeconds));
      }
    }
    console.log('done');
    await sleep(100); // a check still in flight would count too
    result.whoamiCalls = hub.checks.length;
    return result;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await hub.close();
  }
}

/** Proof that auth is really on: without the header the server must refuse. */
async function refusesWithoutToken(target: Target): Promise<void> {
  const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  await response.body?.cancel();
  if (response.status !== 401) throw new Error(`auth-on answered a request without a token with HTTP ${response.status}, not 401`);
}

export function printAuthCost({ off, on, whoamiCalls }: AuthCost): void {
  const mean = (runs: Window[]) => meanOf(runs.map((r) => r.requestsPerSecond));
  const cpuPerRequest = (runs: Window[]) => runs.reduce((sum, r) => sum + r.serverCpuSeconds, 0) / runs.reduce((sum, r) => sum + r.completed, 0);
  const row = (name: string, runs: Window[]) => [
    name,
    Math.round(mean(runs)).toString(),
    median(runs.map((r) => r.p50Ms)).toString(),
    median(runs.map((r) => r.p99Ms)).toString(),
    Math.round(cpuPerRequest(runs) * 1e6).toString(),
    runs.map((r) => Math.round(r.requestsPerSecond)).join(', '),
    runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0).toString(),
  ];
  console.log();
  printTable(['this-server', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'req/s per window', 'errors'], [row('auth off', off), row('auth on', on)]);
  console.log('(req/s: mean of the windows; p50, p99: median of the windows; CPU: all windows\' CPU time / all their requests)');
  const ratio = mean(on) / mean(off);
  const verdict = ratio >= 1 - MAX_SLOWDOWN ? 'yes' : 'NO';
  console.log(`\nauth on / auth off: ${ratio.toFixed(3)}x req/s (within ${MAX_SLOWDOWN * 100}%: ${verdict})`);
  console.log(`auth on / auth off: ${(cpuPerRequest(on) / cpuPerRequest(off)).toFixed(3)}x server CPU per request`);
  console.log(`whoami calls the fake Hub received: ${whoamiCalls} (1 means every other request was answered from the cache)`);
}
