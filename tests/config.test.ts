/** Flags and environment variables become one validated Config; a flag wins over its variable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.ts';

test('defaults: loopback, port 7860, ./agents, connection scope, auth off, HF endpoints', () => {
  const config = loadConfig([], {});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 7860);
  assert.equal(config.agentCardsDir, 'agents');
  assert.equal(config.instanceScope, 'connection');
  assert.deepEqual(config.auth, { mode: 'off', serverToken: undefined });
  assert.equal(config.hubUrl, 'https://huggingface.co');
  assert.equal(config.inferenceUrl, 'https://router.huggingface.co');
  assert.equal(config.publicUrl, undefined);
});

test('every flag has a variable, and the flag wins', () => {
  const env = { HOST: '0.0.0.0', PORT: '9000', FAST_AGENT_MODEL: 'passthrough', FAST_AGENT_INSTANCE_SCOPE: 'request' };
  const fromEnv = loadConfig([], env);
  assert.equal(fromEnv.host, '0.0.0.0');
  assert.equal(fromEnv.port, 9000);
  assert.equal(fromEnv.defaultModel, 'passthrough');
  assert.equal(fromEnv.instanceScope, 'request');
  const fromFlags = loadConfig(['--host', '::1', '--port', '9001', '--model', 'hf.a/b', '--instance-scope', 'connection', '--agent-cards', 'x'], env);
  assert.equal(fromFlags.host, '::1');
  assert.equal(fromFlags.port, 9001);
  assert.equal(fromFlags.defaultModel, 'hf.a/b');
  assert.equal(fromFlags.instanceScope, 'connection');
  assert.equal(fromFlags.agentCardsDir, 'x');
});

test('public URL: FAST_AGENT_PUBLIC_URL, else the resource URL, else https:// + the first SPACE_HOST', () => {
  assert.equal(loadConfig([], { SPACE_HOST: 'me-agent.hf.space,me-agent-alias.hf.space' }).publicUrl, 'https://me-agent.hf.space');
  assert.equal(loadConfig([], { SPACE_HOST: 'me-agent.hf.space' }).resourceUrl, 'https://me-agent.hf.space');
  assert.equal(loadConfig([], { SPACE_HOST: 'x.hf.space', FAST_AGENT_OAUTH_RESOURCE_URL: 'https://res.example/' }).publicUrl, 'https://res.example');
  const both = loadConfig([], { FAST_AGENT_OAUTH_RESOURCE_URL: 'https://res.example', FAST_AGENT_PUBLIC_URL: 'https://pub.example/base/' });
  assert.equal(both.publicUrl, 'https://pub.example/base');
  assert.equal(both.resourceUrl, 'https://res.example');
});

test('FAST_AGENT_SERVE_OAUTH=huggingface turns auth on; scopes split on commas and spaces', () => {
  const config = loadConfig([], { FAST_AGENT_SERVE_OAUTH: 'huggingface', FAST_AGENT_OAUTH_SCOPES: 'openid, profile inference-api' });
  assert.deepEqual(config.auth, { mode: 'huggingface', scopes: ['openid', 'profile', 'inference-api'] });
  assert.deepEqual(loadConfig([], { FAST_AGENT_SERVE_OAUTH: 'huggingface' }).auth, { mode: 'huggingface', scopes: ['inference-api'] });
});

test('HF_TOKEN, HF_ENDPOINT and HF_INFERENCE_ENDPOINT are read', () => {
  const config = loadConfig([], { HF_TOKEN: ' hf_abc ', HF_ENDPOINT: 'http://127.0.0.1:9/', HF_INFERENCE_ENDPOINT: 'http://127.0.0.1:10' });
  assert.equal(config.serverToken, 'hf_abc');
  assert.equal(config.hubUrl, 'http://127.0.0.1:9');
  assert.equal(config.inferenceUrl, 'http://127.0.0.1:10');
});

for (const [what, argv, env, pattern] of [
  ['an unknown flag', ['--colour', 'blue'], {}, /Unknown option '--colour'[\s\S]*Usage/],
  ['a bad instance scope', ['--instance-scope', 'shared'], {}, /instance-scope must be "connection" or "request"/],
  ['a bad port', [], { PORT: '70000' }, /port must be an integer from 0 to 65535/],
  ['an unknown auth mode', [], { FAST_AGENT_SERVE_OAUTH: 'github' }, /FAST_AGENT_SERVE_OAUTH must be "huggingface" or unset/],
  ['a URL that is not one', [], { HF_ENDPOINT: 'huggingface.co' }, /HF_ENDPOINT must be an absolute http\(s\) URL/],
  ['a URL with credentials', [], { FAST_AGENT_PUBLIC_URL: 'https://user:pw@x.example' }, /without credentials/],
] as const) {
  test(`${what} is a clear start-up error`, () => {
    assert.throws(() => loadConfig(argv, env), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));
  });
}
