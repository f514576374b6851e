/**
 * The soak: 60 s of mixed traffic from 50 Hub-verified callers against this server, compiled, in its
 * own process, with auth on (FAST_AGENT_SERVE_OAUTH=huggingface). The Hub (whoami) and the inference
 * router are fakes in this process: the Hub knows the 50 callers' tokens, the router streams
 * "You said: <the caller's text>" a word at a time, so sends, streams and cancels have work to wait
 * on. FAST_AGENT_TRUSTED_PROXIES=1 lets every simulated client carry its own address in
 * X-Forwarded-For, as behind the Spaces proxy: each caller has one of its own, and a flood of random
 * tokens comes from three attacker addresses.
 *
 * Every answer is checked: its status and body against what its kind of request must get, and,
 * for a caller's requests, that it holds nothing of another caller (their text, their task ids, any
 * token). The phase fails, after printing everything, on any 5xx, any JSON-RPC -32603, any answer
 * holding another caller's data, any legitimate request refused (401/403/429), any other wrong or
 * missing answer, whoami checks beyond the budget the server states, or RSS growth past RSS_BOUND.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCpuSeconds, readMemory, sampleMemory, startServer, type ServerCommand, type ServerProcess } from './server-process.ts';
import { ROUTER_CARD } from './echo-card.ts';
import { printTable } from './table.ts';
import { percentile } from './stats.ts';
import { fakeToken, startFakeHub } from '../tests/support/fake-hub.ts';
import { startFakeRouter, type RecordedRequest, type Reply } from '../tests/support/fake-router.ts';

const CALLERS = 50;
/**
 * The most requests a second each legitimate caller sends (every request it makes, bad-token ones
 * from its address included), with at most one in flight: well under the server's limits, which the
 * soak sets to their defaults, 20 a second per caller (bursts of 100) and 50 per address (bursts of
 * 250), and under the 16 running turns and 32 open streams a caller may have. A client that
 * respects the limits is never refused, so any 429 a legitimate caller gets is a failure.
 */
const CALLER_REQUESTS_PER_SECOND = 8;
const SERVER_LIMITS = { RATE_LIMIT_PER_CALLER: '20', RATE_LIMIT_PER_ADDRESS: '50' };
/** Addresses the flood of random tokens comes from, one closed-loop client each, joining this many seconds apart. */
const ATTACKERS = 3;
const ATTACKER_STAGGER_SECONDS = 10;
/**
 * The server's own budget of Hub checks for tokens it has not seen (src/auth/hub-verifier.ts
 * defaults): per address 10 at once, then 1 per 5 s; from all addresses 60 at once, then 2 a second
 * (more get 503); a rejected token is remembered for 30 s. The attackers join one at a time so that
 * together with the callers' 50 first checks they stay inside the overall budget: past it, the
 * server answers 503 by design, which this phase counts as a failure.
 */
const NEW_TOKEN_CHECKS = { burstPerAddress: 10, perSecondPerAddress: 0.2, rejectedTtlSeconds: 30 };
/** How much the server's RSS may grow from after the warm-up to after the soak. */
export const RSS_BOUND = 150 * 1024 * 1024;
const HEALTH_INTERVAL_MS = 100;
const CLIENT_IDLE_MS = 4_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** The fake router's delay before each word of an answer; "slow" messages (to be canceled) wait longer. */
const WORD_DELAY_MS = 10;
const SLOW_WORD_DELAY_MS = 300;
const OVERSIZE_BYTES = 1024 * 1024 + 64 * 1024;
const TOO_MANY_PARTS = 100;
const TOO_MANY_VALUES = 12_000;
const EXAMPLES_KEPT = 3;
const MiB = 1024 * 1024;

/** What each kind of request must get; `caller` kinds carry a legitimate caller's token. */
const KINDS = {
  send: { who: 'caller', expect: '200, completed, its own answer' },
  stream: { who: 'caller', expect: '200 SSE, its own answer, completed' },
  'send, return at once': { who: 'caller', expect: '200, task working' },
  'cancel own': { who: 'caller', expect: '200 canceled (-32002 if it had ended)' },
  'get own': { who: 'caller', expect: '200, the task' },
  'list own': { who: 'caller', expect: '200, only its own tasks' },
  "get another's": { who: 'caller', expect: '-32001 not found' },
  "cancel another's": { who: 'caller', expect: '-32001 not found' },
  "list another's context": { who: 'caller', expect: '200, no tasks' },
  'bad token': { who: 'caller address', expect: '401' },
  'oversize body': { who: 'caller', expect: '413' },
  'too many parts': { who: 'caller', expect: '-32602' },
  'too many values': { who: 'caller', expect: '-32602' },
  'random-token flood': { who: 'attacker', expect: '401 or 429' },
} as const;
type Kind = keyof typeof KINDS;

