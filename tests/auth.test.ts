/**
 * FAST_AGENT_SERVE_OAUTH=huggingface: every action needs a Hub-verified bearer token, on every path
 * spelling; the public routes stay public; the 401 challenge and the RFC 9728 metadata let OAuth
 * clients find their way; the card advertises the requirement in both protocol shapes; and the
 * verified caller's token is the one the model call carries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { startTestServer, withTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { rawRequest } from './support/http.ts';
import { artifactText, clientFor, userMessage } from './support/clients.ts';
import type { RunningServer } from '../src/server.ts';

const ALICE = fakeToken('alice');
const SERVER_TOKEN = fakeToken('server');
const NARROW = fakeToken('narrow');

let hub: FakeHub;
let router: FakeRouter;
let server: RunningServer;

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
  'model.md': card({ name: 'model', model: 'hf.acme/chat', use_history: false }),
};

before(async () => {
  hub = await startFakeHub({
    [ALICE]: { name: 'alice', orgs: ['acme'] },
    [NARROW]: { name: 'narrow', permissions: ['repo.content.read'] },
  });
  router = await startFakeRouter();
  server = await startTestServer({
    cards: CARDS,
    env: {
      FAST_AGENT_SERVE_OAUTH: 'huggingface',
      FAST_AGENT_OAUTH_SCOPES: 'inference-api',
      HF_ENDPOINT: hub.url,
      HF_INFERENCE_ENDPOINT: router.url,
      HF_TOKEN: SERVER_TOKEN,
    },
  });
});
after(async () => {
  await server.close();
  await hub.close();
  await router.close();
});

const SEND = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ text: 'hi' }] } } });
const REST_SEND = JSON.stringify({ message: { messageId: 'm2', role: 'ROLE_USER', parts: [{ text: 'hi' }] } });

/** Every action route, and spellings of it that a sloppy router might still send to the action. */
const ACTION_ROUTES: Array<[string, string, string?]> = [
  ['POST', '/a2a/jsonrpc', SEND],
  ['POST', '/a2a/jsonrpc/', SEND],
  ['POST', '/A2A/JSONRPC', SEND],
  ['POST', '/a2a//jsonrpc', SEND],
  ['POST', '/a2a/./jsonrpc', SEND],
  ['POST', '/a2a%2Fjsonrpc', SEND],
  ['POST', '/a2a/jsonrpc?x=1', SEND],
  ['POST', '/a2a/rest/message:send', REST_SEND],
  ['POST', '/a2a/rest/message:stream', REST_SEND],
  ['POST', '/a2a/rest/acme/message:send', REST_SEND],
  ['POST', '/a2a/rest/v1/message:send', REST_SEND],
  ['POST', '/a2a/rest/message%3Asend', REST_SEND],
  ['POST', '/a2a/rest%2Fmessage:send', REST_SEND],
  ['POST', '/A2A/REST/message:send', REST_SEND],
  ['POST', '/a2a/rest/message:send/', REST_SEND],
  ['GET', '/a2a/rest/tasks'],
  ['GET', '/a2a/rest/acme/tasks'],
  ['GET', '/a2a/rest/tasks/some-task'],
  ['POST', '/a2a/rest/tasks/some-task:cancel'],
  ['GET', '/a2a/rest/tasks/some-task:subscribe'],
  ['POST', '/a2a/rest/acme/tasks/some-task:subscribe'],
  ['GET', '/a2a/rest/extendedAgentCard'],
  ['GET', '/a2a/rest/acme/extendedAgentCard'],
  ['POST', '/healthz', SEND],
  ['POST', '/.well-known/agent-card.json', SEND],
  ['GET', '/no/such/path'],
];

describe('without a valid token nothing runs', () => {
  for (const [method, path, body] of ACTION_ROUTES) {
    test(`${method} ${path}: no token -> 401 with a challenge`, async () => {
      const response = await rawRequest(server.url, method, path, {}, body);
      assert.equal(response.status, 401);
      const challenge = String(response.headers['www-authenticate']);
      assert.match(challenge, /^Bearer /);
      assert.match(challenge, /error="invalid_token"/);
      assert.ok(challenge.includes(`resource_metadata="${server.url}/.well-known/oauth-protected-resource"`), challenge);
      assert.match(challenge, /scope="inference-api"/);
      const json = JSON.parse(response.body);
      assert.match(json.error.message, /Authorization: Bearer <token>/);
    });
  }

  test('an invalid token is 401 on every action route', async () => {
    const bad = fakeToken('unknown');
    for (const [method, path, body] of ACTION_ROUTES) {
      const response = await rawRequest(server.url, method, path, { Authorization: `Bearer ${bad}` }, body);
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.match(String(response.headers['www-authenticate']), /error="invalid_token"/);
    }
  });

  test('no model call was made for any refused request', () => {
    assert.equal(router.requests.length, 0);
  });
});

