/**
 * The served agent card: one card, one skill per agent, interfaces at the public URL, in the shape
 * each protocol version reads, cacheable, with no SDK-internal keys.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, withTestServer } from './support/server.ts';
import { card } from './support/agents.ts';
import type { RunningServer } from '../src/server.ts';

const CARDS = {
  'main.md': card({ name: 'main', description: 'The main agent.', model: 'passthrough', default: true, tags: ['a', 'b'], examples: ['do x'] }),
  'second.md': card({ name: 'second', description: 'The second agent.', model: 'passthrough' }),
};

let server: RunningServer;
before(async () => {
  server = await startTestServer({ cards: CARDS });
});
after(() => server.close());

async function fetchCard(headers: Record<string, string> = { 'A2A-Version': '1.0' }, base = server.url) {
  const response = await fetch(`${base}/.well-known/agent-card.json`, { headers });
  return { response, body: response.status === 200 ? await response.json() : undefined };
}

test('the 1.0 card: interfaces JSON-RPC first, then HTTP+JSON, then JSON-RPC at 0.3, all at the listen address', async () => {
  const { body } = await fetchCard();
  assert.deepEqual(body.supportedInterfaces, [
    { url: `${server.url}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
    { url: `${server.url}/a2a/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
    { url: `${server.url}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
  ]);
  assert.equal(body.capabilities.streaming, true);
  assert.equal(body.name, 'main');
  assert.equal(body.description, 'The main agent.');
});

test('one skill per agent, with id, name, description, tags and examples', async () => {
  const { body } = await fetchCard();
  assert.deepEqual(
    body.skills.map((s: Record<string, unknown>) => [s.id, s.name, s.description, s.tags ?? [], s.examples ?? []]),
    [
      ['main', 'main', 'The main agent.', ['a', 'b'], ['do x']],
      ['second', 'second', 'The second agent.', [], []],
    ],
  );
  const { body: legacy } = await fetchCard({});
  assert.deepEqual(legacy.skills.map((s: { id: string }) => s.id), ['main', 'second']);
});

test('no SDK-internal keys ($case) leak into either shape', async () => {
  for (const headers of [{ 'A2A-Version': '1.0' }, {}] as Record<string, string>[]) {
    const text = await (await fetch(`${server.url}/.well-known/agent-card.json`, { headers })).text();
    assert.doesNotMatch(text, /\$case/);
  }
});

test('Cache-Control and ETag, a 304 for a matching If-None-Match, and an ETag per version', async () => {
  const { response } = await fetchCard();
  assert.match(response.headers.get('cache-control') ?? '', /max-age=\d+/);
  const etag = response.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${server.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0', 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const legacy = await fetchCard({});
  assert.notEqual(legacy.response.headers.get('etag'), etag);
  assert.match(response.headers.get('vary') ?? '', /A2A-Version/);
});

test('the card advertises FAST_AGENT_PUBLIC_URL, else the resource URL, else the first SPACE_HOST', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ SPACE_HOST: 'me-my-agent.hf.space,alias.hf.space' }, 'https://me-my-agent.hf.space'],
    [{ SPACE_HOST: 'me-my-agent.hf.space', FAST_AGENT_OAUTH_RESOURCE_URL: 'https://agent.example.org' }, 'https://agent.example.org'],
    [{ FAST_AGENT_OAUTH_RESOURCE_URL: 'https://agent.example.org', FAST_AGENT_PUBLIC_URL: 'https://public.example.org/x' }, 'https://public.example.org/x'],
  ];
  for (const [env, expected] of cases) {
    await withTestServer({ cards: CARDS, env }, async (other) => {
      const { body } = await fetchCard({ 'A2A-Version': '1.0' }, other.url);
      assert.equal(body.supportedInterfaces[0].url, `${expected}/a2a/jsonrpc`);
      const { body: legacy } = await fetchCard({}, other.url);
      assert.equal(legacy.url, `${expected}/a2a/jsonrpc`);
    });
  }
});

test('the landing page and /healthz are public and show the agents', async () => {
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.doesNotMatch(page.headers.get('x-frame-options') ?? '', /./, 'the Space page embeds the app in an iframe');
  const html = await page.text();
  assert.match(html, /The main agent\./);
  assert.match(html, /second/);
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
});