/** Weights of what a caller does next; a cancel is two requests (a send that returns at once, then the cancel). */
const MIX: Array<[Action, number]> = [
  ['send', 26],
  ['stream', 20],
  ['cancel', 8],
  ['get own', 12],
  ['list own', 6],
  ["get another's", 6],
  ["cancel another's", 3],
  ["list another's context", 3],
  ['bad token', 8],
  ['oversize body', 2],
  ['too many parts', 2],
  ['too many values', 2],
];
type Action = Exclude<Kind, 'send, return at once' | 'cancel own' | 'random-token flood'> | 'cancel';

type FailureKind =
  | 'HTTP 5xx'
  | 'JSON-RPC -32603'
  | "another caller's data"
  | 'legitimate request refused'
  | 'wrong answer'
  | 'no answer'
  /** No answer on a kept-alive connection whose previous request the server had answered 413 (see README). */
  | 'no answer, connection dropped after a 413'
  | 'whoami beyond budget'
  | 'RSS growth'
  | 'server exited';

interface KindTally {
  requests: number;
  asExpected: number;
  failed: number;
  outcomes: Map<string, number>;
  latencies: number[];
}

interface Caller {
  index: number;
  token: string;
  address: string;
  /** Start time (performance.now()) before which its next request may not start. */
  nextAt: number;
  /** Its most recent task ids. */
  own: string[];
}

interface Answer {
  status: number;
  body: string;
  contentType: string;
  ms: number;
  error?: string;
  /** Set when the request went out on a kept-alive connection: what the previous request on it got. */
  previousOnConnection?: { status: number; bytes: number; idleMs: number };
}

export interface SoakResult {
  seconds: number;
  kinds: Map<Kind, KindTally>;
  failures: Map<FailureKind, { count: number; examples: string[] }>;
  served: number;
  serverCpuSeconds: number;
  health: number[];
  healthFailures: number;
  benchLoopP99Ms: number;
  rssStart: number;
  rssEnd: number;
  rssPeak: number;
  /** The server's live heap after a full collection (bench/heap-probe.ts), after the warm-up and after the soak. */
  heapStart: number;
  heapEnd: number;
  /** The server's memory at the end, just before that collection: where its RSS is. */
  memoryEnd: NodeJS.MemoryUsage | undefined;
  whoami: { callers: number; badToken: number; flood: number; floodBudget: number; badTokenBudget: number };
  routerCalls: number;
}

