/**
 * Token exchange, both kinds:
 * - Hugging Face token exchange for organization members: a caller admitted by the company's
 *   OpenID provider gets an `hf_oauth_...` token of their own from the Hub (a loopback stand-in of
 *   its /oauth/token, with the documented request, answers and errors), and the model router and
 *   the MCP server see that member's token: never the server's HF_TOKEN, never another member's.
 * - RFC 8693 at the OpenID provider for other tool servers (`auth.exchange` in an agent file): the
 *   tool server gets a short-lived token bound to its audience and scope, not the caller's own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { TaskState, type Task } from '@a2a-js/sdk';
import { startServerProcess, startTestServer, withTestServer, type ServerProcess } from './support/server.ts';
import { agentsDir, card } from './support/agents.ts';
import { fakeToken } from './support/fake-hub.ts';
import { EMAIL_TOKEN_TYPE, startFakeHubExchange, type FakeHubExchange } from './support/fake-hub-exchange.ts';
import { startFakeRouter, type FakeRouter, type RecordedRequest, type Reply } from './support/fake-router.ts';
import { startMcpServer, type TestMcpServer } from './support/mcp-server.ts';
import { rawRequest } from './support/http.ts';
import { clientFor } from './support/clients.ts';
import { startTestIssuer, type TestIssuer } from './support/oidc-provider.ts';
import type { RunningServer } from '../src/server.ts';

const AUDIENCE = 'https://agents.acme.test';
const TOOLS_AUDIENCE = 'https://tools.acme.test';
const APP = { clientId: 'org-exchange-app', clientSecret: `exchange-secret-${crypto.randomUUID()}` };
const SERVER_TOKEN = fakeToken('server');
const MEMBERS = 50;

let issuer: TestIssuer;
let hub: FakeHubExchange;
let router: FakeRouter;
let mcp: TestMcpServer;
let tools: TestMcpServer;
let server: RunningServer;

/** The model: ask for one tool call naming the caller (from the message), then answer with what it said. */
const toolThenAnswer = (request: RecordedRequest): Reply => {
  const messages = request.body.messages as Array<{ role: string; content: string }>;
  const tool = messages.find((m) => m.role === 'tool');
  if (tool) return { text: `Tool: ${tool.content}` };
  const who = messages.filter((m) => m.role === 'user').at(-1)!.content;
  return { toolCalls: [{ name: 'hub__search_models', arguments: JSON.stringify({ query: who }) }] };
};

function env(extra: Record<string, string> = {}) {
  return {
    A2A_OIDC_ISSUER: issuer.url,
    A2A_OIDC_AUDIENCE: AUDIENCE,
    A2A_OIDC_CREDENTIAL: 'hf-exchange',
    HF_EXCHANGE_CLIENT_ID: APP.clientId,
    HF_EXCHANGE_CLIENT_SECRET: APP.clientSecret,
    A2A_OIDC_CLIENT_ID: issuer.client.id,
    A2A_OIDC_CLIENT_SECRET: issuer.client.secret,
    HF_ENDPOINT: hub.url,
    HF_INFERENCE_ENDPOINT: router.url,
    HF_TOKEN: SERVER_TOKEN,
    ...extra,
  };
}

function cards() {
  return {
    'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
    'hub.md': card({ name: 'hub', model: 'hf.acme/tool-user', use_history: false, mcp_connect: { hub: { target: mcp.url, auth: { forward: 'huggingface' } } } }),
    'tools.md': card({ name: 'tools', model: 'hf.acme/tool-user', use_history: false, mcp_connect: { hub: { target: tools.url, auth: { exchange: { audience: TOOLS_AUDIENCE, scope: 'tools:read' } } } } }),
    'greedy.md': card({ name: 'greedy', model: 'hf.acme/tool-user', use_history: false, mcp_connect: { hub: { target: tools.url, auth: { exchange: { audience: TOOLS_AUDIENCE, scope: 'tools:admin' } } } } }),
  };
}

