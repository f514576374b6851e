/**
 * Agent card files (`agents/*.md`): the fields of fast-agent's format that this template reads, and
 * start-up errors that name the file and the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AgentCardError, loadAgentSet, parseAgentCard, type LoadOptions } from '../src/agents/agent-set.ts';
import { agentsDir, card } from './support/agents.ts';
import { ROOT, runStart } from './support/server.ts';

const OPTIONS: LoadOptions = { defaultModel: undefined, env: {}, hubUrl: 'https://huggingface.co' };

test('a full card: front matter fields and the body as the instruction', () => {
  const text = `---
name: researcher
description: Finds things.
model: hf.moonshotai/Kimi-K2-Instruct:groq
default: true
use_history: false
tags: [research, hub]
examples: ["find a model"]
request_params:
  temperature: 0.2
  max_tokens: 512
  max_iterations: 4
mcp_connect:
  huggingface:
    target: https://huggingface.co/mcp?bouquet=search
    auth:
      forward: huggingface
---

You are a researcher.

Be brief.
`;
  const agent = parseAgentCard('agents/researcher.md', text, OPTIONS);
  assert.equal(agent.name, 'researcher');
  assert.equal(agent.description, 'Finds things.');
  assert.deepEqual(agent.model, { kind: 'hf', id: 'moonshotai/Kimi-K2-Instruct:groq' });
  assert.equal(agent.markedDefault, true);
  assert.equal(agent.useHistory, false);
  assert.deepEqual(agent.tags, ['research', 'hub']);
  assert.deepEqual(agent.examples, ['find a model']);
  assert.equal(agent.temperature, 0.2);
  assert.equal(agent.maxTokens, 512);
  assert.equal(agent.maxIterations, 4);
  assert.equal(agent.instruction, 'You are a researcher.\n\nBe brief.');
  assert.deepEqual(agent.mcpServers, [{ name: 'huggingface', url: 'https://huggingface.co/mcp?bouquet=search', headers: {}, forwardHfToken: true }]);
});

test('defaults: name from the file, description from the instruction, history on, model from --model', () => {
  const agent = parseAgentCard('agents/helper.md', 'You help people. You are kind.\n', { ...OPTIONS, defaultModel: 'passthrough' });
  assert.equal(agent.name, 'helper');
  assert.equal(agent.description, 'You help people.');
  assert.equal(agent.useHistory, true);
  assert.deepEqual(agent.model, { kind: 'passthrough' });
  assert.equal(agent.temperature, undefined);
  assert.ok(agent.maxIterations > 0);
});

test('a card that names a model keeps it even when --model is given', () => {
  const agent = parseAgentCard('a.md', card({ model: 'hf.org/m' }), { ...OPTIONS, defaultModel: 'passthrough' });
  assert.deepEqual(agent.model, { kind: 'hf', id: 'org/m' });
});

test('mcp_connect in list form, with explicit headers and ${VAR} placeholders', () => {
  const text = `---
model: passthrough
mcp_connect:
  - name: space-tools
    target: https://someone-tools.hf.space/mcp
    auth: { forward: huggingface }
  - name: other
    target: https://mcp.example.com/mcp
    headers:
      X-Api-Key: "\${EXAMPLE_KEY}"
      X-Region: "\${REGION:-eu}"
---
Hi.
`;
  const agent = parseAgentCard('a.md', text, { ...OPTIONS, env: { EXAMPLE_KEY: 'k-123' } });
  assert.deepEqual(
    agent.mcpServers.map((s) => [s.name, s.forwardHfToken, s.headers]),
    [
      ['space-tools', true, {}],
      ['other', false, { 'X-Api-Key': 'k-123', 'X-Region': 'eu' }],
    ],
  );
});

test('placeholders are not resolved in text shown to callers', () => {
  const agent = parseAgentCard('a.md', card({ model: 'passthrough', description: 'uses ${HF_TOKEN}' }, 'Token: ${HF_TOKEN}'), { ...OPTIONS, env: { HF_TOKEN: 'hf_secret' } });
  assert.equal(agent.description, 'uses ${HF_TOKEN}');
  assert.equal(agent.instruction, 'Token: ${HF_TOKEN}');
});

const BAD: Array<[string, string, RegExp]> = [
  ['an unknown field', card({ model: 'passthrough', servers: ['fs'] }), /a\.md: field "servers": unknown field/],
  ['a model this server cannot run', card({ model: 'gpt-4o' }), /field "model": "gpt-4o" is not a model/],
  ['no model anywhere', card({ name: 'x' }), /field "model": no model given, and neither --model nor FAST_AGENT_MODEL is set/],
  ['a temperature out of range', card({ model: 'passthrough', request_params: { temperature: 5 } }), /field "request_params.temperature": must be a number from 0 to 2/],
  ['a fractional max_tokens', card({ model: 'passthrough', request_params: { max_tokens: 1.5 } }), /field "request_params.max_tokens": must be an integer/],
  ['an unknown request param', card({ model: 'passthrough', request_params: { top_k: 3 } }), /field "request_params.top_k": unknown field/],
  ['tags that are not a list', card({ model: 'passthrough', tags: 'a,b' }), /field "tags": must be a list of strings/],
  ['a name with spaces', card({ model: 'passthrough', name: 'my agent' }), /field "name": "my agent" must be/],
  ['default that is not a boolean', card({ model: 'passthrough', default: 'yes' }), /field "default": must be true or false/],
  ['YAML that does not parse', '---\nmodel: [passthrough\n---\nHi\n', /a\.md: front matter is not valid YAML/],
  ['front matter that never closes', '---\nmodel: passthrough\nHi\n', /never closed/],
  ['front matter that is a list', '---\n- a\n- b\n---\nHi\n', /must be a YAML mapping/],
  ['an instruction in two places', card({ model: 'passthrough', instruction: 'A' }, 'B'), /field "instruction": give the instruction either/],
  ['a type other than agent', card({ model: 'passthrough', type: 'a2a' }), /field "type": only "agent" cards/],
  ['an MCP target that is not a URL', card({ model: 'passthrough', mcp_connect: { fs: { target: 'npx server-filesystem' } } }), /field "mcp_connect.fs.target": "npx server-filesystem" is not a URL/],
  ['an MCP entry without target', card({ model: 'passthrough', mcp_connect: [{ name: 'x' }] }), /field "mcp_connect\[0\].target": is required/],
  ['credentials in an MCP URL', card({ model: 'passthrough', mcp_connect: { x: { target: 'https://u:p@huggingface.co/mcp' } } }), /must not carry credentials/],
  ['forwarding the HF token to another host', card({ model: 'passthrough', mcp_connect: { x: { target: 'https://mcp.example.com/mcp', auth: { forward: 'huggingface' } } } }), /field "mcp_connect.x.auth.forward": will not forward a Hugging Face token to mcp\.example\.com/],
  ['forwarding to a look-alike host', card({ model: 'passthrough', mcp_connect: { x: { target: 'https://huggingface.co.evil.com/mcp', auth: { forward: 'huggingface' } } } }), /will not forward/],
  ['forwarding over plain http', card({ model: 'passthrough', mcp_connect: { x: { target: 'http://huggingface.co/mcp', auth: { forward: 'huggingface' } } } }), /will not forward/],
  ['an unknown forward mode', card({ model: 'passthrough', mcp_connect: { x: { target: 'https://huggingface.co/mcp', auth: { forward: 'github' } } } }), /the only supported value is "huggingface"/],
  ['a placeholder with no variable', card({ model: 'passthrough', mcp_connect: { x: { target: 'https://a.example/mcp', headers: { 'X-Key': '${NOPE}' } } } }), /field "mcp_connect.x.headers.X-Key": environment variable NOPE is not set/],
];

for (const [what, text, pattern] of BAD) {
  test(`${what} is refused, naming the file and the field`, () => {
    assert.throws(() => parseAgentCard('agents/a.md', text, OPTIONS), (error: unknown) => error instanceof AgentCardError && pattern.test(error.message));
  });
}

test('a folder: cards in name order, the default is the marked one or else the first', async () => {
  const marked = await loadAgentSet(agentsDir({ 'a.md': card({ model: 'passthrough' }), 'b.md': card({ model: 'passthrough', default: true }) }), OPTIONS);
  assert.deepEqual(marked.all.map((a) => a.name), ['a', 'b']);
  assert.equal(marked.default.name, 'b');
  const unmarked = await loadAgentSet(agentsDir({ 'b.md': card({ model: 'passthrough' }), 'a.md': card({ model: 'passthrough' }), 'notes.txt': 'ignored' }), OPTIONS);
  assert.deepEqual(unmarked.all.map((a) => a.name), ['a', 'b']);
  assert.equal(unmarked.default.name, 'a');
  assert.equal(unmarked.select(undefined), unmarked.default);
  assert.equal(unmarked.select('b')?.name, 'b');
  assert.equal(unmarked.select('nobody'), undefined);
});

test('a folder: duplicate names, two defaults, no cards and a missing folder are refused', async () => {
  await assert.rejects(loadAgentSet(agentsDir({ 'a.md': card({ model: 'passthrough', name: 'x' }), 'b.md': card({ model: 'passthrough', name: 'x' }) }), OPTIONS), /b\.md: field "name": "x" is also the name of .*a\.md/);
  await assert.rejects(loadAgentSet(agentsDir({ 'a.md': card({ model: 'passthrough', default: true }), 'b.md': card({ model: 'passthrough', default: true }) }), OPTIONS), /b\.md: field "default": only one agent may be the default/);
  await assert.rejects(loadAgentSet(agentsDir({ 'readme.txt': 'x' }), OPTIONS), /no agent cards \(\*\.md\) found/);
  await assert.rejects(loadAgentSet('/nonexistent/agents', OPTIONS), /cannot read the agent cards folder \(ENOENT\)/);
});

test('the shipped agents/ folder loads: one default agent and a second agent to route to', async () => {
  const agents = await loadAgentSet(path.join(ROOT, 'agents'), OPTIONS);
  assert.ok(agents.all.length >= 2);
  assert.equal(agents.all.filter((a) => a.markedDefault).length, 1);
});

test('a bad card stops `npm start` with an error naming the file and field, before listening', async () => {
  const dir = agentsDir({ 'broken.md': card({ model: 'passthrough', temperature: 0.5 }) });
  const { code, output } = await runStart({}, ['--agent-cards', dir]);
  assert.equal(code, 2);
  assert.match(output, /Cannot start: .*broken\.md: field "temperature": unknown field/);
  assert.doesNotMatch(output, /serving agents/);
  assert.doesNotMatch(output, /\n\s+at /, 'a clear message, not a stack trace');
});

test("with callers' own tokens required, a card may not put the server's HF_TOKEN in a header: start-up stops and says why", async () => {
  const serverToken = 'hf_ServerOwnTokenNeverToLeak0001';
  const mcp = { hub: { target: 'https://huggingface.co/mcp', headers: { Authorization: 'Bearer ${HF_TOKEN}' } } };
  const dir = agentsDir({ 'shared.md': card({ model: 'passthrough', mcp_connect: mcp }) });

  const { code, output } = await runStart({ FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_TOKEN: serverToken }, ['--agent-cards', dir]);
  assert.equal(code, 2);
  assert.match(output, /Cannot start: .*shared\.md: field "mcp_connect\.hub\.headers\.Authorization": \$\{HF_TOKEN\} would send the server's own token with every caller's requests/);
  assert.match(output, /auth: \{forward: huggingface\}/, 'it says what to write instead');
  assert.ok(!output.includes(serverToken), 'the token itself is not printed');
  assert.doesNotMatch(output, /serving agents/);

  // The same token under any other name, or under the other variable the Hub's tools read, too.
  for (const [variable, env] of [
    ['HUGGING_FACE_HUB_TOKEN', { HUGGING_FACE_HUB_TOKEN: serverToken }],
    ['TEAM_KEY', { HF_TOKEN: serverToken, TEAM_KEY: serverToken }],
  ] as const) {
    const copied = { hub: { target: 'https://huggingface.co/mcp', headers: { Authorization: `Bearer \${${variable}}` } } };
    assert.throws(
      () => parseAgentCard('shared.md', card({ model: 'passthrough', mcp_connect: copied }), { ...OPTIONS, env, callersAuthenticate: true }),
      (error: Error) => error instanceof AgentCardError && /server's own token/.test(error.message) && !error.message.includes(serverToken),
      variable,
    );
  }

  // Without inbound auth the server's token is the only one there is, and a card may use it.
  const agent = parseAgentCard('shared.md', card({ model: 'passthrough', mcp_connect: mcp }), { ...OPTIONS, env: { HF_TOKEN: serverToken } });
  assert.equal(agent.mcpServers[0]?.headers.Authorization, `Bearer ${serverToken}`);
});
