/**
 * Builds the whole server from a Config and serves it: agents -> runner -> executor -> SDK request
 * handler -> the two A2A bindings, behind the caller middleware, next to the public routes.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { A2A_ERROR_CODE } from '@a2a-js/sdk/errors';
import type { Config } from './config.ts';
import { loadAgentCards, type AgentSpec } from './agents/card-file.ts';
import { Conversations } from './agents/conversations.ts';
import { passthroughModel, type ChatModel } from './agents/model.ts';
import { AgentRunner } from './agents/runner.ts';
import { anonymousCaller, type CallerEnv } from './auth/caller.ts';
import { HubTokenVerifier, type HubVerifierOptions } from './auth/hub-verifier.ts';
import { requireHfToken } from './auth/middleware.ts';
import { protectedResourceMetadata } from './auth/resource-metadata.ts';
import { buildAgentCard, isLegacyVersion, JSONRPC_PATH, REST_PATH, serveCards, type ServedCard } from './a2a/card.ts';
import { ScopedEventBuses } from './a2a/event-buses.ts';
import { AgentTaskExecutor } from './a2a/executor.ts';
import { AgentRequestHandler } from './a2a/request-handler.ts';
import { jsonRpcEndpoint } from './a2a/jsonrpc.ts';
import { restEndpoint } from './a2a/rest.ts';
import { BoundedTaskStore, type TaskStoreLimits } from './a2a/task-store.ts';
import { routerModel, type RouterModelOptions } from './hf/inference.ts';
import { toolListingCache, type McpLimits } from './hf/mcp.ts';
import { renderLandingPage } from './web/page.ts';
import { allowAnyOrigin, limitBody, securityHeaders } from './web/http-middleware.ts';
import { describeError, log } from './util/log.ts';
import { redact } from './util/redact.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  /** Agents already loaded; read from config.agentCardsDir when absent. */
  agents?: AgentSpec[];
  /** Environment for `${VAR}` placeholders in agent cards. */
  env?: Record<string, string | undefined>;
  taskLimits?: Partial<TaskStoreLimits>;
  /** Timeouts and retries of model calls. */
  modelOptions?: Pick<RouterModelOptions, 'idleTimeoutMs' | 'maxAttempts' | 'backoffMs'>;
  /** Cache lifetimes and timeout of token checks. */
  verifierOptions?: Omit<HubVerifierOptions, 'hubUrl'>;
  /** Timeouts and result size of MCP tool calls. */
  mcpLimits?: Partial<McpLimits>;
  /** The fetch MCP connections use; tests route made-up hosts (a `*.hf.space` name) to loopback. */
  mcpFetch?: typeof fetch;
}

export interface RunningServer {
  /** The base URL the server listens on, e.g. http://127.0.0.1:7860 */
  url: string;
  taskStore: BoundedTaskStore;
  eventBuses: ScopedEventBuses;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const agents =
    options.agents ??
    (await loadAgentCards(config.agentCardsDir, {
      defaultModel: config.defaultModel,
      env: options.env ?? {},
      hubUrl: config.hubUrl,
      callersAuthenticate: config.auth === 'huggingface',
    }));

  // Listen first: the card advertises the bound address when no public URL is configured.
  let app: Hono<CallerEnv> | undefined;
  const server = await listen(config, (request) => app!.fetch(request));
  const { port } = server.address() as AddressInfo;
  const listenUrl = `http://${urlHost(config.host)}:${port}`;
  if (config.onSpace && config.auth === 'off' && config.serverToken) {
    log.warn('FAST_AGENT_SERVE_OAUTH is not set on this Space, so every caller works with the Space\'s own HF_TOKEN and spends its quota; set FAST_AGENT_SERVE_OAUTH=huggingface to make callers use their own tokens');
  }
  if (!config.publicUrl && isWildcard(config.host)) {
    log.warn('no public URL is configured, so the agent card advertises the loopback address; set FAST_AGENT_PUBLIC_URL', { listenUrl });
  }

  // Without inbound auth every caller is the same anonymous owner, so a per-caller quota would only
  // shrink the store: it applies to verified callers alone.
  const perCaller = config.auth === 'huggingface' ? {} : { maxTasksPerOwner: Infinity };
  const taskStore = new BoundedTaskStore({ ...perCaller, ...options.taskLimits });
  const eventBuses = new ScopedEventBuses();
  app = buildApp(config, agents, { ...options, baseUrl: config.publicUrl ?? listenUrl, taskStore, eventBuses });
  log.info('serving agents', { url: listenUrl, agents: agents.map((agent) => agent.name).join(','), auth: config.auth });

  return {
    url: listenUrl,
    taskStore,
    eventBuses,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        (server as import('node:http').Server).closeAllConnections?.();
      }),
  };
}

interface AppParts extends Pick<ServerOptions, 'modelOptions' | 'verifierOptions' | 'mcpLimits' | 'mcpFetch'> {
  baseUrl: string;
  taskStore: BoundedTaskStore;
  eventBuses: ScopedEventBuses;
}

