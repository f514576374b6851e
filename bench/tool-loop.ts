/**
 * What the tool loop itself costs per turn, apart from the model and the tool. A fake model router
 * asks for one MCP tool call, then answers from its result; a real MCP server runs the tool; this
 * server runs in this process, so every timestamp (performance.now()) is on one clock. The server is
 * the compiled one from .bench-build (build.ts), as it ships; the fake router, the MCP server and
 * the proxies run under tsx, and only their leftovers on this thread can reach our figures. A timing
 * proxy in front of the router and one in front of the MCP server mark when each request arrives
 * and when its answer is finished; what is left of a turn is ours.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiled } from './build.ts';
import { startFakeRouter, type RecordedRequest, type Reply } from '../tests/support/fake-router.ts';
import { startMcpServer } from '../tests/support/mcp-server.ts';
import { startTimingProxy, type Exchange } from './timing-proxy.ts';
import { printTable } from './table.ts';
import { percentile } from './stats.ts';

const TOOL = 'tools__search_models';
const ANSWER_MARK = 'acme/tiny-classifier'; // in the tool's result, so in the answer only if the tool ran
/** The optional stream the MCP client asks for after connecting; the proxy declines it, and the turn never waits on it. */
const OPTIONAL_STREAM = 'GET';

interface Turn {
  start: number;
  end: number;
}

export interface ToolLoop {
  /** The first turn of all: it lists the tools, so its requests differ. */
  firstTurn: Turn;
  turns: Turn[];
  /** Same server and client, agent `echo` (no model, no tool): the bare A2A round trip. */
  echoTurns: Turn[];
  /** Every request to the router and MCP server, the warm-up included. */
  model: Exchange[];
  mcp: Exchange[];
  warmUpTurns: number;
}

/** The model: ask for the tool on a turn's first request, answer once a tool result is there. */
function script(request: RecordedRequest): Reply {
  const result = (request.body?.messages as Array<{ role: string; content: string }>).findLast((m) => m.role === 'tool');
  return result ? { text: `The tool said: ${result.content}` } : { toolCalls: [{ name: TOOL, arguments: '{"query":"text classification"}' }] };
}

export async function toolLoop(options: { warmUpTurns: number; turns: number }): Promise<ToolLoop> {
  return quietly(() => measureToolLoop(options));
}

async function measureToolLoop({ warmUpTurns, turns }: { warmUpTurns: number; turns: number }): Promise<ToolLoop> {
  const { loadConfig } = (await import(pathToFileURL(compiled('src/config.ts')).href)) as typeof import('../src/config.ts');
  const { startServer } = (await import(pathToFileURL(compiled('src/server.ts')).href)) as typeof import('../src/server.ts');
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const router = await startFakeRouter(script);
    cleanup.push(() => router.close());
    const mcp = await startMcpServer();
    cleanup.push(() => mcp.close());
    const modelProxy = await startTimingProxy(router.url);
    cleanup.push(() => modelProxy.close());
    const mcpProxy = await startTimingProxy(mcp.url, { declineGet: true });
    cleanup.push(() => mcpProxy.close());

    const cards = await mkdtemp(path.join(os.tmpdir(), 'a2a-bench-tools-'));
    cleanup.push(() => rm(cards, { recursive: true, force: true }));
    await writeFile(path.join(cards, 'tools.md'), `---\nname: tools\nmodel: hf.bench/tools\ndefault: true\nuse_history: false\nmcp_connect:\n  tools:\n    target: ${mcpProxy.url}\n---\n\nFind models with the tool.\n`);
    await writeFile(path.join(cards, 'echo.md'), '---\nname: echo\nmodel: passthrough\n---\n\nRepeat the message.\n');
    const env = { HF_TOKEN: 'hf_benchservertoken', HF_INFERENCE_ENDPOINT: modelProxy.url };
    const server = await startServer(loadConfig(['--host', '127.0.0.1', '--port', '0', '--agent-cards', cards], env), { env });
    cleanup.push(() => server.close());

    const endpoint = `${server.url}/a2a/jsonrpc`;
    process.stdout.write('tool loop: warm-up... ');
    const firstTurn = await turn(endpoint, undefined);
    for (let i = 1; i < warmUpTurns; i++) await turn(endpoint, undefined);
    process.stdout.write(`${turns} tool turns... `);
    const measured: Turn[] = [];
    for (let i = 0; i < turns; i++) measured.push(await turn(endpoint, undefined));
    process.stdout.write(`${turns} echo turns... `);
    for (let i = 0; i < warmUpTurns; i++) await turn(endpoint, 'echo');
    const echoTurns: Turn[] = [];
    for (let i = 0; i < turns; i++) echoTurns.push(await turn(endpoint, 'echo'));
    console.log('done');
    return { firstTurn, turns: measured, echoTurns, model: modelProxy.exchanges, mcp: mcpProxy.exchanges, warmUpTurns };
  } finally {
    for (const close of cleanup.reverse()) await close();
  }
}

/** One blocking SendMessage, checked: a turn that failed fast must not pass for a fast turn. */
async function turn(endpoint: string, agent: string | undefined): Promise<Turn> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'SendMessage',
    params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'find a small text classifier' }], ...(agent && { metadata: { agent } }) } },
  });
  const start = performance.now();
  const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'a2a-version': '1.0' }, body });
  const text = await response.text();
  const end = performance.now();
  if (!text.includes('"state":"TASK_STATE_COMPLETED"') || (agent === undefined && !text.includes(ANSWER_MARK))) {
    throw new Error(`a tool-loop turn did not complete with the tool's result: HTTP ${response.status} ${text.slice(0, 500)}`);
  }
  return { start, end };
}

