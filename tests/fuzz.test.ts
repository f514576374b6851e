/**
 * Property-based tests (fast-check) against the running server in this process: random JSON-RPC
 * envelopes and params, random REST paths, queries and bodies, random headers sent byte for byte,
 * and random agent card files. Whatever comes in: never a 500, never a -32603, never a crash, and
 * the event loop stays responsive throughout (/healthz keeps answering fast).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import fc from 'fast-check';
import { stringify as yamlStringify } from 'yaml';
import { startTestServer } from './support/server.ts';
import { ECHO_AGENTS } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { socketExchange, watchEventLoop, type LoopDelay } from './support/observe.ts';
import { AgentCardError, parseAgentCard, type AgentSpec } from '../src/agents/agent-set.ts';
import { redact } from '../src/util/redact.ts';
import type { RunningServer } from '../src/server.ts';

/** Fixed, so a run is reproducible; FUZZ_SEED=<n> explores other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_131);

let hub: FakeHub;
let open: RunningServer;
let guarded: RunningServer;
const KNOWN = fakeToken('fuzzer');
let loop: LoopDelay;
const healthMs: number[] = [];
const healthStatuses = new Set<number>();
let poller: NodeJS.Timeout;
let pollingSince = 0;

before(async () => {
  hub = await startFakeHub({ [KNOWN]: { name: 'fuzzer' } });
  open = await startTestServer({ cards: ECHO_AGENTS });
  guarded = await startTestServer({ cards: ECHO_AGENTS, env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url } });
  loop = watchEventLoop(10);
  pollingSince = performance.now();
  poller = setInterval(() => {
    const started = performance.now();
    void fetch(`${open.url}/healthz`).then(
      async (response) => {
        await response.arrayBuffer();
        healthStatuses.add(response.status);
        healthMs.push(performance.now() - started);
      },
      () => healthStatuses.add(0),
    );
  }, 50);
});
after(async () => {
  clearInterval(poller);
  await open.close();
  await guarded.close();
  await hub.close();
});

// Values.

/** JSON text spliced in as is: numbers and escapes JSON.stringify would never write. */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${toJson(item)}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const FIELDS = [
  'message', 'messageId', 'message_id', 'role', 'parts', 'text', 'raw', 'url', 'data', 'metadata', 'contextId', 'context_id', 'taskId',
  'referenceTaskIds', 'extensions', 'configuration', 'historyLength', 'returnImmediately', 'acceptedOutputModes', 'blocking', 'id', 'tenant',
  'kind', 'file', 'bytes', 'uri', 'name', 'mimeType', 'filename', 'mediaType', 'pageSize', 'pageToken', 'status', 'statusTimestampAfter',
  'includeArtifacts', 'agent', '__proto__', 'constructor', 'toString', 'valueOf',
];

const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\n{"level":"error","message":"forged"}', '\r\n', '\u2028', '\uFEFF', '\uD800', '\u202E', 'ROLE_USER', 'ROLE_AGENT', 'user', 'agent',
    'TASK_STATE_WORKING', 'echo', 'parrot', '../..', '%00', '%ZZ', `hf_${'a'.repeat(20)}`, '2026-01-31T12:00:00Z', 'aGVsbG8=', '=', 'x'.repeat(300), 'é'.repeat(2_000)),
);
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-1, 0, 1, 8, 100, 101, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e-308),
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '0.0000000000000000000001', '1E+2', '9007199254740993').map((text) => new Raw(text)),
);
const rawString = fc.constantFrom('"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000\\u001f"').map((text) => new Raw(text));
const leaf = fc.oneof(oddString, oddNumber, fc.boolean(), fc.constant(null), rawString);
const { value: anyJson } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), oddString), tie('value'), { maxKeys: 5 }),
  ),
}));
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof(arbitrary, anyJson);