export function buildApp(config: Config, agents: AgentSpec[], { baseUrl, taskStore, eventBuses, modelOptions, verifierOptions, mcpLimits, mcpFetch }: AppParts): Hono<CallerEnv> {
  const authOn = config.auth === 'huggingface';
  const modelFor = (agent: AgentSpec): ChatModel =>
    agent.model.kind === 'passthrough'
      ? passthroughModel
      : routerModel({ inferenceUrl: config.inferenceUrl, modelId: agent.model.id, ...modelOptions });
  const runner = new AgentRunner(agents, modelFor, {
    conversations: config.instanceScope === 'connection' ? new Conversations(authOn ? {} : { maxConversationsPerOwner: Infinity }) : undefined,
    hubUrl: config.hubUrl,
    listings: toolListingCache(),
    mcpLimits,
    mcpFetch,
  });
  const card = buildAgentCard({ baseUrl, agents, auth: authOn ? { hubUrl: config.hubUrl, scopes: config.scopes } : undefined });
  const requestHandler = new AgentRequestHandler(card, taskStore, new AgentTaskExecutor(runner), eventBuses);
  const cards = serveCards(card);
  const page = renderLandingPage({ baseUrl, agents, authRequired: authOn });
  const resourceUrl = config.resourceUrl ?? baseUrl;
  const resourceMetadata = JSON.stringify(protectedResourceMetadata({ resource: resourceUrl, hubUrl: config.hubUrl, scopes: config.scopes, name: card.name }));

  const app = new Hono<CallerEnv>();
  app.use(securityHeaders());
  app.use(allowAnyOrigin());

  // Public routes.
  app.get('/', (c) => {
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *");
    return c.html(page);
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const serveCard = (c: Context) => {
    const served: ServedCard = isLegacyVersion(c.req.header('A2A-Version')) ? cards.v03 : cards.v1;
    c.header('Cache-Control', 'public, max-age=300');
    c.header('Vary', 'A2A-Version');
    c.header('ETag', served.etag);
    if (c.req.header('If-None-Match')?.split(',').some((tag) => tag.trim() === served.etag)) return c.body(null, 304);
    return c.body(served.body, 200, { 'Content-Type': 'application/json' });
  };
  app.get('/.well-known/agent-card.json', serveCard);
  app.get('/.well-known/agent.json', serveCard);

  if (authOn) {
    app.get('/.well-known/oauth-protected-resource', (c) => c.body(resourceMetadata, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' }));
  }

  // Everything below acts for a caller: with auth on, only for one the Hub vouches for. No path
  // reaches an action without passing here, whatever its spelling, because nothing is exempt but the
  // exact public routes above.
  if (authOn) {
    const verifier = new HubTokenVerifier({ ...verifierOptions, hubUrl: config.hubUrl });
    app.use(requireHfToken({ verifier, resourceMetadataUrl: `${resourceUrl}/.well-known/oauth-protected-resource`, scopes: config.scopes }));
  } else {
    const serverCaller = anonymousCaller(config.serverToken);
    app.use(async (c, next) => {
      c.set('caller', serverCaller);
      await next();
    });
  }

  app.post(JSONRPC_PATH, limitBody(MAX_BODY_BYTES, jsonRpcTooLarge), jsonRpcEndpoint(requestHandler, card));
  app.all(`${REST_PATH}/*`, limitBody(MAX_BODY_BYTES, restTooLarge), restEndpoint(requestHandler, card, REST_PATH));

  app.notFound((c) =>
    c.json({ error: { code: 404, status: 'NOT_FOUND', message: redact(`Nothing here: ${c.req.method} ${c.req.path}. The agent card is at /.well-known/agent-card.json.`) } }, 404),
  );
  app.onError((error, c) => {
    log.error('request failed', { method: c.req.method, path: c.req.path, error: describeError(error) });
    return c.json({ error: { code: 500, status: 'INTERNAL', message: 'Internal error. The server log has the details.' } }, 500);
  });
  return app;
}

const TOO_LARGE = `Request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB.`;

// The unread rest of an oversized body would be parsed as the next request, so the connection closes.
function jsonRpcTooLarge(c: Context): Response {
  c.header('Connection', 'close');
  return c.json({ jsonrpc: '2.0', id: null, error: { code: A2A_ERROR_CODE.INVALID_REQUEST, message: TOO_LARGE } }, 413);
}

function restTooLarge(c: Context): Response {
  c.header('Connection', 'close');
  return c.json({ error: { code: 413, status: 'RESOURCE_EXHAUSTED', message: TOO_LARGE, details: [] } }, 413);
}

function listen(config: Config, fetch: (request: Request) => Response | Promise<Response>): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: config.host, port: config.port }, () => resolve(server));
    server.once('error', reject);
  });
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function urlHost(host: string): string {
  if (isWildcard(host)) return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