before(async () => {
  issuer = await startTestIssuer({ audience: AUDIENCE, scopes: ['agents:read'], downstreams: { [TOOLS_AUDIENCE]: ['tools:read'] } });
  hub = await startFakeHubExchange(APP);
  for (let i = 0; i < MEMBERS; i++) {
    issuer.users.set(`member${i}`, { sub: `member${i}`, email: `member${i}@acme.test` });
    hub.members.set(`member${i}@acme.test`, `member${i}`);
  }
  issuer.users.set('outsider', { sub: 'outsider', email: 'outsider@elsewhere.test' });
  issuer.users.set('unverified', { sub: 'unverified', email: 'member1@acme.test', emailVerified: false });
  issuer.users.set('blocked', { sub: 'blocked', email: 'member2@acme.test', exchangeRefused: true });
  router = await startFakeRouter(toolThenAnswer);
  mcp = await startMcpServer();
  tools = await startMcpServer();
  server = await startTestServer({ cards: cards(), env: env() });
});
after(async () => {
  await server.close();
  for (const service of [tools, mcp, router, hub, issuer]) await service.close();
});

const rpc = (base: string, token: string, text: string, agent?: string) =>
  rawRequest(
    base,
    'POST',
    '/a2a/jsonrpc',
    { Authorization: `Bearer ${token}`, 'A2A-Version': '1.0' },
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...(agent && { metadata: { agent } }) } } }),
  );
const taskOf = (response: { body: string }) => JSON.parse(response.body).result.task;
const statusText = (task: { status: { message?: { parts: Array<{ text?: string }> } } }) => task.status.message?.parts.map((part) => part.text ?? '').join('') ?? '';