export async function soak(command: ServerCommand, { seconds }: { seconds: number }): Promise<SoakResult> {
  const callers: Caller[] = Array.from({ length: CALLERS }, (_, index) => ({
    index,
    token: fakeToken(`soakcaller${index}`),
    address: `10.20.${index}.7`,
    nextAt: 0,
    own: [],
  }));
  const revoked = fakeToken('revoked');
  const hub = await startFakeHub(Object.fromEntries(callers.map((c) => [c.token, { name: `soak-caller-${c.index}` }])));
  const result: SoakResult = {
    seconds,
    kinds: new Map(),
    failures: new Map(),
    served: 0,
    serverCpuSeconds: 0,
    health: [],
    healthFailures: 0,
    benchLoopP99Ms: 0,
    rssStart: 0,
    rssEnd: 0,
    rssPeak: 0,
    heapStart: 0,
    heapEnd: 0,
    memoryEnd: undefined,
    whoami: { callers: 0, badToken: 0, flood: 0, floodBudget: 0, badTokenBudget: 0 },
    routerCalls: 0,
  };
  const fail = (kind: FailureKind, example: string) => {
    const entry = result.failures.get(kind) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < EXAMPLES_KEPT) entry.examples.push(example);
    result.failures.set(kind, entry);
  };

  const router = await startFakeRouter((recorded: RecordedRequest): Reply => {
    // Nothing is kept per request: the soak sends tens of thousands.
    router.requests.length = 0;
    result.routerCalls++;
    const messages = (recorded.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
    const text = String(messages.findLast((m) => m.role === 'user')?.content ?? '');
    const owner = /^caller-(\d+):/.exec(text)?.[1];
    const expected = owner === undefined ? undefined : callers[Number(owner)]?.token;
    if (expected === undefined || recorded.headers.authorization !== `Bearer ${expected}`) {
      fail("another caller's data", `the model router got a request for ${JSON.stringify(text.slice(0, 80))} without that caller's own token`);
    }
    return { text: `You said: ${text}`, delayMs: / slow /.test(text) ? SLOW_WORD_DELAY_MS : WORD_DELAY_MS };
  });
  const cardsDir = await mkdtemp(path.join(os.tmpdir(), 'a2a-soak-'));
  await writeFile(path.join(cardsDir, 'relay.md'), ROUTER_CARD);
  // Idle connections are dropped after 4 s, before the server's keep-alive timeout (Node's 5 s)
  // closes them: a request sent on a connection the server is closing at that moment would fail
  // with a reset that says nothing about the server (the keep-alive race Node's docs describe).
  const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: CLIENT_IDLE_MS });
  let server: ServerProcess | undefined;
  try {
    server = await startServer('soak', { ...command, args: [...(command.args ?? []), '--agent-cards', cardsDir] }, {
      // Answers "collect garbage and report the live heap" over IPC, and nothing else.
      heapProbe: true,
      env: {
        FAST_AGENT_SERVE_OAUTH: 'huggingface',
        HF_ENDPOINT: hub.url,
        HF_INFERENCE_ENDPOINT: router.url,
        FAST_AGENT_TRUSTED_PROXIES: '1',
        ...SERVER_LIMITS,
      },
    });
    const client = new SoakClient(server.url, agent, callers, result, fail);

    // Warm-up: each caller's first request verifies its token with the Hub, as the first request of
    // a real caller does; the soak measures the server once that is behind it.
    process.stdout.write(`soak: warm-up (${CALLERS} callers' first requests)... `);
    await Promise.all(callers.map((caller) => client.act(caller, 'send')));
    const warmUpFailures = [...result.failures.values()].reduce((sum, f) => sum + f.count, 0);
    if (warmUpFailures > 0) throw new Error(`the warm-up failed, so the soak is not run: ${JSON.stringify(Object.fromEntries(result.failures))}\n${server.recentLog()}`);
    result.kinds.clear();
    result.served = 0;
    await sleep(1000);
    result.rssStart = readMemory(server.pid).rss;
    result.heapStart = await server.liveHeap();
    console.log(`done; RSS ${mib(result.rssStart)} MiB, live heap ${mib(result.heapStart)} MiB`);

    process.stdout.write(`soak: ${seconds} s of mixed traffic from ${CALLERS} callers and a random-token flood from ${ATTACKERS} addresses... `);
    const memory = sampleMemory(server.pid);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpuBefore = readCpuSeconds(server.pid);
    const start = performance.now();
    const deadline = start + seconds * 1000;
    const health = watchHealth(server.url, deadline, result);
    await Promise.all([
      ...callers.map((caller) => client.callerLoop(caller, deadline, revoked)),
      ...Array.from({ length: ATTACKERS }, (_, k) => client.floodLoop(`203.0.113.${k + 1}`, start + k * ATTACKER_STAGGER_SECONDS * 1000, deadline)),
      health,
    ]);
    loop.disable();
    result.benchLoopP99Ms = loop.percentile(99) / 1e6;
    console.log('done');

    // Let turns still finishing end, then read what the server holds.
    await sleep(2000);
    if (!alive(server.pid)) {
      fail('server exited', `the server process is gone after the soak:\n${server.recentLog()}`);
    } else {
      result.serverCpuSeconds = readCpuSeconds(server.pid) - cpuBefore;
      result.rssEnd = readMemory(server.pid).rss;
      result.rssPeak = memory.stop();
      const report = await server.heapReport();
      result.heapEnd = report.heapUsed;
      result.memoryEnd = report.before;
    }
    if (result.rssEnd - result.rssStart > RSS_BOUND) {
      fail('RSS growth', `RSS grew from ${mib(result.rssStart)} MiB to ${mib(result.rssEnd)} MiB, more than the ${mib(RSS_BOUND)} MiB bound`);
    }

    const tokens = new Set(callers.map((c) => `Bearer ${c.token}`));
    for (const check of hub.checks) {
      if (tokens.has(check.authorization ?? '')) result.whoami.callers++;
      else if (check.authorization === `Bearer ${revoked}`) result.whoami.badToken++;
      else result.whoami.flood++;
    }
    const totalSeconds = seconds + 5; // the warm-up and settling around the soak
    result.whoami.floodBudget = Array.from({ length: ATTACKERS }, (_, k) => Math.max(0, seconds - k * ATTACKER_STAGGER_SECONDS)).reduce(
      (sum, active) => sum + NEW_TOKEN_CHECKS.burstPerAddress + Math.ceil(active * NEW_TOKEN_CHECKS.perSecondPerAddress) + 1,
      0,
    );
    result.whoami.badTokenBudget = 1 + Math.ceil(totalSeconds / NEW_TOKEN_CHECKS.rejectedTtlSeconds);
    if (result.whoami.callers > CALLERS) fail('whoami beyond budget', `${result.whoami.callers} checks of the ${CALLERS} callers' tokens: each should be checked once and then cached (5 min)`);
    if (result.whoami.flood > result.whoami.floodBudget) fail('whoami beyond budget', `${result.whoami.flood} checks of flood tokens, over the per-address budget of ${result.whoami.floodBudget}`);
    if (result.whoami.badToken > result.whoami.badTokenBudget) fail('whoami beyond budget', `${result.whoami.badToken} checks of one revoked token, over ${result.whoami.badTokenBudget} (a rejection is remembered 30 s)`);
    return result;
  } finally {
    agent.destroy();
    await server?.stop();
    await Promise.all([hub.close(), router.close(), rm(cardsDir, { recursive: true, force: true })]);
  }
}