const part = fc.oneof(
  fc.record({ text: maybe(oddString), metadata: anyJson, filename: maybe(oddString), mediaType: maybe(oddString) }, { requiredKeys: [] }),
  fc.record({ raw: maybe(fc.constantFrom('aGVsbG8=', '', '!!!', 'a'.repeat(10))), url: anyJson, data: anyJson }, { requiredKeys: [] }),
  fc.record({ kind: maybe(fc.constantFrom('text', 'file', 'data')), text: anyJson, file: maybe(fc.record({ bytes: anyJson, uri: anyJson, name: anyJson, mimeType: anyJson }, { requiredKeys: [] })), data: anyJson }, { requiredKeys: [] }),
  anyJson,
);
const messageShape = fc.record(
  {
    messageId: maybe(oddString),
    role: maybe(fc.constantFrom('ROLE_USER', 'ROLE_AGENT', 'user', 'agent', 1, 2, 0)),
    kind: maybe(fc.constant('message')),
    parts: maybe(fc.array(part, { maxLength: 4 })),
    contextId: maybe(oddString),
    taskId: maybe(oddString),
    referenceTaskIds: maybe(fc.array(oddString, { maxLength: 4 })),
    extensions: maybe(fc.array(oddString, { maxLength: 3 })),
    metadata: maybe(fc.record({ agent: maybe(fc.constantFrom('echo', 'parrot', 'nobody')) }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const paramsShape = fc.oneof(
  fc.record(
    {
      message: maybe(messageShape),
      configuration: maybe(fc.record({ historyLength: maybe(oddNumber), returnImmediately: anyJson, blocking: anyJson, acceptedOutputModes: anyJson }, { requiredKeys: [] })),
      metadata: anyJson,
      tenant: maybe(oddString),
    },
    { requiredKeys: [] },
  ),
  fc.record({ id: maybe(oddString), historyLength: maybe(oddNumber), tenant: anyJson, metadata: anyJson }, { requiredKeys: [] }),
  fc.record({ pageSize: maybe(oddNumber), pageToken: maybe(oddString), status: maybe(fc.constantFrom('TASK_STATE_WORKING', 3, 9, -1)), contextId: anyJson, historyLength: anyJson, statusTimestampAfter: maybe(oddString), includeArtifacts: anyJson }, { requiredKeys: [] }),
  anyJson,
);
const METHODS = [
  'SendMessage', 'SendStreamingMessage', 'GetTask', 'ListTasks', 'CancelTask', 'SubscribeToTask', 'GetExtendedAgentCard',
  'CreateTaskPushNotificationConfig', 'GetTaskPushNotificationConfig', 'ListTaskPushNotificationConfigs', 'DeleteTaskPushNotificationConfig',
  'message/send', 'message/stream', 'tasks/get', 'tasks/cancel', 'tasks/resubscribe', 'tasks/pushNotificationConfig/set', 'agent/getAuthenticatedExtendedCard',
];
const envelope = fc.record(
  {
    jsonrpc: maybe(fc.constant('2.0')),
    id: fc.oneof(fc.integer(), oddString, fc.constant(null), anyJson),
    method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: oddString }),
    params: fc.oneof({ weight: 4, arbitrary: paramsShape }, { weight: 1, arbitrary: anyJson }),
  },
  { requiredKeys: [] },
);
const versionHeader = fc.oneof(fc.constantFrom<string | undefined>('1.0', '', '0.3', undefined, '1.0, 0.3', '2.0'), fc.string({ maxLength: 10 }));

// Requests.

interface Received {
  status: number;
  contentType: string;
  body: string;
}

/** One request over node:http, with the path sent as given; the whole answer. */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Received> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: text }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer within 5 s: ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** What no answer may be: a 500, a -32603 (in a body or any SSE event), an internal message or a stack trace. */
function assertWellFormed(answer: Received, what: string): void {
  assert.ok(answer.status > 0 && answer.status < 500, `${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  assert.doesNotMatch(answer.body, /Internal error|\n\s+at \S|node_modules/, `${what}: ${answer.body.slice(0, 300)}`);
  const documents: unknown[] = [];
  if (answer.contentType.startsWith('text/event-stream')) {
    for (const line of answer.body.split('\n')) if (line.startsWith('data: ')) documents.push(JSON.parse(line.slice(6)));
  } else if (answer.contentType.includes('json') && answer.body) {
    documents.push(JSON.parse(answer.body));
  }
  for (const document of documents) {
    const code = (document as { error?: { code?: unknown } })?.error?.code;
    assert.notEqual(code, -32603, `${what}: an internal error: ${JSON.stringify(document).slice(0, 300)}`);
  }
}

const runs = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

describe('random JSON-RPC requests', () => {
  test('random envelopes and params, in every method: never a 500 or a -32603', async () => {
    await fc.assert(
      fc.asyncProperty(envelope, versionHeader, async (body, version) => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(version !== undefined && { 'A2A-Version': version }) };
        const answer = await send(open.url, 'POST', '/a2a/jsonrpc', headers, toJson(body));
        assertWellFormed(answer, `POST /a2a/jsonrpc ${toJson(body).slice(0, 300)}`);
      }),
      {
        ...runs(400),
        // Found by this property: a 0.3 push-config "set" without its config reaches a decoder that throws.
        examples: [[{ jsonrpc: '2.0', id: 1, method: 'tasks/pushNotificationConfig/set', params: { taskId: 'x' } }, undefined]],
      },
    );
  });

  test('random JSON documents and broken JSON as the body: a JSON-RPC error, never a 500', async () => {
    const text = fc.oneof(anyJson.map(toJson), fc.string({ maxLength: 200 }), anyJson.map((v) => toJson(v).slice(0, -1)), fc.constantFrom('', '[]', '[[]]', 'null', '{"jsonrpc":"2.0","method":"SendMessage","params":{"message":'));
    await fc.assert(
      fc.asyncProperty(text, fc.constantFrom('application/json', 'application/a2a+json', 'application/json; charset=latin1', 'text/plain', 'APPLICATION/JSON'), async (body, contentType) => {
        const answer = await send(open.url, 'POST', '/a2a/jsonrpc', { 'Content-Type': contentType, 'A2A-Version': '1.0' }, body);
        assertWellFormed(answer, `POST /a2a/jsonrpc ${body.slice(0, 200)}`);
      }),
      runs(200),
    );
  });
});

describe('random REST requests', () => {
  const segment = fc.oneof(
    fc.constantFrom('tasks', 'message:send', 'message:stream', 'extendedAgentCard', 'pushNotificationConfigs', 'x:cancel', 'x:subscribe', ':cancel', 'tasks:subscribe', '..', '.', '', '%2F', '%2e%2e', '%00', '%ZZ', '%', '%E2%80%AE', 'TASKS', 'ÿ', 'x'.repeat(3_000)),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
    fc.string({ unit: 'grapheme', maxLength: 10 }).map(encodeURIComponent),
  );
  const query = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom('pageSize', 'historyLength', 'status', 'contextId', 'pageToken', 'includeArtifacts', 'statusTimestampAfter', 'tenant'), fc.string({ maxLength: 8 })),
      fc.oneof(fc.constantFrom('1', '0', '-1', '100', '101', '1e3', 'true', 'TASK_STATE_WORKING', '9', '2026-01-31T12:00:00Z', '%', ''), fc.string({ maxLength: 20 })),
    ),
    { maxLength: 4 },
  );
  const restBody = fc.oneof(paramsShape.map(toJson), fc.constant(undefined), fc.string({ maxLength: 50 }));

  test('random paths, queries, methods and bodies under /a2a/rest: never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        query,
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'),
        restBody,
        fc.constantFrom('application/json', 'application/a2a+json', 'text/plain', ''),
        versionHeader,
        async (segments, pairs, method, body, contentType, version) => {
          const search = pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
          const path = `/a2a/rest/${segments.join('/')}${search}`;
          const headers: Record<string, string> = { ...(contentType && { 'Content-Type': contentType }), ...(version !== undefined && { 'A2A-Version': version }) };
          const answer = await send(open.url, method, path, headers, method === 'GET' || method === 'HEAD' ? undefined : body);
          assertWellFormed(answer, `${method} ${path.slice(0, 200)}`);
        },
      ),
      runs(300),
    );
  });

  test('random paths anywhere (not only under /a2a): never a 500, and with auth on never past authentication', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('GET', 'POST'), async (segments, method) => {
        const path = `/${segments.join('/')}`;
        const answer = await send(guarded.url, method, path, { 'A2A-Version': '1.0', 'Content-Type': 'application/json' }, method === 'POST' ? '{}' : undefined);
        assertWellFormed(answer, `${method} ${path.slice(0, 200)}`);
        assert.ok([401, 404, 405, 200, 304].includes(answer.status) || answer.status === 400, `${method} ${path.slice(0, 100)}: ${answer.status}`);
        // fetch and servers resolve dot segments ("%2e%2e" included) as URLs do: what counts is where the path lands.
        const landed = new URL(`http://localhost${path}`).pathname;
        if (answer.status === 200) assert.ok(/^\/(healthz|\.well-known\/(agent-card|agent)\.json|\.well-known\/oauth-protected-resource)?$/.test(landed), `${path} (${landed}) answered 200 without a token`);
      }),
      runs(200),
    );
  });
});

