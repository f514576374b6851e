/**
 * Authorization, with every scheme on at once (Hugging Face tokens, API keys, OIDC access tokens;
 * any one admits): per-agent scopes (403 with an insufficient_scope challenge naming them, before
 * any work, on the combined endpoint and on the agent's own), allow-lists of Hugging Face users and
 * organizations, OIDC groups and API keys, per agent and for the whole server; the extended card,
 * which lists only the skills a caller may use (1.0 JSON-RPC and REST, 0.3 JSON-RPC, with the SDK
 * clients); and the start-up checks that keep a half-configured scheme or card from starting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { startTestServer, withTestServer, runStart } from './support/server.ts';
import { agentsDir, card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { rawRequest } from './support/http.ts';
import { clientFor, legacyClientFor, userMessage, v03ClientFor } from './support/clients.ts';
import { startTestIssuer, type TestIssuer } from './support/oidc-provider.ts';
import { AgentCardError } from '../src/agents/agent-set.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { RunningServer } from '../src/server.ts';

const AUDIENCE = 'https://agents.acme.test';
const KEY_CI = `ci-${crypto.randomUUID()}`;
const KEY_OPS = `ops-${crypto.randomUUID()}`;
const HF_ALICE = fakeToken('hfalice');
const HF_BOB = fakeToken('hfbob');
const HF_CAROL = fakeToken('hfcarol');

let issuer: TestIssuer;
let hub: FakeHub;
let router: FakeRouter;
let server: RunningServer;

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true, description: 'Open to every caller.' }),
  'writer.md': card({ name: 'writer', model: 'passthrough', scopes: ['agents:write'], description: 'Needs agents:write.' }),
  'eng.md': card({ name: 'eng', model: 'passthrough', allow: { groups: ['eng'], keys: ['ci'] }, description: 'Engineering and CI only.' }),
  'acme.md': card({ name: 'acme', model: 'hf.acme/chat', allow: { orgs: ['acme'], users: ['hfbob'] }, description: 'acme members and hfbob.' }),
};

function env(extra: Record<string, string> = {}) {
  return {
    FAST_AGENT_SERVE_OAUTH: 'huggingface',
    HF_ENDPOINT: hub.url,
    HF_INFERENCE_ENDPOINT: router.url,
    A2A_API_KEYS: `ci:${KEY_CI},ops:${KEY_OPS}`,
    A2A_API_KEYS_CREDENTIAL: 'none',
    A2A_OIDC_ISSUER: issuer.url,
    A2A_OIDC_AUDIENCE: AUDIENCE,
    A2A_OIDC_CREDENTIAL: 'none',
    ...extra,
  };
}

before(async () => {
  issuer = await startTestIssuer({ audience: AUDIENCE, scopes: ['agents:read', 'agents:write'] });
  issuer.users.set('alice', { sub: 'alice', email: 'alice@acme.test', groups: ['eng'], claims: { realm_access: { roles: ['admins'] } } });
  issuer.users.set('bob', { sub: 'bob', email: 'bob@acme.test', groups: ['sales'] });
  hub = await startFakeHub({ [HF_ALICE]: { name: 'hfalice', orgs: ['acme'] }, [HF_BOB]: { name: 'HFBob' }, [HF_CAROL]: { name: 'hfcarol', orgs: ['other'] } });
  router = await startFakeRouter();
  server = await startTestServer({ cards: CARDS, env: env() });
});
after(async () => {
  await server.close();
  await router.close();
  await hub.close();
  await issuer.close();
});

type Headers = Record<string, string>;
const bearer = (token: string): Headers => ({ Authorization: `Bearer ${token}` });
const message = (agent?: string) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'hi' }], ...(agent && { metadata: { agent } }) });
const rpc = (headers: Headers, method: string, params: unknown, path = '/a2a/jsonrpc', base = server.url) =>
  rawRequest(base, 'POST', path, { 'A2A-Version': '1.0', ...headers }, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
const restSend = (headers: Headers, agent?: string, path = '/a2a/rest/message:send') => rawRequest(server.url, 'POST', path, { 'A2A-Version': '1.0', ...headers }, JSON.stringify({ message: message(agent) }));
const state = (response: { body: string }) => JSON.parse(response.body).result?.task?.status?.state;

function assertScopeRefusal(response: { status: number; headers: Record<string, unknown>; body: string }, scope = 'agents:write') {
  assert.equal(response.status, 403, response.body);
  const challenge = String(response.headers['www-authenticate']);
  assert.match(challenge, /^Bearer error="insufficient_scope", error_description="[^"]*", scope="([^"]*)"$/);
  assert.equal(/scope="([^"]*)"$/.exec(challenge)![1], scope);
  const body = JSON.parse(response.body);
  assert.match(body.error.message, new RegExp(`The agent writer needs the scope ${scope}, which your token does not carry`));
}

describe('per-agent scopes', () => {
  test('a token without the scope gets 403 with an insufficient_scope challenge, on every way to the agent, and nothing runs', async () => {
    const reader = bearer(await issuer.userToken('bob', { scope: 'agents:read' }));
    assertScopeRefusal(await rpc(reader, 'SendMessage', { message: message('writer') }));
    assertScopeRefusal(await rpc(reader, 'SendStreamingMessage', { message: message('writer') }));
    assertScopeRefusal(await restSend(reader, 'writer'));
    assertScopeRefusal(await rpc(reader, 'SendMessage', { message: message() }, '/agents/writer/a2a/jsonrpc'));
    assertScopeRefusal(await rpc(reader, 'ListTasks', {}, '/agents/writer/a2a/jsonrpc'));
    assertScopeRefusal(await rpc(reader, 'GetTask', { id: 'any' }, '/agents/writer/a2a/jsonrpc'));
    assertScopeRefusal(await restSend(reader, undefined, '/agents/writer/a2a/rest/message:send'));
    assertScopeRefusal(await rawRequest(server.url, 'GET', '/agents/writer/a2a/rest/tasks', { 'A2A-Version': '1.0', ...reader }));
    const listed = JSON.parse((await rpc(reader, 'ListTasks', {})).body).result;
    assert.equal(listed.tasks?.length ?? 0, 0, 'no task was created');
    // The same caller still reaches the open agent.
    assert.equal(state(await rpc(reader, 'SendMessage', { message: message() })), 'TASK_STATE_COMPLETED');
  });

  test('a token with the scope gets in, on both endpoints', async () => {
    const writer = bearer(await issuer.userToken('bob', { scope: 'agents:read agents:write' }));
    assert.equal(state(await rpc(writer, 'SendMessage', { message: message('writer') })), 'TASK_STATE_COMPLETED');
    assert.equal(state(await rpc(writer, 'SendMessage', { message: message() }, '/agents/writer/a2a/jsonrpc')), 'TASK_STATE_COMPLETED');
  });

  test('scopes are whole tokens: agents:write-all and agents are not agents:write; an scp list counts', async () => {
    for (const scope of ['agents:write-all', 'agents', 'agents:writ', 'xagents:write']) {
      assertScopeRefusal(await rpc(bearer(await issuer.forge({ sub: 'bob', scope })), 'SendMessage', { message: message('writer') }));
    }
    assert.equal(state(await rpc(bearer(await issuer.forge({ sub: 'bob', scp: ['agents:read', 'agents:write'] })), 'SendMessage', { message: message('writer') })), 'TASK_STATE_COMPLETED');
  });

  test('callers of schemes without that scope (an API key, a Hugging Face token) get the same 403', async () => {
    assertScopeRefusal(await rpc({ 'X-API-Key': KEY_CI }, 'SendMessage', { message: message('writer') }));
    assertScopeRefusal(await rpc(bearer(HF_ALICE), 'SendMessage', { message: message('writer') }));
  });

  test('continuing a task addresses its agent again', async () => {
    const writer = bearer(await issuer.userToken('bob', { scope: 'agents:write' }));
    const reader = bearer(await issuer.userToken('bob', { scope: 'agents:read' }));
    // bob's two tokens are one caller: the task is theirs, but the reader token may not continue it with the writer agent.
    const sent = JSON.parse((await rpc(writer, 'SendMessage', { message: message('writer') })).body).result.task;
    assert.equal(sent.status.state, 'TASK_STATE_COMPLETED');
    const again = await rpc(reader, 'SendMessage', { message: { ...message('writer'), contextId: sent.contextId } });
    assertScopeRefusal(again);
  });
});

describe('allow-lists', () => {
  test('OIDC groups: a member of the group gets in; someone else gets 403 naming what is missing', async () => {
    assert.equal(state(await rpc(bearer(await issuer.userToken('alice')), 'SendMessage', { message: message('eng') })), 'TASK_STATE_COMPLETED');
    const refused = await rpc(bearer(await issuer.userToken('bob')), 'SendMessage', { message: message('eng') });
    assert.equal(refused.status, 403);
    assert.match(JSON.parse(refused.body).error.message, /The agent eng is open only to members of the groups eng; the API keys ci; you \(groups sales\) are not among them/);
  });

  test('API keys by id: ci is allowed, ops is not', async () => {
    assert.equal(state(await rpc({ 'X-API-Key': KEY_CI }, 'SendMessage', { message: message('eng') })), 'TASK_STATE_COMPLETED');
    const refused = await rpc({ 'X-API-Key': KEY_OPS }, 'SendMessage', { message: message('eng') });
    assert.equal(refused.status, 403);
    assert.match(JSON.parse(refused.body).error.message, /you \(API key ops\) are not among them/);
  });

  test('Hugging Face organizations (from whoami) and users (any case): a member and a named user get in, others get 403', async () => {
    router.script = () => ({ text: 'ok' });
    // hfalice is in acme; hfbob is named (as HFBob on the Hub); hfcarol is neither.
    for (const token of [HF_ALICE, HF_BOB]) {
      const response = await rpc(bearer(token), 'SendMessage', { message: message('acme') });
      assert.equal(response.status, 200, response.body);
      // The agent runs a model and Hugging Face callers bring their own token: it is the one the router sees.
      assert.equal(router.requests.at(-1)!.headers.authorization, `Bearer ${token}`);
    }
    const before = router.requests.length;
    const refused = await rpc(bearer(HF_CAROL), 'SendMessage', { message: message('acme') });
    assert.equal(refused.status, 403);
    assert.match(JSON.parse(refused.body).error.message, /open only to the Hugging Face users hfbob; members of the Hugging Face organizations acme; you \(Hugging Face user hfcarol, in other\)/);
    assert.equal(router.requests.length, before, 'nothing ran');
  });

  test('an allow-list never lets in a caller whose scheme cannot match it', async () => {
    const refused = await rpc(bearer(await issuer.userToken('alice')), 'SendMessage', { message: message('acme') });
    assert.equal(refused.status, 403, 'alice is in eng, but acme lists Hugging Face accounts');
  });

  test('the server\'s own allow-list (A2A_ALLOW_ORGS): others get 403 before anything; API keys pass, being allowed by being configured', async () => {
    await withTestServer({ cards: CARDS, env: env({ A2A_ALLOW_ORGS: 'acme', A2A_ALLOW_GROUPS: 'eng' }) }, async (strict) => {
      const send = (headers: Headers) => rpc(headers, 'SendMessage', { message: message() }, '/a2a/jsonrpc', strict.url);
      assert.equal((await send(bearer(HF_ALICE))).status, 200);
      assert.equal((await send(bearer(await issuer.userToken('alice')))).status, 200);
      assert.equal((await send({ 'X-API-Key': KEY_OPS })).status, 200);
      for (const refusedHeaders of [bearer(HF_CAROL), bearer(await issuer.userToken('bob'))]) {
        const refused = await send(refusedHeaders);
        assert.equal(refused.status, 403);
        assert.match(JSON.parse(refused.body).error.message, /^This server is open only to members of the Hugging Face organizations acme; members of the groups eng; the API keys ci, ops; you/);
      }
    });
  });

  test('A2A_OIDC_GROUPS_CLAIM reads groups from another claim, by a dotted path', async () => {
    const cards = { 'echo.md': card({ name: 'echo', model: 'passthrough', default: true, allow: { groups: ['admins'] } }) };
    await withTestServer({ cards, env: { A2A_OIDC_ISSUER: issuer.url, A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none', A2A_OIDC_GROUPS_CLAIM: 'realm_access.roles' } }, async (other) => {
      const send = async (sub: string) => rpc(bearer(await issuer.userToken(sub)), 'SendMessage', { message: message() }, '/a2a/jsonrpc', other.url);
      assert.equal((await send('alice')).status, 200);
      assert.equal((await send('bob')).status, 403);
    });
  });
});

describe('the extended card lists the skills the caller may use', () => {
  const skillsOf = (card: { skills: Array<{ id: string }> }) => card.skills.map((skill) => skill.id).sort();

  test('1.0 over JSON-RPC and REST, with the SDK client', async () => {
    const alice = await issuer.userToken('alice', { scope: 'agents:read agents:write' });
    const bob = await issuer.userToken('bob', { scope: 'agents:read' });
    for (const binding of ['jsonrpc', 'rest'] as const) {
      assert.deepEqual(skillsOf(await (await clientFor(server.url, binding, alice)).getAgentCard()), ['echo', 'eng', 'writer']);
      assert.deepEqual(skillsOf(await (await clientFor(server.url, binding, bob)).getAgentCard()), ['echo']);
      assert.deepEqual(skillsOf(await (await clientFor(server.url, binding, HF_ALICE)).getAgentCard()), ['acme', 'echo']);
      assert.deepEqual(skillsOf(await (await clientFor(server.url, binding, KEY_CI)).getAgentCard()), ['echo', 'eng']);
    }
  });

  test('0.3 (agent/getAuthenticatedExtendedCard), with the SDK\'s 0.3 transport and with @a2a-js/sdk 0.3.14', async () => {
    const alice = await issuer.userToken('alice', { scope: 'agents:write' });
    assert.deepEqual(skillsOf(await (await legacyClientFor(server.url, alice)).getAgentCard()), ['echo', 'eng', 'writer']);
    const old = await v03ClientFor(server.url, KEY_OPS);
    const card = (await old.getAgentCard()) as unknown as { skills: Array<{ id: string }>; securitySchemes: Record<string, { type: string }> };
    assert.deepEqual(skillsOf(card), ['echo']);
    assert.equal(card.securitySchemes.api_key!.type, 'apiKey');
  });

  test('an agent\'s own endpoint: its card for a caller who may use it, 403 for one who may not; no credential is 401', async () => {
    const reader = bearer(await issuer.userToken('bob', { scope: 'agents:read' }));
    assert.equal(JSON.parse((await rpc(bearer(await issuer.userToken('bob', { scope: 'agents:write' })), 'GetExtendedAgentCard', {}, '/agents/writer/a2a/jsonrpc')).body).result.name, 'writer');
    assertScopeRefusal(await rpc(reader, 'GetExtendedAgentCard', {}, '/agents/writer/a2a/jsonrpc'));
    assert.equal((await rawRequest(server.url, 'GET', '/a2a/rest/extendedAgentCard', { 'A2A-Version': '1.0' })).status, 401);
  });

  test('the public card: a skill with scopes lists them on the OIDC schemes, and leaves out schemes whose callers cannot hold them', async () => {
    const v1 = await (await fetch(`${server.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    const byId = Object.fromEntries(v1.skills.map((skill: { id: string }) => [skill.id, skill]));
    const names = (skill: { securityRequirements: Array<{ schemes: Record<string, unknown> }> }) => skill.securityRequirements.map((r) => Object.keys(r.schemes)[0]);
    assert.deepEqual(names(byId.echo), ['hf_bearer', 'hf_oauth', 'api_key', 'oidc', 'oauth2_authorization_code', 'oauth2_client_credentials', 'oauth2_device_code']);
    assert.deepEqual(names(byId.writer), ['oidc', 'oauth2_authorization_code', 'oauth2_client_credentials', 'oauth2_device_code']);
    assert.deepEqual(byId.writer.securityRequirements[0], { schemes: { oidc: { list: ['agents:write'] } } });
    assert.match(v1.securitySchemes.oauth2_authorization_code.oauth2SecurityScheme.flows.authorizationCode.scopes['agents:write'], /Needed by the agents: writer/);
    const v03 = await (await fetch(`${server.url}/.well-known/agent-card.json`)).json();
    const writer03 = v03.skills.find((skill: { id: string }) => skill.id === 'writer');
    assert.deepEqual(writer03.security[0], { oidc: ['agents:write'] });
    // Every scheme of every configured kind, on the card, in both shapes (0.3 has no device-code flow).
    assert.deepEqual(Object.keys(v1.securitySchemes).filter((name) => name !== 'oauth2_device_code').sort(), Object.keys(v03.securitySchemes).sort());
  });

  test('without any scheme there is no extended card (the spec\'s UnsupportedOperation), as before', async () => {
    await withTestServer({ cards: { 'echo.md': CARDS['echo.md'] } }, async (open) => {
      const answer = JSON.parse((await rpc({}, 'GetExtendedAgentCard', {}, '/a2a/jsonrpc', open.url)).body);
      assert.equal(answer.error.code, -32004);
    });
  });
});

describe('start-up checks: a half-configured scheme or card does not start, and says which variable or field', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['an issuer without an audience', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_CREDENTIAL: 'none' }, /A2A_OIDC_AUDIENCE must be set with A2A_OIDC_ISSUER/],
    ['an audience without an issuer', { A2A_OIDC_AUDIENCE: AUDIENCE }, /A2A_OIDC_AUDIENCE is set, but A2A_OIDC_ISSUER is not/],
    ['an issuer over plain http elsewhere', { A2A_OIDC_ISSUER: 'http://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none' }, /A2A_OIDC_ISSUER must be an https URL/],
    ['OIDC without a downstream credential', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE }, /A2A_OIDC_CREDENTIAL must say/],
    ['an exchange without a client secret', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'hf-exchange', HF_EXCHANGE_CLIENT_ID: 'app' }, /needs HF_EXCHANGE_CLIENT_SECRET/],
    ['an exchange secret with another credential', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none', HF_EXCHANGE_CLIENT_SECRET: 's' }, /HF_EXCHANGE_\* is set, but A2A_OIDC_CREDENTIAL is "none"/],
    ['an RFC 8693 client id without its secret', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none', A2A_OIDC_CLIENT_ID: 'x' }, /A2A_OIDC_CLIENT_ID is set without A2A_OIDC_CLIENT_SECRET/],
    ['HS256 among the algorithms', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none', A2A_OIDC_ALGORITHMS: 'RS256,HS256' }, /A2A_OIDC_ALGORITHMS: "HS256" cannot be accepted.*never none or HS\*/],
    ['none among the algorithms', { A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none', A2A_OIDC_ALGORITHMS: 'none' }, /"none" cannot be accepted/],
    ['an empty key list', { A2A_API_KEYS: ' , ,' , A2A_API_KEYS_CREDENTIAL: 'none' }, /A2A_API_KEYS is set but holds no key/],
    ['keys without a downstream credential', { A2A_API_KEYS: 'ci:0123456789abcdef' }, /A2A_API_KEYS_CREDENTIAL must say/],
    ['keys paid by the server without HF_TOKEN', { A2A_API_KEYS: 'ci:0123456789abcdef', A2A_API_KEYS_CREDENTIAL: 'server' }, /A2A_API_KEYS_CREDENTIAL=server needs HF_TOKEN/],
    ['a short key', { A2A_API_KEYS: 'ci:short', A2A_API_KEYS_CREDENTIAL: 'none' }, /entry 1 \("ci"\): a key must be at least 16 characters/],
    ['a key shaped like a Hugging Face token', { A2A_API_KEYS: 'hf_0123456789abcdef', A2A_API_KEYS_CREDENTIAL: 'none' }, /must not look like a Hugging Face token/],
    ['a key id used twice', { A2A_API_KEYS: 'ci:0123456789abcdef,ci:fedcba9876543210', A2A_API_KEYS_CREDENTIAL: 'none' }, /entry 2 \("ci"\): the id "ci" is used twice/],
    ['a group allow-list without OIDC', { A2A_ALLOW_GROUPS: 'eng' }, /A2A_ALLOW_GROUPS lists OIDC groups, but no OIDC issuer/],
    ['an organization allow-list without Hugging Face tokens', { A2A_ALLOW_ORGS: 'acme' }, /A2A_ALLOW_ORGS lists Hugging Face accounts/],
  ];
  for (const [what, environment, pattern] of cases) {
    test(what, () => {
      assert.throws(() => loadConfig([], environment), (error: unknown) => error instanceof ConfigError && pattern.test(error.message), what);
    });
  }

  test('no key or secret appears in a configuration error', () => {
    const key = `supersecret-${crypto.randomUUID()}`;
    for (const environment of [{ A2A_API_KEYS: `bad id:${key}`, A2A_API_KEYS_CREDENTIAL: 'none' }, { A2A_API_KEYS: `ci:${key},ops:${key}`, A2A_API_KEYS_CREDENTIAL: 'none' }, { A2A_API_KEYS: `${key}`, A2A_API_KEYS_CREDENTIAL: 'bogus' }]) {
      assert.throws(() => loadConfig([], environment), (error: unknown) => error instanceof ConfigError && !error.message.includes(key) && !error.message.includes(key.slice(12)));
    }
  });

  const cardCases: Array<[string, Record<string, unknown>, Record<string, string>, RegExp]> = [
    ['scopes with no scheme that carries scopes', { scopes: ['agents:write'] }, { A2A_API_KEYS: 'ci:0123456789abcdef', A2A_API_KEYS_CREDENTIAL: 'none' }, /field "scopes": no configured scheme gives callers these scopes/],
    ['a scope that is not one', { scopes: ['two words'] }, {}, /field "scopes": "two words" is not a scope/],
    ['an allow-list of groups without OIDC', { allow: { groups: ['eng'] } }, { A2A_API_KEYS: 'ci:0123456789abcdef', A2A_API_KEYS_CREDENTIAL: 'none' }, /field "allow.groups": names OIDC groups/],
    ['an allow-list of keys without API keys', { allow: { keys: ['ci'] } }, {}, /field "allow.keys": names API keys, but no API keys are configured/],
    ['an allow-list that lists no one', { allow: {} }, {}, /field "allow": lists no one/],
    ['an unknown allow-list field', { allow: { teams: ['x'] } }, {}, /field "allow.teams": unknown field/],
    ['an exchange without OIDC', { mcp_connect: { tools: { target: 'https://tools.acme.test/mcp', auth: { exchange: { audience: 'https://tools.acme.test' } } } } }, {}, /field "mcp_connect.tools.auth.exchange": needs OIDC callers/],
    ['an exchange to plain http elsewhere', { mcp_connect: { tools: { target: 'http://tools.acme.test/mcp', auth: { exchange: { audience: 'x' } } } } }, {}, /needs an https target/],
    ['an exchange without an audience', { mcp_connect: { tools: { target: 'https://tools.acme.test/mcp', auth: { exchange: { scope: 'x' } } } } }, {}, /field "mcp_connect.tools.auth.exchange.audience": is required/],
  ];
  for (const [what, fields, environment, pattern] of cardCases) {
    test(`card: ${what}`, async () => {
      await assert.rejects(
        startTestServer({ cards: { 'bad.md': card({ name: 'bad', model: 'passthrough', ...fields }) }, env: environment }),
        (error: unknown) => error instanceof AgentCardError && error.file.endsWith('bad.md') && pattern.test(error.message),
      );
    });
  }

  test('card: an exchange needs this server\'s client at the issuer (A2A_OIDC_CLIENT_ID and A2A_OIDC_CLIENT_SECRET)', async () => {
    const fields = { mcp_connect: { tools: { target: 'https://tools.acme.test/mcp', auth: { exchange: { audience: 'https://tools.acme.test' } } } } };
    await assert.rejects(
      startTestServer({ cards: { 'bad.md': card({ name: 'bad', model: 'passthrough', ...fields }) }, env: { A2A_OIDC_ISSUER: issuer.url, A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none' } }),
      (error: unknown) => error instanceof AgentCardError && /set A2A_OIDC_CLIENT_ID and A2A_OIDC_CLIENT_SECRET/.test(error.message),
    );
  });

  test('the start command prints the error naming the variable, and exits', async () => {
    const { code, output } = await runStart({ A2A_OIDC_ISSUER: 'https://id.acme.test', A2A_OIDC_CREDENTIAL: 'none' }, ['--agent-cards', agentsDir(CARDS)]);
    assert.equal(code, 2);
    assert.match(output, /Cannot start: A2A_OIDC_AUDIENCE must be set with A2A_OIDC_ISSUER/);
  });

  test('on a Space with no scheme at all, the server warns loudly', async () => {
    const { startServerProcess } = await import('./support/server.ts');
    const open = await startServerProcess({ SPACE_HOST: 'me-open.hf.space' }, ['--agent-cards', agentsDir({ 'echo.md': CARDS['echo.md'] })]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(open.output(), /"level":"warn","message":"NO AUTHENTICATION: no scheme is configured on this Space/);
    } finally {
      await open.stop();
    }
  });
});

test('every scheme at once: each admits its own callers, who each see only their own tasks', async () => {
  const callers = [bearer(HF_ALICE), { 'X-API-Key': KEY_CI }, bearer(KEY_OPS), bearer(await issuer.userToken('alice')), bearer(await issuer.clientCredentialsToken())];
  const ids: string[] = [];
  for (const headers of callers) {
    const task = JSON.parse((await rpc(headers, 'SendMessage', { message: message() })).body).result.task as { id: string; status: { state: string } };
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED');
    ids.push(task.id);
  }
  for (const [i, headers] of callers.entries()) {
    for (const [j, id] of ids.entries()) {
      const answer = JSON.parse((await rpc(headers, 'GetTask', { id })).body);
      assert.equal(answer.error === undefined, i === j, `caller ${i} and task of caller ${j}`);
    }
  }
  const client = await clientFor(server.url, 'jsonrpc', KEY_CI);
  assert.equal(((await client.sendMessage(userMessage('sdk'))) as Task).status?.state, TaskState.TASK_STATE_COMPLETED);
});
