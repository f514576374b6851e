/**
 * The reference a user would otherwise pick: the SDK's own Express adapter, DefaultRequestHandler and
 * InMemoryTaskStore, serving the very same agent as this server: this project's executor and agent
 * loop (src/a2a/executor.ts, src/agents/runner.ts) with the same `echo` card and passthrough model.
 * Only the parts this project replaces differ: the HTTP adapter, the task store, the middleware.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { parseAgentCard } from '../../src/agents/card-file.ts';
import { Conversations } from '../../src/agents/conversations.ts';
import { passthroughModel } from '../../src/agents/model.ts';
import { AgentRunner } from '../../src/agents/runner.ts';
import { buildAgentCard, JSONRPC_PATH } from '../../src/a2a/card.ts';
import { AgentTaskExecutor } from '../../src/a2a/executor.ts';
import { toolListingCache } from '../../src/hf/mcp.ts';
import { ECHO_CARD } from '../echo-card.ts';

const agents = [parseAgentCard('echo.md', ECHO_CARD, { defaultModel: undefined, env: {}, hubUrl: 'https://huggingface.co' })];
const runner = new AgentRunner(agents, () => passthroughModel, { conversations: new Conversations(), hubUrl: 'https://huggingface.co', listings: toolListingCache() });

const app = express();
const server = app.listen(0, '127.0.0.1', () => {
  // The card names the bound URL, so the route is mounted once the port is known.
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requestHandler = new DefaultRequestHandler(buildAgentCard({ baseUrl: url, agents }), new InMemoryTaskStore(), new AgentTaskExecutor(runner));
  app.use(JSONRPC_PATH, jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication }));
  process.stderr.write(`${JSON.stringify({ message: 'listening', url })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