describe('random headers, sent byte for byte', () => {
  const headerName = fc.oneof(
    fc.constantFrom('Authorization', 'X-HF-Authorization', 'A2A-Version', 'Content-Type', 'X-Request-Id', 'X-Forwarded-For', 'A2A-Extensions', 'X-A2A-Extensions', 'If-None-Match', 'Origin', 'Access-Control-Request-Method', 'Cookie', 'Host', 'Transfer-Encoding', 'Expect'),
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/),
  );
  const headerValue = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.constantFrom('Bearer ', 'Bearer hf_', `Bearer ${KNOWN}`, `Bearer ${KNOWN} extra`, `bearer\t${KNOWN}`, `Basic ${KNOWN}`, `Bearer ${fakeToken('random')}`, 'Bearer ' + 'a'.repeat(5_000),
      'x\r\nX-Injected: 1', 'x\rY', 'x\nY', 'x\r\n continued', '\u0000', 'é', '1.0', '', ' ', 'chunked', '100-continue', '2001:db8::1, 10.0.0.1', 'a'.repeat(20_000)),
  );

  test('random header names and values (control characters, CR/LF, non-ASCII, very long): a well-formed answer, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(headerName, headerValue), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('GET /a2a/rest/tasks', 'GET /healthz', 'GET /.well-known/agent-card.json', 'OPTIONS /a2a/jsonrpc', 'GET /a2a/rest/tenant/tasks?pageSize=1'),
        async (pairs, requestLine) => {
          const head = `${requestLine} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${pairs.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`;
          const exchange = await socketExchange(guarded.url, [Buffer.from(head, 'latin1')], { timeoutMs: 3_000 });
          assert.ok(exchange.status > 0, `an HTTP answer came: ${JSON.stringify(exchange.response.slice(0, 200))} (${exchange.error ?? 'no error'}) for ${JSON.stringify(head.slice(0, 300))}`);
          for (const status of exchange.response.matchAll(/^HTTP\/1\.1 (\d{3})/gm)) assert.ok(Number(status[1]) < 500, `HTTP ${status[1]} for ${JSON.stringify(head.slice(0, 300))}`);
          assert.doesNotMatch(exchange.response, /Internal error|\n\s+at \S/);
          assert.doesNotMatch(exchange.response, new RegExp(KNOWN.slice(3)), 'no token is echoed back');
        },
      ),
      runs(200),
    );
  });
});

