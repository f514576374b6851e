/**
 * The outbound host policy: a caller's token goes only to hosts that own it, in the header each
 * expects, and never to look-alikes; explicit headers always win; nothing is captured at start-up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardedHeaders, tokenHeaderFor } from '../src/auth/host-policy.ts';
import { Credential } from '../src/auth/credentials.ts';
import { parseAgentCard } from '../src/agents/agent-set.ts';

const HUB = 'https://huggingface.co';
const TOKEN = 'hf_callertoken123456';
const CREDENTIAL = new Credential(TOKEN, 'caller');

test('Hub hosts get Authorization', () => {
  for (const url of ['https://huggingface.co/mcp', 'https://hf.co/api/whoami-v2', 'https://HuggingFace.co/mcp', 'https://huggingface.co./mcp', 'https://huggingface.co:443/x']) {
    assert.equal(tokenHeaderFor(url, HUB), 'authorization', url);
  }
});

test('the HF_ENDPOINT host counts as a Hub host (a private Hub, or a test server on loopback)', () => {
  assert.equal(tokenHeaderFor('https://hub.internal.example/mcp', 'https://hub.internal.example'), 'authorization');
  assert.equal(tokenHeaderFor('http://127.0.0.1:9999/mcp', 'http://127.0.0.1:4000'), 'authorization');
  assert.equal(tokenHeaderFor('https://hub.internal.example/mcp', HUB), undefined);
});

test('Space apps (*.hf.space) get X-HF-Authorization, which the Spaces proxy strips', () => {
  assert.equal(tokenHeaderFor('https://someone-tools.hf.space/mcp', HUB), 'x-hf-authorization');
  assert.equal(tokenHeaderFor('https://a.b.hf.space/', HUB), 'x-hf-authorization');
});

test('every other host gets nothing, including look-alikes and tricks', () => {
  for (const url of [
    'https://huggingface.co.evil.com/mcp',
    'https://evil.com/huggingface.co',
    'https://evil.com/?u=https://huggingface.co',
    'https://huggingface.co@evil.com/mcp',
    'https://user:pw@huggingface.co/mcp',
    'https://evilhuggingface.co/mcp',
    'https://hf.space/mcp',
    'https://.hf.space/mcp',
    'https://evil.com#.hf.space',
    'https://hf.space.evil.com/',
    'https://huggingface.co%2eevil.com/',
    'http://huggingface.co/mcp',
    'http://someone.hf.space/mcp',
    'ftp://huggingface.co/',
    'not a url',
  ]) {
    assert.equal(tokenHeaderFor(url, HUB), undefined, url);
  }
});

test('a port other than the host\'s own is another service: it gets nothing', () => {
  for (const url of ['https://huggingface.co:8443/mcp', 'https://hf.co:444/', 'https://someone-tools.hf.space:8080/mcp']) {
    assert.equal(tokenHeaderFor(url, HUB), undefined, url);
  }
  assert.equal(tokenHeaderFor('https://hub.internal.example:8443/mcp', 'https://hub.internal.example'), undefined);
  assert.equal(tokenHeaderFor('https://hub.internal.example:8443/mcp', 'https://hub.internal.example:8443'), 'authorization');
});

test('plain http only to loopback, and only when loopback is the Hub host', () => {
  assert.equal(tokenHeaderFor('http://localhost:8080/mcp', HUB), undefined);
  assert.equal(tokenHeaderFor('http://localhost:8080/mcp', 'http://localhost:9000'), 'authorization');
});

test('forwardedHeaders adds the token in the right header', () => {
  assert.deepEqual(forwardedHeaders('https://huggingface.co/mcp', HUB, CREDENTIAL), { Authorization: `Bearer ${TOKEN}` });
  assert.deepEqual(forwardedHeaders('https://x.hf.space/mcp', HUB, CREDENTIAL), { 'X-HF-Authorization': `Bearer ${TOKEN}` });
  assert.deepEqual(forwardedHeaders('https://mcp.example.com/mcp', HUB, CREDENTIAL), {});
  assert.deepEqual(forwardedHeaders('https://huggingface.co/mcp', HUB, undefined), {});
});

test('explicit headers are kept as written and always win over the caller\'s token', () => {
  const explicit = { Authorization: 'Bearer hf_explicit_from_card', 'X-Extra': '1' };
  assert.deepEqual(forwardedHeaders('https://huggingface.co/mcp', HUB, CREDENTIAL, explicit), explicit);
  assert.deepEqual(forwardedHeaders('https://x.hf.space/mcp', HUB, CREDENTIAL, { 'x-hf-authorization': 'Bearer mine' }), { 'x-hf-authorization': 'Bearer mine' });
  assert.deepEqual(forwardedHeaders('https://x.hf.space/mcp', HUB, CREDENTIAL, { 'X-Extra': '1' }), { 'X-Extra': '1', 'X-HF-Authorization': `Bearer ${TOKEN}` });
  assert.deepEqual(forwardedHeaders('https://mcp.example.com/mcp', HUB, CREDENTIAL, explicit), explicit, 'explicit headers go anywhere the card says');
});

test('forward mode captures no token at start-up: the card spec holds none, even with HF_TOKEN set', () => {
  const agent = parseAgentCard(
    'a.md',
    '---\nmodel: passthrough\nmcp_connect:\n  hf:\n    target: https://huggingface.co/mcp\n    auth: { forward: huggingface }\n---\nHi\n',
    { defaultModel: undefined, env: { HF_TOKEN: 'hf_servertoken_should_not_be_captured' }, hubUrl: HUB },
  );
  assert.deepEqual(agent.mcpServers[0]!.headers, {});
  assert.doesNotMatch(JSON.stringify(agent), /hf_servertoken/);
});