describe('header normalization', () => {
  const send = (headers: Record<string, string>) => rawRequest(server.url, 'POST', '/a2a/jsonrpc', { 'A2A-Version': '1.0', ...headers }, SEND);

  test('Authorization: Bearer with a valid token reaches the agent', async () => {
    const response = await send({ Authorization: `Bearer ${ALICE}` });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).result.task.status.state, 'TASK_STATE_COMPLETED');
  });

  test('the scheme is case-insensitive', async () => {
    assert.equal((await send({ Authorization: `bearer ${ALICE}` })).status, 200);
  });

  test('X-HF-Authorization is used when Authorization is absent', async () => {
    assert.equal((await send({ 'X-HF-Authorization': `Bearer ${ALICE}` })).status, 200);
  });

  test('Authorization wins over X-HF-Authorization, both ways', async () => {
    assert.equal((await send({ Authorization: `Bearer ${ALICE}`, 'X-HF-Authorization': 'Bearer hf_not_valid_at_all' })).status, 200);
    assert.equal((await send({ Authorization: 'Bearer hf_not_valid_at_all', 'X-HF-Authorization': `Bearer ${ALICE}` })).status, 401);
  });

  for (const [what, value] of [
    ['a Basic credential', `Basic ${Buffer.from(`alice:${ALICE}`).toString('base64')}`],
    ['a bare token without a scheme', ALICE],
    ['an empty bearer token', 'Bearer '],
    ['a token with spaces', `Bearer ${ALICE} extra`],
    ['a token with illegal characters', `Bearer ${ALICE};drop`],
  ]) {
    test(`${what} is refused as invalid_request, even with a valid X-HF-Authorization`, async () => {
      const response = await send({ Authorization: value!, 'X-HF-Authorization': `Bearer ${ALICE}` });
      assert.equal(response.status, 401);
      const challenge = String(response.headers['www-authenticate']);
      assert.match(challenge, /error="invalid_request"/);
      // A well-formed challenge: the scheme, then name="quoted string" pairs, quotes inside escaped.
      assert.match(challenge, /^Bearer (\w+="(?:[^"\\]|\\.)*"(, |$))+$/, challenge);
    });
  }

  test('a fine-grained token without "Make calls to Inference Providers" is 403 insufficient_scope', async () => {
    const response = await send({ Authorization: `Bearer ${NARROW}` });
    assert.equal(response.status, 403);
    assert.match(String(response.headers['www-authenticate']), /error="insufficient_scope"/);
    assert.match(JSON.parse(response.body).error.message, /inference-api/);
  });
});