/** Requests of every kind, each judged as it is answered. */
class SoakClient {
  readonly #url: URL;
  readonly #agent: Agent;
  readonly #callers: Caller[];
  readonly #result: SoakResult;
  readonly #fail: (kind: FailureKind, example: string) => void;
  /** Task id -> the caller that created it. */
  readonly #owners = new Map<string, number>();
  /** Recently created tasks of everyone, for requests aimed at another caller's. */
  readonly #recent: Array<{ owner: number; id: string; contextId: string }> = [];
  #recentNext = 0;
  #rpcId = 0;
  #badTokens = 0;
  readonly #oversize: Buffer;
  /** When each idle connection went back to the pool, and what its last request was, for the report of a request that got no answer. */
  readonly #freedAt = new WeakMap<object, number>();
  readonly #lastOn = new WeakMap<object, { status: number; bytes: number }>();
  readonly #manyValues: string;

  constructor(baseUrl: string, agent: Agent, callers: Caller[], result: SoakResult, fail: (kind: FailureKind, example: string) => void) {
    this.#url = new URL(`${baseUrl}/a2a/jsonrpc`);
    this.#agent = agent;
    agent.on('free', (socket: object) => this.#freedAt.set(socket, performance.now()));
    this.#callers = callers;
    this.#result = result;
    this.#fail = fail;
    this.#oversize = Buffer.from(this.#rpc('SendMessage', { message: message('x'.repeat(OVERSIZE_BYTES)) }));
    this.#manyValues = JSON.stringify(Array.from({ length: TOO_MANY_VALUES }, () => 0));
  }

  async callerLoop(caller: Caller, deadline: number, revoked: string): Promise<void> {
    const total = MIX.reduce((sum, [, weight]) => sum + weight, 0);
    while (performance.now() < deadline) {
      let roll = Math.random() * total;
      const action = MIX.find(([, weight]) => (roll -= weight) < 0)?.[0] ?? 'send';
      await this.act(caller, action, revoked);
    }
  }

  async floodLoop(address: string, startAt: number, deadline: number): Promise<void> {
    await sleep(Math.max(0, startAt - performance.now()));
    while (performance.now() < deadline) {
      const token = `hf_${randomBytes(18).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
      const body = this.#rpc('SendMessage', { message: message('let me in') });
      const answer = await this.#exchange({ authorization: `Bearer ${token}`, 'x-forwarded-for': address }, body);
      this.#judge('random-token flood', undefined, answer, `SendMessage with a random token from ${address}`, () =>
        answer.status === 401 || answer.status === 429 ? `${answer.status}` : undefined,
      );
    }
  }

  async act(caller: Caller, action: Action, revoked = ''): Promise<void> {
    switch (action) {
      case 'send': {
        const text = textOf(caller, 'send');
        const answer = await this.#call(caller, this.#rpc('SendMessage', { message: message(text) }));
        this.#judge('send', caller, answer, `SendMessage ${JSON.stringify(text)}`, () => {
          const task = rpcResult(answer)?.task;
          if (task?.status?.state !== 'TASK_STATE_COMPLETED' || answerText(task) !== `You said: ${text}`) return undefined;
          this.#created(caller, task);
          return '200 completed';
        });
        return;
      }
      case 'stream': {
        const text = textOf(caller, 'stream');
        const answer = await this.#call(caller, this.#rpc('SendStreamingMessage', { message: message(text) }), { accept: 'text/event-stream' });
        this.#judge('stream', caller, answer, `SendStreamingMessage ${JSON.stringify(text)}`, () => {
          if (answer.status !== 200 || !answer.contentType.startsWith('text/event-stream')) return undefined;
          const events = sseEvents(answer.body);
          if (events === undefined) return undefined;
          const first = events[0]?.result?.task;
          const last = events.at(-1)?.result;
          const finalState = last?.statusUpdate?.status?.state ?? last?.task?.status?.state;
          const joined = events.flatMap((e) => e.result?.artifactUpdate?.artifact?.parts ?? []).map((p) => p.text ?? '').join('');
          if (!first?.id || finalState !== 'TASK_STATE_COMPLETED' || joined !== `You said: ${text}`) return undefined;
          this.#created(caller, first);
          return '200 completed';
        });
        return;
      }
      case 'cancel': {
        const text = textOf(caller, 'slow');
        const sent = await this.#call(caller, this.#rpc('SendMessage', { message: message(text), configuration: { returnImmediately: true } }));
        let id: string | undefined;
        this.#judge('send, return at once', caller, sent, `SendMessage (returnImmediately) ${JSON.stringify(text)}`, () => {
          const task = rpcResult(sent)?.task;
          const state = task?.status?.state;
          if (!task?.id || (state !== 'TASK_STATE_WORKING' && state !== 'TASK_STATE_SUBMITTED')) return undefined;
          this.#created(caller, task);
          id = task.id;
          return '200 working';
        });
        if (id === undefined) return;
        const canceled = await this.#call(caller, this.#rpc('CancelTask', { id }));
        this.#judge('cancel own', caller, canceled, `CancelTask ${id} (its own, running)`, () => {
          if (rpcError(canceled)?.code === -32002) return '200 -32002 (had ended)';
          const task = rpcResult(canceled);
          return task?.id === id && task?.status?.state === 'TASK_STATE_CANCELED' ? '200 canceled' : undefined;
        });
        return;
      }
      case 'get own': {
        const id = caller.own[Math.floor(Math.random() * caller.own.length)];
        if (id === undefined) return this.act(caller, 'send');
        const answer = await this.#call(caller, this.#rpc('GetTask', { id, historyLength: 2 }));
        this.#judge('get own', caller, answer, `GetTask ${id} (its own)`, () => (rpcResult(answer)?.id === id ? '200 task' : undefined));
        return;
      }
      case 'list own': {
        const answer = await this.#call(caller, this.#rpc('ListTasks', { pageSize: 20, includeArtifacts: true, historyLength: 1 }));
        this.#judge('list own', caller, answer, 'ListTasks (includeArtifacts, historyLength 1)', () => {
          const tasks = rpcResult(answer)?.tasks;
          if (!Array.isArray(tasks)) return undefined;
          // Every task listed must be one this caller created (checked for all ids in #judge too).
          return tasks.every((task: { id?: string }) => this.#owners.get(task.id ?? '') === caller.index) ? `200 ${tasks.length > 0 ? 'tasks' : 'empty'}` : undefined;
        });
        return;
      }
      case "get another's":
      case "cancel another's":
      case "list another's context": {
        const other = this.#someoneElses(caller);
        if (other === undefined) return this.act(caller, 'send');
        const [method, params, what] =
          action === "get another's"
            ? (['GetTask', { id: other.id }, `GetTask ${other.id} (caller-${other.owner}'s)`] as const)
            : action === "cancel another's"
              ? (['CancelTask', { id: other.id }, `CancelTask ${other.id} (caller-${other.owner}'s)`] as const)
              : (['ListTasks', { contextId: other.contextId, includeArtifacts: true, historyLength: 5 }, `ListTasks contextId ${other.contextId} (caller-${other.owner}'s)`] as const);
        const answer = await this.#call(caller, this.#rpc(method, params));
        this.#judge(action, caller, answer, what, () => {
          if (method === 'ListTasks') {
            const tasks = rpcResult(answer)?.tasks;
            return Array.isArray(tasks) && tasks.length === 0 ? '200 no tasks' : undefined;
          }
          return rpcError(answer)?.code === -32001 ? '200 -32001' : undefined;
        });
        return;
      }
      case 'bad token': {
        // Turn by turn: no token, one not shaped like a Hub token, another scheme, and a revoked Hub token.
        const variants: Array<[string, Record<string, string>]> = [
          ['no Authorization', {}],
          ['Bearer not-a-token', { authorization: 'Bearer not-a-token' }],
          ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }],
          ['a revoked hf_ token', { authorization: `Bearer ${revoked || fakeToken('unknown')}` }],
        ];
        const [what, headers] = variants[this.#badTokens++ % variants.length]!;
        const text = textOf(caller, 'badtoken');
        const answer = await this.#exchange({ 'x-forwarded-for': caller.address, ...headers }, this.#rpc('SendMessage', { message: message(text) }), caller);
        this.#judge('bad token', undefined, answer, `SendMessage from caller-${caller.index}'s address with ${what}`, () => (answer.status === 401 ? '401' : undefined));
        return;
      }
      case 'oversize body': {
        const answer = await this.#call(caller, this.#oversize);
        this.#judge('oversize body', caller, answer, `SendMessage of ${this.#oversize.length} bytes`, () => (answer.status === 413 ? '413' : undefined));
        return;
      }
      case 'too many parts': {
        const parts = Array.from({ length: TOO_MANY_PARTS }, (_, i) => ({ text: `${textOf(caller, 'part')} ${i}` }));
        const answer = await this.#call(caller, this.#rpc('SendMessage', { message: { ...message(''), parts } }));
        this.#judge('too many parts', caller, answer, `SendMessage with ${TOO_MANY_PARTS} parts`, () => (rpcError(answer)?.code === -32602 ? '200 -32602' : undefined));
        return;
      }
      case 'too many values': {
        const body = this.#rpc('SendMessage', { message: message(textOf(caller, 'values')) }).replace('"params":{', `"params":{"metadata":{"values":${this.#manyValues}},`);
        const answer = await this.#call(caller, body);
        this.#judge('too many values', caller, answer, `SendMessage with ${TOO_MANY_VALUES} values in metadata`, () => (rpcError(answer)?.code === -32602 ? '200 -32602' : undefined));
        return;
      }
    }
  }

  /** A request with the caller's token from its address, at its pace. */
  #call(caller: Caller, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
    return this.#exchange({ authorization: `Bearer ${caller.token}`, 'x-forwarded-for': caller.address, ...headers }, body, caller);
  }

  async #exchange(headers: Record<string, string>, body: string | Buffer, pacedFor?: Caller): Promise<Answer> {
    if (pacedFor) {
      const now = performance.now();
      const at = Math.max(now, pacedFor.nextAt);
      pacedFor.nextAt = at + 1000 / CALLER_REQUESTS_PER_SECOND;
      if (at > now) await sleep(at - now);
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve) => {
      const start = performance.now();
      let previous: Answer['previousOnConnection'];
      let reused = false;
      // The response's own socket reference is cleared once the connection goes back to the pool.
      let connection: object | undefined;
      const done = (answer: Omit<Answer, 'ms'>) => {
        const where = previous
          ? `on a kept-alive connection, idle ${previous.idleMs} ms, whose previous request (${previous.bytes} bytes) got HTTP ${previous.status}`
          : reused
            ? 'on a kept-alive connection'
            : 'on a new connection';
        const note = answer.error ? ` (${where}; ${Math.round(performance.now() - start)} ms after the request started, at ${new Date().toISOString()})` : '';
        resolve({ ...answer, ms: performance.now() - start, previousOnConnection: previous, ...(answer.error && { error: `${answer.error}${note}` }) });
      };
      const req = request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: { 'content-type': 'application/json', 'a2a-version': '1.0', 'content-length': String(bytes.length), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('error', (error) => done({ status: 0, body: '', contentType: '', error: error.message }));
          res.once('end', () => {
            if (connection) this.#lastOn.set(connection, { status: res.statusCode ?? 0, bytes: bytes.length });
            done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') });
          });
        },
      );
      req.once('socket', (socket) => {
        const freed = this.#freedAt.get(socket);
        const last = this.#lastOn.get(socket);
        reused = req.reusedSocket;
        connection = socket;
        if (req.reusedSocket && freed !== undefined && last) previous = { ...last, idleMs: Math.round(performance.now() - freed) };
      });
      req.once('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.once('error', (error) => done({ status: 0, body: '', contentType: '', error: error.message }));
      req.end(bytes);
    });
  }

  /**
   * Counts the answer under its kind and judges it: the checks every answer gets, then `expected`,
   * which returns the outcome's label when the answer is what the kind must get.
   */
  #judge(kind: Kind, caller: Caller | undefined, answer: Answer, what: string, expected: () => string | undefined): void {
    const tally: KindTally = this.#result.kinds.get(kind) ?? { requests: 0, asExpected: 0, failed: 0, outcomes: new Map(), latencies: [] };
    this.#result.kinds.set(kind, tally);
    tally.requests++;
    tally.latencies.push(answer.ms);
    if (!answer.error) this.#result.served++;
    const code = answer.error ? undefined : /"code":\s*(-?\d+)/.exec(answer.body)?.[1];
    const label = answer.error ? 'no answer' : `${answer.status}${code && answer.status === 200 ? ` ${code}` : ''}`;

    let failure: FailureKind | undefined;
    let outcome: string | undefined;
    if (answer.error) failure = answer.previousOnConnection?.status === 413 ? 'no answer, connection dropped after a 413' : 'no answer';
    else if (answer.status >= 500) failure = 'HTTP 5xx';
    else if (/"code":\s*-32603\b/.test(answer.body)) failure = 'JSON-RPC -32603';
    else if (caller && this.#holdsAnothers(caller, answer.body)) failure = "another caller's data";
    else if (caller && (answer.status === 401 || answer.status === 403 || answer.status === 429)) failure = 'legitimate request refused';
    else if ((outcome = safely(expected)) === undefined) failure = 'wrong answer';

    const shown = outcome ?? label;
    tally.outcomes.set(shown, (tally.outcomes.get(shown) ?? 0) + 1);
    if (failure === undefined) {
      tally.asExpected++;
      return;
    }
    tally.failed++;
    this.#fail(failure, `${kind}: ${what} -> ${answer.error ?? `HTTP ${answer.status} ${answer.body.slice(0, 400)}`}`);
  }

  /** Whether an answer to `caller` holds another caller's text, a task id of theirs, or any token. */
  #holdsAnothers(caller: Caller, body: string): boolean {
    for (const match of body.matchAll(/caller-(\d+):/g)) if (Number(match[1]) !== caller.index) return true;
    for (const match of body.matchAll(/"(?:id|taskId)":"([0-9a-f-]{36})"/g)) {
      const owner = this.#owners.get(match[1]!);
      if (owner !== undefined && owner !== caller.index) return true;
    }
    return body.includes('hf_');
  }

  #created(caller: Caller, task: { id?: string; contextId?: string }): void {
    if (!task.id) return;
    this.#owners.set(task.id, caller.index);
    caller.own.push(task.id);
    if (caller.own.length > 20) caller.own.shift();
    const entry = { owner: caller.index, id: task.id, contextId: task.contextId ?? '' };
    if (this.#recent.length < 1000) this.#recent.push(entry);
    else this.#recent[this.#recentNext++ % 1000] = entry;
  }

  #someoneElses(caller: Caller): { owner: number; id: string; contextId: string } | undefined {
    for (let tries = 0; tries < 10 && this.#recent.length > 0; tries++) {
      const entry = this.#recent[Math.floor(Math.random() * this.#recent.length)]!;
      if (entry.owner !== caller.index) return entry;
    }
    return undefined;
  }

  #rpc(method: string, params: unknown): string {
    return JSON.stringify({ jsonrpc: '2.0', id: ++this.#rpcId, method, params });
  }
}

