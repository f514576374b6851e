/**
 * The reference a user would otherwise pick: the SDK's own Express adapter, DefaultRequestHandler and
 * InMemoryTaskStore, serving the very same agent as this server: this project's agent loop
 * (src/agents/runner.ts) with the same `echo` card and passthrough model, under the smallest
 * AgentExecutor that publishes what an A2A agent must (the task, the answer as chunks of one
 * artifact, the final status). Only what this project replaces differs: the HTTP adapter, the
 * request handler, the task store, the middleware.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { TaskState, type Part } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { AgentSet, parseAgentCard } from '../../src/agents/agent-set.ts';
import { Conversations } from '../../src/agents/conversations.ts';
import { passthroughModel } from '../../src/agents/passthrough.ts';
import { AgentRunner } from '../../src/agents/runner.ts';
import { Caller } from '../../src/auth/caller.ts';
import { buildAgentCard, JSONRPC_PATH } from '../../src/a2a/card.ts';
import { ECHO_CARD } from '../echo-card.ts';

const agents = new AgentSet([parseAgentCard('echo.md', ECHO_CARD, { defaultModel: undefined, env: {}, hubUrl: 'https://huggingface.co' })]);
const runner = new AgentRunner({
  agents,
  modelFor: () => passthroughModel,
  openTools: () => {
    throw new Error('the bench agent has no tools');
  },
  conversations: new Conversations(),
});
const anonymous = new Caller({ id: '', credential: undefined, authenticated: false });

const textPart = (text: string): Part => ({ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined });

const executor: AgentExecutor = {
  async execute(request, bus) {
    const { taskId, contextId } = request;
    const status = (state: TaskState) => ({ state, message: undefined, timestamp: new Date().toISOString() });
    bus.publish(AgentEvent.task({ id: taskId, contextId, status: status(TaskState.TASK_STATE_WORKING), artifacts: [], history: [request.userMessage], metadata: { agent: 'echo' } }));
    const text = request.userMessage.parts.map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('\n');
    let answer = '';
    let chunks = 0;
    const chunk = (piece: string, lastChunk: boolean) =>
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: { artifactId: 'response', name: 'response', description: '', parts: [textPart(piece)], metadata: undefined, extensions: [] },
          append: chunks++ > 0,
          lastChunk,
          metadata: undefined,
        }),
      );
    await runner.run(
      { agent: agents.default, caller: anonymous, tenant: '', contextId, text },
      { signal: new AbortController().signal, text: (delta) => void (answer += delta), progress: () => {}, toolCalled: () => {} },
    );
    chunk(answer, true);
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(TaskState.TASK_STATE_COMPLETED), metadata: {} }));
  },
  async cancelTask() {},
};

const app = express();
const server = app.listen(0, '127.0.0.1', () => {
  // The card names the bound URL, so the route is mounted once the port is known.
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requestHandler = new DefaultRequestHandler(buildAgentCard({ baseUrl: url, agents }), new InMemoryTaskStore(), executor);
  app.use(JSONRPC_PATH, jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication }));
  process.stderr.write(`${JSON.stringify({ message: 'listening', url })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));

