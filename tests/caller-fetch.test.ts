/**
 * Calls made on a caller's behalf to other A2A agents and Spaces: the @a2a-js/sdk client, given
 * callerFetch, carries the caller's token by the host policy (Authorization to the Hub's hosts,
 * X-HF-Authorization to *.hf.space, nothing elsewhere); a credential the calling code sets wins;
 * and a redirect never takes the token to a host the policy did not choose.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { TaskState, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { Credential } from '../src/auth/credentials.ts';
import { callerFetch } from '../src/hf/caller-fetch.ts';
import { startTestServer } from './support/server.ts';
import { fakeToken, startFakeHub, type FakeHub } from './support/fake-hub.ts';
import { userMessage } from './support/clients.ts';
import { listenOnLoopback } from './support/http.ts';
import type { RunningServer } from '../src/server.ts';

const ALICE = fakeToken('alice');
const BOB = fakeToken('bob');
const SPACE_HOST = 'agent-demo.hf.space';
const OTHER_HOST = 'agent.example.com';

let hub: FakeHub;
/** The same remote agent (this server, with auth on) under the three names the tests call it by. */
const remotes: Record<'hub' | 'space' | 'other', RunningServer> = {} as never;

/** Routes made-up names to the loopback server that plays them; the policy still sees the name. */
function routeTo(hosts: Record<string, string>): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const target = hosts[url.hostname];
    return fetch(target ? new URL(`${url.pathname}${url.search}`, target) : input, init);
  };
}

function clientWith(fetchImpl: typeof fetch, cardUrl: string): Promise<Client> {
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] }));
  return factory.createFromUrl(cardUrl);
}

before(async () => {
  hub = await startFakeHub({ [ALICE]: { name: 'alice' }, [BOB]: { name: 'bob' } });
  const remote = (publicUrl?: string) =>
    startTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, ...(publicUrl && { FAST_AGENT_PUBLIC_URL: publicUrl }) } });
  remotes.hub = await remote();
  remotes.space = await remote(`https://${SPACE_HOST}`);
  remotes.other = await remote(`https://${OTHER_HOST}`);
});
after(async () => {
  await Promise.all(Object.values(remotes).map((server) => server.close()));
  await hub.close();
});

describe('an SDK client calling another agent with callerFetch', () => {
  const routes = () => routeTo({ [SPACE_HOST]: remotes.space.url, [OTHER_HOST]: remotes.other.url });
  const lastCheck = () => hub.checks.at(-1)!.headers;

  test('a Hub host (here the HF_ENDPOINT host) gets the caller\'s token as Authorization', async () => {
    const client = await clientWith(callerFetch({ credential: new Credential(ALICE, 'caller'), hubUrl: hub.url }), remotes.hub.url);
    const task = (await client.sendMessage(userMessage('hello hub'))) as Task;
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(lastCheck().authorization, `Bearer ${ALICE}`);
  });

  test('a *.hf.space agent gets it as X-HF-Authorization, and the remote accepts it from there', async () => {
    const seen: Array<Headers> = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers));
      return routes()(input, init);
    };
    const client = await clientWith(callerFetch({ credential: new Credential(ALICE, 'caller'), hubUrl: hub.url, fetch: recording }), remotes.space.url);
    const task = (await client.sendMessage(userMessage('hello space'))) as Task;
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    const call = seen.find((headers) => headers.get('content-type')?.includes('json'))!;
    assert.equal(call.get('x-hf-authorization'), `Bearer ${ALICE}`);
    assert.equal(call.get('authorization'), null);
  });

  test('any other host gets no token, so an agent there that needs one refuses the call', async () => {
    const checks = hub.checks.length;
    const client = await clientWith(callerFetch({ credential: new Credential(ALICE, 'caller'), hubUrl: hub.url, fetch: routes() }), remotes.other.url);
    await assert.rejects(client.sendMessage(userMessage('hello stranger')), /401/);
    assert.equal(hub.checks.length, checks, 'no token reached the other agent, so it had nothing to check');
  });

  test('a credential the calling code sets explicitly wins over the caller\'s token', async () => {
    const asBob: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('Authorization', `Bearer ${BOB}`);
      return callerFetch({ credential: new Credential(ALICE, 'caller'), hubUrl: hub.url })(input, { ...init, headers });
    };
    const client = await clientWith(asBob, remotes.hub.url);
    const task = (await client.sendMessage(userMessage('hello as bob'))) as Task;
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(lastCheck().authorization, `Bearer ${BOB}`);
  });
});

describe('redirects', () => {
  let origin = '';
  const received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const redirects: Record<string, string> = {
        '/same-origin': '/landing',
        '/to-collector': `https://collector.example/steal`,
        '/to-hub': `https://hf.co/landing`,
        '/to-other-space': `https://someone-else.hf.space/landing`,
        '/loop': '/loop',
      };
      const location = redirects[req.url ?? ''];
      if (location) res.writeHead(307, { Location: location }).end();
      else res.writeHead(200, { 'Content-Type': 'text/plain' }).end('landed');
    });
  });
  let close = async () => {};
  before(async () => {
    ({ url: origin, close } = await listenOnLoopback(server));
  });
  after(() => close());

  const viaSpace = (path: string) => {
    const hosts = { [SPACE_HOST]: origin, 'collector.example': origin, 'hf.co': origin, 'someone-else.hf.space': origin };
    const send = callerFetch({ credential: new Credential(ALICE, 'caller'), hubUrl: 'https://huggingface.co', fetch: routeTo(hosts) });
    return (init: RequestInit = {}) =>
      send(`https://${SPACE_HOST}${path}`, { method: 'POST', body: '{"q":1}', headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'card-key' }, ...init });
  };

  test('a same-origin redirect is followed with the token and the body', async () => {
    received.length = 0;
    const response = await viaSpace('/same-origin')();
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'landed');
    assert.deepEqual(received.map((r) => r.path), ['/same-origin', '/landing']);
    assert.equal(received[1]!.headers['x-hf-authorization'], `Bearer ${ALICE}`);
    assert.equal(received[1]!.body, '{"q":1}', 'a 307 sends the same body again');
  });

  test('a redirect to a host the policy gives nothing (or another header) is not followed', async () => {
    received.length = 0;
    for (const path of ['/to-collector', '/to-hub', '/to-other-space']) {
      const response = await viaSpace(path)();
      assert.equal(response.status, 307, `${path}: the redirect comes back to the caller unfollowed`);
    }
    assert.deepEqual(received.map((r) => r.path), ['/to-collector', '/to-hub', '/to-other-space'], 'neither the token nor the card\'s key went on');
  });

  test('a call that follows redirects itself (redirect: manual, as the MCP SDK does) gets the 3xx back', async () => {
    received.length = 0;
    const response = await viaSpace('/same-origin')({ redirect: 'manual' });
    assert.equal(response.status, 307);
    assert.deepEqual(received.map((r) => r.path), ['/same-origin']);
    await assert.rejects(viaSpace('/same-origin')({ redirect: 'error' }), /redirect/);
  });

  test('a redirect loop ends after a few hops with the last 3xx', async () => {
    received.length = 0;
    const response = await viaSpace('/loop')();
    assert.equal(response.status, 307);
    assert.equal(received.length, 6, 'the first request and five redirects');
  });
});