describe('Hugging Face token exchange for organization members', () => {
  test('a member\'s model and Hugging Face MCP calls carry the token exchanged for them, made with the documented request', async () => {
    const routerBefore = router.requests.length;
    const mcpBefore = mcp.requests.length;
    const response = await rpc(server.url, await issuer.userToken('member0'), 'member0', 'hub');
    const task = taskOf(response);
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED', statusText(task));
    const [issued] = hub.issued.get('member0@acme.test')!;
    assert.match(issued!, /^hf_oauth_/);
    const call = hub.calls.at(-1)!;
    assert.deepEqual(
      { clientId: call.clientId, secretOk: call.secretOk, grantType: call.grantType, subject: call.subjectToken, type: call.subjectTokenType, scope: call.scope },
      { clientId: APP.clientId, secretOk: true, grantType: 'urn:ietf:params:oauth:grant-type:token-exchange', subject: 'member0@acme.test', type: EMAIL_TOKEN_TYPE, scope: 'inference-api' },
    );
    const models = router.requests.slice(routerBefore);
    assert.equal(models.length, 2, 'a tool call, then the answer');
    for (const request of models) assert.equal(request.headers.authorization, `Bearer ${issued}`);
    const toolRequests = mcp.requests.slice(mcpBefore);
    assert.ok(toolRequests.some((request) => request.tool === 'search_models'));
    for (const request of toolRequests) assert.equal(request.authorization, `Bearer ${issued}`);
  });

  test('the exchanged token is cached: a second message makes no second exchange', async () => {
    const before = hub.calls.length;
    const task = taskOf(await rpc(server.url, await issuer.userToken('member0'), 'member0 again', 'hub'));
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(hub.calls.length, before);
  });

  test(`${MEMBERS} members at once each get their own token, one exchange each, for every model and tool call`, { timeout: 60_000 }, async () => {
    hub.delayMs = 50;
    const routerBefore = router.requests.length;
    const mcpBefore = mcp.requests.length;
    const callsBefore = hub.calls.length;
    try {
      const tokens = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => issuer.userToken(`member${i}`)));
      // Member 3 sends three messages at once: still one exchange for them.
      const sends = tokens.map((token, i) => rpc(server.url, token, `member${i}`, 'hub'));
      sends.push(rpc(server.url, tokens[3]!, 'member3', 'hub'), rpc(server.url, tokens[3]!, 'member3', 'hub'));
      const tasks = (await Promise.all(sends)).map(taskOf);
      for (const task of tasks) assert.equal(task.status.state, 'TASK_STATE_COMPLETED', statusText(task));
    } finally {
      hub.delayMs = 0;
    }
    assert.equal(hub.calls.length - callsBefore, MEMBERS - 1, 'one exchange per member (member0 was cached already)');
    assert.equal(hub.maxConcurrentPerEmail, 1, 'never two exchanges at once for one member');

    const tokenOf = (name: string) => hub.issued.get(`${name}@acme.test`)!.at(-1)!;
    for (const request of router.requests.slice(routerBefore)) {
      const messages = request.body.messages as Array<{ role: string; content: string }>;
      const who = messages.filter((m) => m.role === 'user').at(-1)!.content;
      assert.equal(request.headers.authorization, `Bearer ${tokenOf(who)}`, `the router got ${who}'s own token`);
    }
    const toolCalls = mcp.requests.slice(mcpBefore).filter((request) => request.tool === 'search_models');
    assert.equal(toolCalls.length, MEMBERS + 2);
    for (const request of toolCalls) {
      const who = String(request.arguments?.query);
      assert.equal(request.authorization, `Bearer ${tokenOf(who)}`, `the MCP server got ${who}'s own token`);
      assert.equal(hub.owners.get(request.authorization!.slice(7)), who);
    }
    const everything = [...router.requests, ...mcp.requests.map((r) => ({ headers: { authorization: r.authorization } }))];
    assert.ok(everything.every((request) => request.headers.authorization !== `Bearer ${SERVER_TOKEN}`), "the server's HF_TOKEN never went out");
  });

  test('not a member (invalid_grant): the task asks for another credential, says why, and nothing is called', async () => {
    const before = router.requests.length;
    const task = taskOf(await rpc(server.url, await issuer.userToken('outsider'), 'outsider', 'hub'));
    assert.equal(task.status.state, 'TASK_STATE_AUTH_REQUIRED');
    assert.match(statusText(task), /would not issue a token for outsider@elsewhere\.test \(invalid_grant\).*Ask an organization admin/);
    assert.equal(router.requests.length, before);
    assert.equal(hub.calls.at(-1)!.outcome, 'invalid_grant');
  });

  test('an email that is not verified is never exchanged', async () => {
    const before = hub.calls.length;
    const task = taskOf(await rpc(server.url, await issuer.userToken('unverified'), 'unverified', 'hub'));
    assert.equal(task.status.state, 'TASK_STATE_AUTH_REQUIRED');
    assert.match(statusText(task), /carries no verified email \(the claims email and email_verified: true\)/);
    assert.equal(hub.calls.length, before, 'member1\'s token was not handed to someone who merely claims their email');
  });

  test('a client-credentials token has no user to exchange for', async () => {
    const task = taskOf(await rpc(server.url, await issuer.clientCredentialsToken('agents:read'), 'service', 'hub'));
    assert.equal(task.status.state, 'TASK_STATE_AUTH_REQUIRED');
    assert.match(statusText(task), /client-credentials token has no user/);
  });

  test('an agent that calls no Hugging Face service runs without any exchange', async () => {
    const before = hub.calls.length;
    const task = taskOf(await rpc(server.url, await issuer.userToken('outsider'), 'just echo'));
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(hub.calls.length, before);
  });

  test('a wrong app secret (invalid_client) fails the task with words for the operator', async () => {
    await withTestServer({ cards: cards(), env: env({ HF_EXCHANGE_CLIENT_SECRET: 'not-the-secret' }) }, async (other) => {
      const task = taskOf(await rpc(other.url, await issuer.userToken('member5'), 'member5', 'hub'));
      assert.equal(task.status.state, 'TASK_STATE_FAILED');
      assert.match(statusText(task), /refused this server's token-exchange app \(invalid_client\).*HF_EXCHANGE_CLIENT_ID and HF_EXCHANGE_CLIENT_SECRET/);
    });
  });

  test('a scope the app may not grant (invalid_scope) fails the task naming HF_EXCHANGE_SCOPE', async () => {
    await withTestServer({ cards: cards(), env: env({ HF_EXCHANGE_SCOPE: 'manage-everything' }) }, async (other) => {
      const task = taskOf(await rpc(other.url, await issuer.userToken('member6'), 'member6', 'hub'));
      assert.equal(task.status.state, 'TASK_STATE_FAILED');
      assert.match(statusText(task), /refused the scope "manage-everything".*HF_EXCHANGE_SCOPE/);
    });
  });

  test('a cached token is used until shortly before its expires_in, then exchanged again', async () => {
    let now = Date.now();
    await withTestServer({ cards: cards(), env: env(), identityOptions: { exchange: { now: () => now } } }, async (other) => {
      const before = hub.calls.length;
      const token = await issuer.userToken('member7');
      const turn = async () => assert.equal(taskOf(await rpc(other.url, token, 'member7', 'hub')).status.state, 'TASK_STATE_COMPLETED');
      await turn();
      now += (28_800 - 120) * 1000; // two minutes before the 8 hours are up: still good
      await turn();
      assert.equal(hub.calls.length - before, 1);
      now += 90 * 1000; // thirty seconds before: inside the margin, so exchanged anew
      await turn();
      assert.equal(hub.calls.length - before, 2);
      const [first, second] = hub.issued.get('member7@acme.test')!.slice(-2);
      assert.equal(router.requests.at(-1)!.headers.authorization, `Bearer ${second}`);
      assert.notEqual(first, second);
    });
  });
});