/** GET /healthz every 100 ms until the deadline: from outside the server, its event loop's delay shows in this latency. */
async function watchHealth(baseUrl: string, deadline: number, result: SoakResult): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`${baseUrl}/healthz`);
  try {
    while (performance.now() < deadline) {
      const start = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        const req = request(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode === 200));
          res.once('error', () => resolve(false));
        });
        req.once('timeout', () => req.destroy(new Error('timeout')));
        req.once('error', () => resolve(false));
        req.end();
      });
      const ms = performance.now() - start;
      if (ok) result.health.push(ms);
      else result.healthFailures++;
      await sleep(Math.max(0, HEALTH_INTERVAL_MS - ms));
    }
  } finally {
    agent.destroy();
  }
}

export function printSoak(result: SoakResult): string[] {
  const order = Object.keys(KINDS) as Kind[];
  const rows = order.flatMap((kind) => {
    const tally = result.kinds.get(kind);
    if (!tally) return [];
    const outcomes = [...tally.outcomes].sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label} x${n}`).join(', ');
    return [[kind, KINDS[kind].who, tally.requests.toString(), tally.asExpected.toString(), tally.failed.toString(), KINDS[kind].expect, outcomes, ms(percentile(tally.latencies, 50)), ms(percentile(tally.latencies, 99))]];
  });
  console.log();
  printTable(['request', 'from', 'requests', 'as expected', 'failed', 'must get', 'answers', 'p50 ms', 'p99 ms'], rows);
  console.log("(answers: HTTP status, with the JSON-RPC error code or the task's state; a refusal the request must get, like a bad token's 401, counts as expected)");

  const all = [...result.kinds.values()];
  const callerRequests = order.filter((k) => KINDS[k].who !== 'attacker').reduce((sum, k) => sum + (result.kinds.get(k)?.requests ?? 0), 0);
  const floodRequests = result.kinds.get('random-token flood')?.requests ?? 0;
  const growth = result.rssEnd - result.rssStart;
  console.log();
  printTable(
    ['served', 'req/s', "callers' req/s", 'flood req/s', 'server CPU', 'server CPU µs/req', '/healthz p50 ms', '/healthz p99 ms', '/healthz max ms', 'bench loop p99 ms', 'RSS start MiB', 'RSS end MiB', 'RSS peak MiB', 'RSS growth MiB (bound)', 'live heap start -> end MiB'],
    [
      [
        result.served.toString(),
        Math.round(result.served / result.seconds).toString(),
        Math.round(callerRequests / result.seconds).toString(),
        Math.round(floodRequests / result.seconds).toString(),
        `${Math.round((result.serverCpuSeconds / result.seconds) * 100)}%`,
        Math.round((result.serverCpuSeconds / Math.max(1, all.reduce((sum, t) => sum + t.requests, 0))) * 1e6).toString(),
        ms(percentile(result.health, 50)),
        ms(percentile(result.health, 99)),
        ms(Math.max(...result.health)),
        ms(result.benchLoopP99Ms),
        mib(result.rssStart),
        mib(result.rssEnd),
        mib(result.rssPeak),
        `${growth >= 0 ? '+' : ''}${mib(growth)} (${mib(RSS_BOUND)})`,
        `${mib(result.heapStart)} -> ${mib(result.heapEnd)}`,
      ],
    ],
  );
  console.log(
    `(/healthz: ${result.health.length} GETs, one every ${HEALTH_INTERVAL_MS} ms, ${result.healthFailures} failed: the server's event-loop delay seen from outside, plus this process's own, whose p99 is "bench loop"; CPU %: of one core; µs/req over every request, the flood's included)`,
  );
  const memory = result.memoryEnd;
  if (memory) {
    console.log(
      `Server memory at the end: RSS ${mib(memory.rss)} MiB, of which V8's heap reserves ${mib(memory.heapTotal)} MiB (${mib(memory.heapUsed)} MiB in use before a full collection, ${mib(result.heapEnd)} MiB live after it); outside the JS heap: external ${mib(memory.external)} MiB (array buffers ${mib(memory.arrayBuffers)} MiB), the rest code, stacks and the allocator's own`,
    );
  }
  console.log(
    `whoami checks the fake Hub received: ${result.whoami.callers + result.whoami.badToken + result.whoami.flood} (${result.whoami.callers} for the ${CALLERS} callers' tokens, expected ${CALLERS}; ${result.whoami.badToken} for the revoked token, budget ${result.whoami.badTokenBudget}; ${result.whoami.flood} for ${floodRequests} flood requests, budget ${result.whoami.floodBudget}); model router calls: ${result.routerCalls}`,
  );

  const problems: string[] = [];
  if (result.failures.size > 0) {
    console.log();
    printTable(
      ['failure', 'count', 'first examples'],
      [...result.failures].map(([kind, { count, examples }]) => [kind, count.toString(), examples.map((e) => e.replace(/\s+/g, ' ').replace(/\|/g, '\\|')).join(' // ')]),
    );
    for (const [kind, { count }] of result.failures) problems.push(`soak: ${count} x ${kind}`);
  }
  console.log(`\nsoak: ${problems.length === 0 ? 'PASSED' : 'FAILED'} (fails on any 5xx or JSON-RPC -32603, another caller's data in an answer, a legitimate request refused, any other wrong or missing answer, whoami checks past the budget, RSS growth past ${mib(RSS_BOUND)} MiB)`);
  return problems;
}

interface Task {
  id?: string;
  contextId?: string;
  status?: { state?: string };
  artifacts?: Array<{ parts?: Array<{ text?: string }> }>;
}

interface StreamEvent {
  result?: {
    task?: Task;
    artifactUpdate?: { artifact?: { parts?: Array<{ text?: string }> } };
    statusUpdate?: { status?: { state?: string } };
  };
  error?: unknown;
}

function message(text: string) {
  return { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] };
}