describe('public routes and discovery', () => {
  test('the landing page, /healthz and the card need no token', async () => {
    for (const path of ['/', '/healthz', '/.well-known/agent-card.json', '/.well-known/agent.json', '/.well-known/oauth-protected-resource']) {
      assert.equal((await rawRequest(server.url, 'GET', path)).status, 200, path);
    }
  });

  test('a CORS preflight is answered without a token, and allows the Authorization header', async () => {
    const response = await rawRequest(server.url, 'OPTIONS', '/a2a/jsonrpc', {
      Origin: 'https://example.org',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type, a2a-version',
    });
    assert.ok(response.status === 204 || response.status === 200);
    assert.equal(response.headers['access-control-allow-origin'], '*');
    assert.match(String(response.headers['access-control-allow-headers']), /Authorization/i);
  });

  test('RFC 9728 metadata: resource, the Hub as authorization server, scopes, header bearer', async () => {
    const metadata = JSON.parse((await rawRequest(server.url, 'GET', '/.well-known/oauth-protected-resource')).body);
    assert.equal(metadata.resource, server.url);
    assert.deepEqual(metadata.authorization_servers, [hub.url]);
    assert.deepEqual(metadata.scopes_supported, ['inference-api']);
    assert.deepEqual(metadata.bearer_methods_supported, ['header']);
  });

  test('on a Space, the resource is https://<SPACE_HOST>, in the metadata and in the challenge', async () => {
    await withTestServer({ cards: CARDS, env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', SPACE_HOST: 'me-agent.hf.space', HF_ENDPOINT: hub.url } }, async (space) => {
      const metadata = JSON.parse((await rawRequest(space.url, 'GET', '/.well-known/oauth-protected-resource')).body);
      assert.equal(metadata.resource, 'https://me-agent.hf.space');
      const refused = await rawRequest(space.url, 'POST', '/a2a/jsonrpc', {}, SEND);
      assert.match(String(refused.headers['www-authenticate']), /resource_metadata="https:\/\/me-agent\.hf\.space\/\.well-known\/oauth-protected-resource"/);
    });
  });

  test('the 1.0 card advertises hf_bearer (HTTP bearer) OR hf_oauth (OpenID Connect at the Hub), on the card and every skill', async () => {
    const body = await (await fetch(`${server.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    assert.equal(body.securitySchemes.hf_bearer.httpAuthSecurityScheme.scheme, 'Bearer');
    assert.equal(body.securitySchemes.hf_oauth.openIdConnectSecurityScheme.openIdConnectUrl, `${hub.url}/.well-known/openid-configuration`);
    // ProtoJSON leaves out an empty list, so "no scopes" is {}.
    const expected = [{ schemes: { hf_bearer: {} } }, { schemes: { hf_oauth: { list: ['openid', 'inference-api'] } } }];
    assert.deepEqual(body.securityRequirements, expected);
    for (const skill of body.skills) assert.deepEqual(skill.securityRequirements, expected);
  });

  test('the 0.3 card advertises the same in the 0.3 shape', async () => {
    const body = await (await fetch(`${server.url}/.well-known/agent-card.json`)).json();
    assert.equal(body.securitySchemes.hf_bearer.type, 'http');
    assert.equal(body.securitySchemes.hf_bearer.scheme, 'bearer');
    assert.equal(body.securitySchemes.hf_oauth.type, 'openIdConnect');
    const expected = [{ hf_bearer: [] }, { hf_oauth: ['openid', 'inference-api'] }];
    assert.deepEqual(body.security, expected);
    for (const skill of body.skills) assert.deepEqual(skill.security, expected);
  });
});

describe('the caller\'s token is the one the model call carries', () => {
  test('via Authorization, over JSON-RPC: the router sees the caller\'s token, never the server\'s', async () => {
    const client = await clientFor(server.url, 'jsonrpc', ALICE);
    const before = router.requests.length;
    const task = (await client.sendMessage(userMessage('who pays?', { metadata: { agent: 'model' } }))) as Task;
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(task), 'You said: who pays?');
    const seen = router.requests.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers.authorization, `Bearer ${ALICE}`);
  });

  test('via X-HF-Authorization, over REST: the same', async () => {
    const before = router.requests.length;
    const response = await fetch(`${server.url}/a2a/rest/message:send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0', 'X-HF-Authorization': `Bearer ${ALICE}` },
      body: JSON.stringify({ message: { messageId: 'x1', role: 'ROLE_USER', parts: [{ text: 'via the space header' }], metadata: { agent: 'model' } } }),
    });
    assert.equal(response.status, 200);
    assert.equal(router.requests.slice(before)[0]!.headers.authorization, `Bearer ${ALICE}`);
  });

  test('work that goes on after the response (a non-blocking send) still carries the caller\'s token', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    router.script = async (request) => {
      await released;
      return { text: `You said: ${request.body.messages.at(-1).content}` };
    };
    const before = router.requests.length;
    const response = await rawRequest(
      server.url,
      'POST',
      '/a2a/jsonrpc',
      { Authorization: `Bearer ${ALICE}`, 'A2A-Version': '1.0' },
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'SendMessage',
        params: { message: { messageId: 'later', role: 'ROLE_USER', parts: [{ text: 'answer me later' }], metadata: { agent: 'model' } }, configuration: { returnImmediately: true } },
      }),
    );
    const task = JSON.parse(response.body).result.task;
    assert.equal(task.status.state, 'TASK_STATE_WORKING', 'the response came back before the model answered');
    release();
    const client = await clientFor(server.url, 'jsonrpc', ALICE);
    let done: Task | undefined;
    for (let i = 0; i < 200 && done?.status?.state !== TaskState.TASK_STATE_COMPLETED; i++) {
      done = await client.getTask({ id: task.id, tenant: '', historyLength: undefined });
      if (done.status?.state !== TaskState.TASK_STATE_COMPLETED) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(done?.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(artifactText(done!), 'You said: answer me later');
    assert.equal(router.requests.slice(before)[0]!.headers.authorization, `Bearer ${ALICE}`);
    router.script = (request) => ({ text: `You said: ${request.body.messages.at(-1).content}` });
  });

  test('the server\'s own HF_TOKEN never reached the router', () => {
    assert.ok(router.requests.length > 0);
    for (const request of router.requests) assert.notEqual(request.headers.authorization, `Bearer ${SERVER_TOKEN}`);
  });
});