describe('random agent card files', () => {
  const OPTIONS = { defaultModel: undefined, env: { SOME_KEY: 'value', HF_TOKEN: 'hf_servertokenfuzz0001' }, hubUrl: 'https://huggingface.co' };
  const plausible = fc.record(
    {
      type: maybe(fc.constant('agent')),
      name: maybe(fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,10}$/), oddString)),
      description: maybe(oddString),
      model: maybe(fc.constantFrom('passthrough', 'hf.acme/chat', 'hf.acme/chat:fastest', 'hf.', 'gpt-4', '${SOME_KEY}', '${MISSING}', '${HF_TOKEN}', '${MISSING:-passthrough}')),
      default: anyJson,
      use_history: anyJson,
      tags: maybe(fc.array(oddString, { maxLength: 3 })),
      examples: anyJson,
      instruction: maybe(oddString),
      request_params: maybe(fc.record({ temperature: maybe(oddNumber), max_tokens: maybe(oddNumber), max_iterations: maybe(oddNumber) }, { requiredKeys: [] })),
      mcp_connect: maybe(
        fc.oneof(
          fc.dictionary(oddString, maybe(fc.record({ target: maybe(fc.constantFrom('https://huggingface.co/mcp', 'https://x.hf.space/mcp', 'http://127.0.0.1:1/mcp', 'https://evil.com/mcp', 'ftp://x', 'not a url', 'https://u:p@huggingface.co/mcp')), headers: anyJson, auth: maybe(fc.record({ forward: maybe(fc.constant('huggingface')) }, { requiredKeys: [] })), name: anyJson }, { requiredKeys: [] })), { maxKeys: 2 }),
          fc.array(anyJson, { maxLength: 2 }),
        ),
      ),
    },
    { requiredKeys: [] },
  ).map((fields) => JSON.parse(toJson(fields)));
  const cardText = fc.oneof(
    fc.tuple(plausible, oddString).map(([fields, body]) => `---\n${yamlStringify(fields)}---\n\n${body}\n`),
    fc.tuple(anyJson.map((v) => JSON.parse(toJson(v))), oddString).map(([front, body]) => `---\n${yamlStringify(front)}---\n${body}`),
    fc.string({ maxLength: 200 }),
    fc.string({ maxLength: 200 }).map((s) => `---\n${s}\n---\n`),
    fc.constantFrom('---', '---\n', '---\n---', '\uFEFF---\nname: x\n---\n', '---\r\nname: x\r\n---\r\nbody'),
  );
  const YAML_TRAPS = [
    // A billion-laughs alias bomb and an alias to nothing: a bad file like any other, not a crash of start-up.
    `---\na: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n---\nbody`,
    '---\nname: *nothing\n---\n',
    // A value whose toString is not a function, where the message quotes the value.
    '---\ntype: {toString: x}\n---\n',
  ];

  test('parseAgentCard on random files either returns a sound spec or throws AgentCardError naming the file', () => {
    fc.assert(
      fc.property(fc.oneof(cardText, fc.constantFrom(...YAML_TRAPS)), fc.boolean(), fc.constantFrom(undefined, 'passthrough', 'hf.acme/chat'), (text, callersAuthenticate, defaultModel) => {
        let spec: AgentSpec;
        try {
          spec = parseAgentCard('agents/fuzz.md', text, { ...OPTIONS, defaultModel, callersAuthenticate });
        } catch (error) {
          assert.ok(error instanceof AgentCardError, `not an AgentCardError but ${(error as Error)?.name}: ${(error as Error)?.message} for ${JSON.stringify(text.slice(0, 300))}`);
          assert.match(error.message, /^agents\/fuzz\.md: /);
          // app.ts prints the message through redact(): what matters is what that leaves.
          assert.ok(!redact(error.message).includes('servertokenfuzz0001'), 'the server token would be printed');
          return;
        }
        assert.match(spec.name, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
        assert.ok(spec.model.kind === 'passthrough' || (spec.model.kind === 'hf' && spec.model.id.length > 0));
        assert.ok(Array.isArray(spec.tags) && spec.tags.every((t) => typeof t === 'string'));
        assert.ok(Array.isArray(spec.mcpServers) && spec.mcpServers.every((s) => /^https?:/.test(s.url) && Object.values(s.headers).every((h) => typeof h === 'string')));
        assert.ok(Number.isInteger(spec.maxIterations) && spec.maxIterations >= 1);
        assert.equal(typeof spec.instruction, 'string');
        assert.equal(typeof spec.description, 'string');
      }),
      { ...runs(600), examples: YAML_TRAPS.map((text) => [text, false, 'passthrough'] as [string, boolean, string | undefined]) },
    );
  });
});