/** The text of a caller's message: its marker (which nothing sent to another caller may hold), the kind and a nonce. */
function textOf(caller: Caller, kind: string): string {
  return `caller-${caller.index}: ${kind} ${randomBytes(4).toString('hex')}`;
}

function parsed(answer: Answer): any {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}

function rpcResult(answer: Answer): any {
  return answer.status === 200 ? parsed(answer)?.result : undefined;
}

function rpcError(answer: Answer): { code?: number } | undefined {
  return answer.status === 200 ? parsed(answer)?.error : undefined;
}

function answerText(task: Task): string {
  return (task.artifacts ?? []).flatMap((a) => a.parts ?? []).map((p) => p.text ?? '').join('');
}

/** The stream's events, or undefined if it holds an error event or something that is not an event. */
function sseEvents(body: string): StreamEvent[] | undefined {
  const events: StreamEvent[] = [];
  for (const block of body.split('\n\n')) {
    if (block.trim() === '' || block.startsWith(':')) continue;
    if (/^event: error$/m.test(block)) return undefined;
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data === undefined) return undefined;
    const event = JSON.parse(data) as StreamEvent;
    if (event.error !== undefined) return undefined;
    events.push(event);
  }
  return events;
}

function safely(check: () => string | undefined): string | undefined {
  try {
    return check();
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    readMemory(pid);
    return true;
  } catch {
    return false;
  }
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '-';
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}
