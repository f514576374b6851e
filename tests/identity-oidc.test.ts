/**
 * OIDC / OAuth 2.0 JWT access tokens, against a real OpenID provider running in this process
 * (oidc-provider): good tokens of people and of services (client credentials) get in; every kind of
 * bad token gets a 401 that says what is wrong (wrong audience, wrong issuer, expired, not yet valid,
 * unsigned, HS256 signed with the public key, a key the issuer never published, no expiry); a key
 * rotation is followed with a bounded refetch of the issuer's keys; the card advertises OpenID
 * Connect and the OAuth 2.0 flows the issuer's discovery document lists, in both protocol shapes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { startTestServer, withTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import { fakeToken } from './support/fake-hub.ts';
import { startFakeRouter, type FakeRouter } from './support/fake-router.ts';
import { rawRequest } from './support/http.ts';
import { artifactText, clientFor, userMessage } from './support/clients.ts';
import { newSigningKey, startTestIssuer, type TestIssuer } from './support/oidc-provider.ts';
import { ConfigError } from '../src/config.ts';
import type { RunningServer } from '../src/server.ts';

const AUDIENCE = 'https://agents.acme.test';
const SERVER_TOKEN = fakeToken('server');
const COOLDOWN_MS = 300;

let issuer: TestIssuer;
let router: FakeRouter;
let server: RunningServer;

const CARDS = {
  'echo.md': card({ name: 'echo', model: 'passthrough', default: true }),
  'model.md': card({ name: 'model', model: 'hf.acme/chat', use_history: false }),
};

before(async () => {
  issuer = await startTestIssuer({ audience: AUDIENCE, scopes: ['agents:read', 'agents:write'] });
  issuer.users.set('alice', { sub: 'alice', email: 'alice@acme.test', groups: ['eng'] });
  issuer.users.set('bob', { sub: 'bob', email: 'bob@acme.test' });
  router = await startFakeRouter();
  server = await startTestServer({
    cards: CARDS,
    env: { A2A_OIDC_ISSUER: issuer.url, A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'server', HF_TOKEN: SERVER_TOKEN, HF_INFERENCE_ENDPOINT: router.url },
    identityOptions: { jwks: { cooldownMs: COOLDOWN_MS } },
  });
});
after(async () => {
  await server.close();
  await router.close();
  await issuer.close();
});

const SEND = (text = 'hi', agent?: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }], ...(agent && { metadata: { agent } }) } } });
const send = (token: string, text?: string, agent?: string) => rawRequest(server.url, 'POST', '/a2a/jsonrpc', { Authorization: `Bearer ${token}`, 'A2A-Version': '1.0' }, SEND(text, agent));

async function refused(token: string, message: RegExp) {
  const response = await send(token);
  assert.equal(response.status, 401, response.body);
  const challenge = String(response.headers['www-authenticate']);
  assert.match(challenge, /^Bearer realm="oidc", error="invalid_token", error_description="[^"]+"/);
  assert.ok(challenge.includes(`resource_metadata="${server.url}/.well-known/oauth-protected-resource"`), challenge);
  const body = JSON.parse(response.body);
  assert.match(body.error.message, message);
  assert.match(body.error.message, new RegExp(`an access token from ${issuer.url.replace(/[.]/g, '\\.')}`), 'the message says how to send a good one');
  return body.error.message as string;
}

describe('good tokens get in', () => {
  test('a user access token issued by the provider reaches the agent, over both bindings, with the SDK client', async () => {
    const token = await issuer.userToken('alice', { scope: 'agents:read' });
    for (const binding of ['jsonrpc', 'rest'] as const) {
      const client = await clientFor(server.url, binding, token);
      const task = (await client.sendMessage(userMessage('hello from alice'))) as Task;
      assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
      assert.equal(artifactText(task), 'hello from alice');
    }
  });

  test('a client-credentials token (a service, no user) is a caller too, with tasks of its own', async () => {
    const token = await issuer.clientCredentialsToken('agents:read');
    const client = await clientFor(server.url, 'jsonrpc', token);
    const task = (await client.sendMessage(userMessage('from a service'))) as Task;
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    const alice = await clientFor(server.url, 'jsonrpc', await issuer.userToken('alice'));
    await assert.rejects(alice.getTask({ id: task.id, tenant: '', historyLength: undefined }), /not found/i, "a service's task is not a person's");
  });

  test('two subjects never see each other\'s tasks', async () => {
    const alice = await clientFor(server.url, 'jsonrpc', await issuer.userToken('alice'));
    const bob = await clientFor(server.url, 'jsonrpc', await issuer.userToken('bob'));
    const task = (await alice.sendMessage(userMessage('mine'))) as Task;
    await assert.rejects(bob.getTask({ id: task.id, tenant: '', historyLength: undefined }), /not found/i);
  });

  test('A2A_OIDC_CREDENTIAL=server: the operator named the Space\'s HF_TOKEN, so the model call carries it', async () => {
    const before = router.requests.length;
    const response = await send(await issuer.userToken('alice'), 'who pays?', 'model');
    assert.equal(JSON.parse(response.body).result.task.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(router.requests[before]!.headers.authorization, `Bearer ${SERVER_TOKEN}`);
  });
});

describe('every kind of bad token is a 401 that says what is wrong, and nothing runs', () => {
  test('wrong audience', async () => {
    const token = await issuer.userToken('alice', { audience: 'https://someone-else.test' });
    await refused(token, /another audience.*someone-else\.test.*not for this server/);
  });

  test('wrong issuer: a token from another real provider', async () => {
    const other = await startTestIssuer({ audience: AUDIENCE, scopes: ['agents:read'] });
    try {
      const jwksBefore = issuer.jwksRequests + other.jwksRequests;
      await refused(await other.userToken('mallory'), new RegExp(`issued by "${other.url}".*not by this server's issuer`));
      assert.equal(issuer.jwksRequests + other.jwksRequests, jwksBefore, 'a foreign token costs no key fetch');
    } finally {
      await other.close();
    }
  });

  test('expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await issuer.forge({ sub: 'alice', iat: now - 7200, exp: now - 3600 }), /expired \(at \d{4}-.*get a new one/);
  });

  test('expired by less than the clock tolerance still passes; by more, it does not', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await send(await issuer.forge({ sub: 'alice', exp: now - 5 }))).status, 200);
    assert.equal((await send(await issuer.forge({ sub: 'alice', exp: now - 120 }))).status, 401);
  });

  test('not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await issuer.forge({ sub: 'alice', nbf: now + 3600 }), /not valid yet/);
  });

  test('alg: none', async () => {
    await refused(await issuer.forge({ sub: 'alice' }, { alg: 'none' }), /not signed \(alg "none"\)/);
  });

  test('HS256 "signed" with the issuer\'s public key (key confusion)', async () => {
    await refused(await issuer.forge({ sub: 'alice' }, { alg: 'HS256-public' }), /signed with "HS256", which this server does not accept/);
  });

  test('a signature that does not verify (a payload changed after signing)', async () => {
    const token = await issuer.userToken('bob');
    const [header, payload, signature] = token.split('.');
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'alice' })).toString('base64url');
    await refused(`${header}.${changed}.${signature}`, /signature does not verify/);
  });

  test('missing exp', async () => {
    await refused(await issuer.forge({ sub: 'alice' }, { noExp: true }), /no expiry \(exp\)/);
  });

  test('no subject and no client', async () => {
    await refused(await issuer.forge({}), /names no subject/);
  });

  test('a JWT-shaped value that is not one', async () => {
    await refused('eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln', /not a well-formed JWT/);
  });

  test('no model call was made for any refused token', () => {
    assert.ok(router.requests.every((request) => request.headers.authorization === `Bearer ${SERVER_TOKEN}`));
  });
});

describe('key rotation', () => {
  test('a token signed with a new key is accepted after one refetch of the keys; unknown keys cost at most one fetch per cooldown', async () => {
    assert.equal((await send(await issuer.userToken('alice'))).status, 200);
    const fetched = issuer.jwksRequests;
    assert.ok(fetched >= 1);
    await issuer.rotateKeys();
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
    const response = await send(await issuer.userToken('alice'));
    assert.equal(response.status, 200, response.body);
    assert.equal(issuer.jwksRequests, fetched + 1, 'the new key was fetched once');

    // A flood of tokens signed with keys the issuer never published: refused, and the keys are not fetched for each.
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
    const before = issuer.jwksRequests;
    const rogue = await newSigningKey();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, () => issuer.forge({ sub: 'alice' }, { key: rogue }).then((token) => send(token))));
    const elapsed = Date.now() - started;
    for (const answer of answers) {
      assert.equal(answer.status, 401);
      assert.match(JSON.parse(answer.body).error.message, /signed with a key .* does not publish/);
    }
    assert.ok(issuer.jwksRequests - before <= Math.ceil(elapsed / COOLDOWN_MS) + 1, `${issuer.jwksRequests - before} fetches in ${elapsed} ms`);
    assert.ok(issuer.jwksRequests - before >= 1, 'an unknown key does make the server look once');
  });
});

describe('discovery and the card', () => {
  test('the 1.0 card: OpenID Connect at the discovery URL, and one OAuth 2.0 scheme per flow the issuer lists, with its scopes', async () => {
    const body = await (await fetch(`${server.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    const schemes = body.securitySchemes;
    assert.equal(schemes.oidc.openIdConnectSecurityScheme.openIdConnectUrl, `${issuer.url}/.well-known/openid-configuration`);
    const code = schemes.oauth2_authorization_code.oauth2SecurityScheme;
    assert.equal(code.flows.authorizationCode.authorizationUrl, `${issuer.url}/auth`);
    assert.equal(code.flows.authorizationCode.tokenUrl, `${issuer.url}/token`);
    assert.equal(code.flows.authorizationCode.pkceRequired, true);
    assert.deepEqual(Object.keys(code.flows.authorizationCode.scopes).sort(), ['agents:read', 'agents:write', 'email', 'openid', 'profile']);
    assert.equal(schemes.oauth2_client_credentials.oauth2SecurityScheme.flows.clientCredentials.tokenUrl, `${issuer.url}/token`);
    assert.equal(schemes.oauth2_device_code.oauth2SecurityScheme.flows.deviceCode.deviceAuthorizationUrl, `${issuer.url}/device/auth`);
    assert.equal(body.capabilities.extendedAgentCard, true);
    const names = ['oidc', 'oauth2_authorization_code', 'oauth2_client_credentials', 'oauth2_device_code'];
    assert.deepEqual(body.securityRequirements.map((r: { schemes: object }) => Object.keys(r.schemes)[0]), names);
    for (const skill of body.skills) assert.deepEqual(skill.securityRequirements, body.securityRequirements);
    assert.equal(schemes.hf_bearer, undefined, 'no Hugging Face scheme is configured, and none is advertised');
  });

  test('the 0.3 card: the same schemes in the 0.3 shape, but for the device-code flow, which 0.3 cannot describe', async () => {
    const body = await (await fetch(`${server.url}/.well-known/agent-card.json`)).json();
    assert.deepEqual(body.securitySchemes.oidc, { type: 'openIdConnect', openIdConnectUrl: `${issuer.url}/.well-known/openid-configuration`, description: `Sign in with ${issuer.url}; send its access token as a bearer token.` });
    assert.equal(body.securitySchemes.oauth2_authorization_code.type, 'oauth2');
    assert.equal(body.securitySchemes.oauth2_authorization_code.flows.authorizationCode.tokenUrl, `${issuer.url}/token`);
    assert.equal(body.securitySchemes.oauth2_client_credentials.flows.clientCredentials.tokenUrl, `${issuer.url}/token`);
    assert.equal(body.securitySchemes.oauth2_client_credentials.oauth2MetadataUrl, `${issuer.url}/.well-known/openid-configuration`);
    assert.equal(body.securitySchemes.oauth2_device_code, undefined);
    assert.deepEqual(body.security, [{ oidc: [] }, { oauth2_authorization_code: [] }, { oauth2_client_credentials: [] }]);
    assert.equal(body.supportsAuthenticatedExtendedCard, true);
  });

  test('RFC 9728 metadata names the issuer as the authorization server', async () => {
    const metadata = JSON.parse((await rawRequest(server.url, 'GET', '/.well-known/oauth-protected-resource')).body);
    assert.deepEqual(metadata.authorization_servers, [issuer.url]);
  });

  test('an issuer whose discovery cannot be read stops start-up, naming A2A_OIDC_ISSUER', async () => {
    await assert.rejects(
      startTestServer({ cards: CARDS, env: { A2A_OIDC_ISSUER: 'http://127.0.0.1:1', A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none' }, identityOptions: { discovery: { attempts: 1, timeoutMs: 500 } } }),
      (error: unknown) => error instanceof ConfigError && /A2A_OIDC_ISSUER: the discovery document .* could not be read/.test(error.message),
    );
  });

  test('an issuer whose discovery names another issuer stops start-up', async () => {
    await assert.rejects(
      startTestServer({ cards: CARDS, env: { A2A_OIDC_ISSUER: `${issuer.url}/`, A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none' } }),
      (error: unknown) => error instanceof ConfigError && /names the issuer .* not .*set A2A_OIDC_ISSUER to exactly the issuer/.test(error.message),
    );
  });

  test('keys that cannot be fetched are a 503 with Retry-After, never a pass', async () => {
    await withTestServer(
      { cards: CARDS, env: { A2A_OIDC_ISSUER: issuer.url, A2A_OIDC_AUDIENCE: AUDIENCE, A2A_OIDC_CREDENTIAL: 'none', A2A_OIDC_JWKS_URL: 'http://127.0.0.1:1/jwks' }, identityOptions: { jwks: { timeoutMs: 500 } } },
      async (other) => {
        const response = await rawRequest(other.url, 'POST', '/a2a/jsonrpc', { Authorization: `Bearer ${await issuer.userToken('alice')}`, 'A2A-Version': '1.0' }, SEND());
        assert.equal(response.status, 503);
        assert.ok(Number(response.headers['retry-after']) > 0);
        assert.match(JSON.parse(response.body).error.message, /signing keys .* could not be fetched.*Nothing was run/);
      },
    );
  });
});