test('throughout the fuzzing, the event loop never stalled and /healthz answered within 100 ms', async () => {
  clearInterval(poller);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const { maxMs, p99Ms } = loop.stop();
  const sorted = [...healthMs].sort((a, b) => a - b);
  const p99Health = sorted[Math.floor(sorted.length * 0.99)] ?? Infinity;
  // One poll every 50 ms: at least half of them answered, however long the fuzzing took.
  const expected = Math.floor((performance.now() - pollingSince) / 50);
  assert.ok(healthMs.length >= Math.max(5, expected / 2), `/healthz was polled throughout (${healthMs.length} answers of ${expected} polls)`);
  assert.deepEqual([...healthStatuses], [200], '/healthz always answered 200');
  assert.ok(p99Ms < 100, `event-loop delay p99 ${p99Ms.toFixed(1)} ms (max ${maxMs.toFixed(1)} ms)`);
  assert.ok(p99Health < 100, `/healthz p99 ${p99Health.toFixed(1)} ms (max ${sorted.at(-1)?.toFixed(1)} ms)`);
  // Still serving normally after all of it.
  const answer = await send(open.url, 'POST', '/a2a/jsonrpc', { 'Content-Type': 'application/json', 'A2A-Version': '1.0' }, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'after', role: 'ROLE_USER', parts: [{ text: 'still here' }] } } }));
  assert.equal(JSON.parse(answer.body).result.task.status.state, 'TASK_STATE_COMPLETED');
  assert.equal(open.requestHandler.running, 0);
});