describe('RFC 8693 exchange for other tool servers (auth.exchange)', () => {
  test('the tool server gets a short-lived token for its own audience and scope, never the caller\'s', async () => {
    const own = await issuer.userToken('member8');
    const before = tools.requests.length;
    const exchangesBefore = issuer.exchanges.length;
    const task = taskOf(await rpc(server.url, own, 'member8', 'tools'));
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED', statusText(task));
    const seen = tools.requests.slice(before);
    assert.ok(seen.some((request) => request.tool === 'search_models'));
    const sent = new Set(seen.map((request) => request.authorization));
    assert.equal(sent.size, 1);
    const token = [...sent][0]!.replace(/^Bearer /, '');
    assert.notEqual(token, own);
    const claims = decodeJwt(token);
    assert.deepEqual({ sub: claims.sub, aud: claims.aud, scope: claims.scope, iss: claims.iss }, { sub: 'member8', aud: TOOLS_AUDIENCE, scope: 'tools:read', iss: issuer.url });
    assert.ok(claims.exp! - claims.iat! <= 300, 'short-lived');
    assert.deepEqual(issuer.exchanges.slice(exchangesBefore).map((e) => [e.subjectSub, e.audience, e.scope, e.outcome]), [['member8', TOOLS_AUDIENCE, 'tools:read', 'issued']]);
  });

  test('cached per caller, audience and scope: the next turn makes no exchange; another caller gets their own', async () => {
    const before = issuer.exchanges.length;
    assert.equal(taskOf(await rpc(server.url, await issuer.userToken('member8'), 'member8', 'tools')).status.state, 'TASK_STATE_COMPLETED');
    assert.equal(issuer.exchanges.length, before);
    assert.equal(taskOf(await rpc(server.url, await issuer.userToken('member9'), 'member9', 'tools')).status.state, 'TASK_STATE_COMPLETED');
    assert.equal(issuer.exchanges.length, before + 1);
    assert.equal(issuer.exchanges.at(-1)!.subjectSub, 'member9');
  });

  test('a refused exchange (a subject the issuer will not exchange) puts the task in auth-required, naming the server', async () => {
    const before = tools.requests.length;
    const task = taskOf(await rpc(server.url, await issuer.userToken('blocked'), 'blocked', 'tools'));
    assert.equal(task.status.state, 'TASK_STATE_AUTH_REQUIRED');
    assert.match(statusText(task), /MCP server "hub".*would not exchange your token for one for https:\/\/tools\.acme\.test.*invalid_grant/);
    assert.equal(tools.requests.length, before, 'the tool server got nothing');
  });

  test('a scope beyond what the audience allows is refused the same way (invalid_scope)', async () => {
    const task = taskOf(await rpc(server.url, await issuer.userToken('member10'), 'member10', 'greedy'));
    assert.equal(task.status.state, 'TASK_STATE_AUTH_REQUIRED');
    assert.match(statusText(task), /with the scope tools:admin \(invalid_scope/);
  });

  test('a caller with another kind of credential cannot use an exchange-only tool server', async () => {
    const keyed = `key-${crypto.randomUUID()}`;
    await withTestServer({ cards: cards(), env: env({ A2A_API_KEYS: `ci:${keyed}`, A2A_API_KEYS_CREDENTIAL: 'server' }) }, async (other) => {
      const task = taskOf(await rpc(other.url, keyed, 'ci', 'tools'));
      assert.equal(task.status.state, 'TASK_STATE_AUTH_REQUIRED');
      assert.match(statusText(task), /takes only tokens exchanged from a sign-in with this server's OpenID Connect issuer/);
    });
  });
});

describe('as a process: no exchanged token, client secret or access token reaches a log line, a task or a response', () => {
  let processServer: ServerProcess;
  before(async () => {
    processServer = await startServerProcess({ ...env(), LOG_LEVEL: 'debug' }, ['--agent-cards', agentsDir(cards())]);
  });
  after(() => processServer?.stop());

  test('exchanges, refusals and tool calls leave no secret anywhere', { timeout: 30_000 }, async () => {
    const seen: string[] = [];
    const tokens = [await issuer.userToken('member11'), await issuer.userToken('member12'), await issuer.userToken('outsider'), await issuer.userToken('blocked')];
    // The router quotes the credential it got back in its errors, as careless upstreams do.
    router.script = (request) => {
      const who = (request.body.messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'user').at(-1)!.content;
      return who === 'member11' ? { status: 401, message: `token refused: ${request.headers.authorization}` } : toolThenAnswer(request);
    };
    try {
      for (const [i, token] of tokens.entries()) {
        for (const agent of ['hub', 'tools']) {
          const response = await rpc(processServer.url, token, i < 2 ? `member1${i + 1}` : 'x', agent);
          seen.push(JSON.stringify(response.headers), response.body);
          const id = JSON.parse(response.body).result?.task?.id;
          if (id) {
            const read = await rawRequest(processServer.url, 'GET', `/a2a/rest/tasks/${id}`, { Authorization: `Bearer ${token}`, 'A2A-Version': '1.0' });
            seen.push(read.body);
          }
        }
      }
    } finally {
      router.script = toolThenAnswer;
    }
    await processServer.stop();
    const output = processServer.output();
    assert.match(output, /"message":"token exchanged"/, 'exchanges happened and were logged');
    const issued = [...hub.issued.get('member11@acme.test')!, ...hub.issued.get('member12@acme.test')!];
    assert.ok(issued.length >= 2);
    const secrets = [...issued, ...issued.map((t) => t.slice(9)), APP.clientSecret, issuer.client.secret, SERVER_TOKEN, ...tokens, ...tokens.map((t) => t.split('.')[2]!)];
    for (const secret of secrets) {
      assert.ok(!output.includes(secret), `the server output holds a secret: ${secret.slice(0, 12)}...`);
      assert.ok(!seen.some((text) => text.includes(secret)), `a response holds a secret: ${secret.slice(0, 12)}...`);
    }
  });
});

test('a task of one member is never readable by another', async () => {
  const mine = taskOf(await rpc(server.url, await issuer.userToken('member13'), 'member13', 'hub'));
  const other = await clientFor(server.url, 'jsonrpc', await issuer.userToken('member14'));
  await assert.rejects(other.getTask({ id: mine.id, tenant: '', historyLength: undefined }), /not found/i);
  const own = await clientFor(server.url, 'jsonrpc', await issuer.userToken('member13'));
  const task: Task = await own.getTask({ id: mine.id, tenant: '', historyLength: undefined });
  assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
});