/**
 * The in-process server logs every request to stderr, as it ships, and those lines would bury the
 * tables. Only the write is dropped: each line is still built, so the loop still pays for its log.
 */
async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await body();
  } finally {
    // The log writes its lines once per turn of the event loop: let the last batch go first.
    await new Promise((resolve) => setImmediate(resolve));
    process.stderr.write = write;
  }
}

interface TurnBreakdown {
  total: number;
  model: number;
  toolCall: number;
  mcpSetup: number;
  overhead: number;
  /** Our time between two busy stretches, keyed by what ends and what starts it. */
  gaps: Map<string, number>;
  /** Requests by kind: `model` and the MCP methods. */
  requests: Map<string, number>;
}

function breakdown(turn: Turn, model: Exchange[], mcp: Exchange[]): TurnBreakdown {
  const inTurn = (e: Exchange) => e.start >= turn.start && e.start <= turn.end;
  const ours = [...model.filter(inTurn).map((e) => ({ ...e, method: 'model' })), ...mcp.filter(inTurn)].sort((a, b) => a.start - b.start);
  const requests = new Map<string, number>();
  for (const e of ours) requests.set(e.method, (requests.get(e.method) ?? 0) + 1);
  const busy = ours.filter((e) => e.method !== OPTIONAL_STREAM);
  const duration = (e: Exchange) => Math.min(e.end, turn.end) - e.start;
  const sum = (list: Exchange[]) => list.reduce((total, e) => total + duration(e), 0);

  // Walk the busy stretches in order; what lies between them (and before and after) is our time.
  const gaps = new Map<string, number>();
  let cursor = turn.start;
  let previous = 'SendMessage sent';
  let idle = 0;
  for (const e of busy) {
    const gap = Math.max(0, e.start - cursor);
    const key = `${previous} -> ${e.method}`;
    gaps.set(key, (gaps.get(key) ?? 0) + gap);
    idle += gap;
    if (Math.min(e.end, turn.end) > cursor) {
      cursor = Math.min(e.end, turn.end);
      previous = e.method;
    }
  }
  const tail = Math.max(0, turn.end - cursor);
  gaps.set(`${previous} -> response read`, tail);
  idle += tail;

  return {
    total: turn.end - turn.start,
    model: sum(busy.filter((e) => e.method === 'model')),
    toolCall: sum(busy.filter((e) => e.method === 'tools/call')),
    mcpSetup: sum(busy.filter((e) => e.method !== 'model' && e.method !== 'tools/call')),
    overhead: idle,
    gaps,
    requests,
  };
}

export function printToolLoop(result: ToolLoop): void {
  const { model, mcp } = result;
  const turns = result.turns.map((t) => breakdown(t, model, mcp));
  const echo = result.echoTurns.map((t) => t.end - t.start);
  const row = (name: string, values: number[]) => [name, ms(percentile(values, 50)), ms(percentile(values, 99)), ms(values.reduce((a, b) => a + b, 0) / values.length)];

  console.log();
  printTable(
    ['per tool turn', 'p50 ms', 'p99 ms', 'mean ms'],
    [
      row('total (SendMessage sent -> response read)', turns.map((t) => t.total)),
      row('model (2 router requests)', turns.map((t) => t.model)),
      row('tool (MCP tools/call)', turns.map((t) => t.toolCall)),
      row('MCP connect (initialize, notifications/initialized)', turns.map((t) => t.mcpSetup)),
      row('loop overhead (in no model or MCP request)', turns.map((t) => t.overhead)),
      row('echo turn total (no model, no tool)', echo),
    ],
  );
  console.log(`(${result.turns.length} sequential turns after ${result.warmUpTurns} warm-up turns; model and MCP times are measured at timing proxies in front of them)`);

  console.log();
  const keys = [...new Set(turns.flatMap((t) => [...t.gaps.keys()]))];
  printTable(
    ['loop overhead, by stretch', 'p50 ms', 'p99 ms', 'mean ms'],
    keys.map((key) => row(key, turns.map((t) => t.gaps.get(key) ?? 0))),
  );
  const toolToModel = turns.map((t) => t.gaps.get('tools/call -> model') ?? NaN);
  console.log(`tools/call answer finished -> next model request arrived: p50 ${ms(percentile(toolToModel, 50))} ms, p99 ${ms(percentile(toolToModel, 99))} ms`);

  // The first turn lists the tools; later ones take the listing from the 60 s cache.
  const first = breakdown(result.firstTurn, model, mcp).requests;
  const kinds = [...new Set([...first.keys(), ...turns.flatMap((t) => [...t.requests.keys()])])];
  const measuredCounts = (kind: string) => {
    const counts = turns.map((t) => t.requests.get(kind) ?? 0);
    const low = Math.min(...counts);
    const high = Math.max(...counts);
    return low === high ? `${low}` : `${low}-${high}`;
  };
  console.log();
  printTable(
    ['requests per turn', ...kinds],
    [
      ['first turn (warm-up)', ...kinds.map((k) => `${first.get(k) ?? 0}`)],
      ['each measured turn', ...kinds.map(measuredCounts)],
    ],
  );
  console.log(`(${OPTIONAL_STREAM}: the optional server-to-client stream the MCP client asks for after connecting; the proxy answers 405 and nothing waits on it, so it is left out of the times above)`);
}

function ms(value: number): string {
  return value.toFixed(2);
}
