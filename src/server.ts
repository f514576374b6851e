/**
 * Composition: builds the server from a Config and serves it. Agents -> agent loop (with the
 * outbound adapters plugged into its ports) -> request handler -> HTTP edge, behind the caller
 * middleware, next to the public routes. Nothing here decides behaviour; it only connects parts.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Context } from 'hono';
import { TaskState } from '@a2a-js/sdk';
import { callersAuthenticate, ConfigError, type Config } from './config.ts';
import { AgentSet, loadAgentSet, type AgentSpec } from './agents/agent-set.ts';
import { Conversations, type ConversationLimits } from './agents/conversations.ts';
import { passthroughModel } from './agents/passthrough.ts';
import type { ChatModel, ToolSessionFactory } from './agents/ports.ts';
import { AgentRunner } from './agents/runner.ts';
import { HubTokenVerifier, type HubVerifierOptions } from './auth/hub-verifier.ts';
import { buildIdentity, discoverConfiguredIssuer, identitySecrets, schemesForCards, type IdentityOptions } from './auth/identity.ts';
import { anonymousCallers, authenticate } from './auth/middleware.ts';
import { buildAgentCard } from './a2a/card.ts';
import { TaskHandler, type TaskHandlerLimits } from './a2a/request-handler.ts';
import { StopReason } from './a2a/task-run.ts';
import { TaskStore, type TaskStoreLimits } from './a2a/task-store.ts';
import { routerModel, type RouterModelOptions } from './hf/inference.ts';
import { mcpTools, toolListingCache, type McpLimits } from './hf/mcp.ts';
import { buildHttpApp } from './http/app.ts';
import { clientAddress, isLoopback } from './http/client-address.ts';
import { Metrics } from './http/metrics.ts';
import { answerInTurn } from './http/pipelining.ts';
import { cutStalledWriters } from './http/stalled-writers.ts';
import { pageAccess } from './web/access.ts';
import { registerWebRoutes } from './web/routes.ts';
import { log } from './util/log.ts';
import { registerSecret } from './util/redact.ts';
import { SECRET_NAME } from './auth/credentials.ts';

const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  /** Environment for `${VAR}` placeholders in agent cards. */
  env?: Record<string, string | undefined>;
  taskLimits?: Partial<TaskStoreLimits>;
  conversationLimits?: Partial<ConversationLimits>;
  handlerLimits?: Partial<TaskHandlerLimits>;
  /** Timeouts and retries of model calls. */
  modelOptions?: Pick<RouterModelOptions, 'idleTimeoutMs' | 'maxAttempts' | 'backoffMs'>;
  /** Cache lifetimes, timeout and rates of token checks. */
  verifierOptions?: Omit<HubVerifierOptions, 'hubUrl' | 'onCheck'>;
  /** Timeouts and result size of MCP tool calls. */
  mcpLimits?: Partial<McpLimits>;
  /** Issuer discovery, JWKS caching and token-exchange knobs (defaults where declared, in src/auth). */
  identityOptions?: IdentityOptions;
  /** The fetch MCP connections use; tests route made-up hosts (a `*.hf.space` name) to loopback. */
  mcpFetch?: typeof fetch;
  /** Milliseconds a client has to send a whole request, headers and body (default 30 s). */
  requestTimeoutMs?: number;
  /** Milliseconds a connection may hold answer bytes its client takes none of before it is cut (its default is in src/http/stalled-writers.ts). */
  writeStallMs?: number;
}

export interface RunningServer {
  /** The base URL the server listens on, e.g. http://127.0.0.1:7860 */
  url: string;
  tasks: TaskStore;
  requestHandler: TaskHandler;
  /**
   * Stops accepting, lets turns in flight finish for up to `drainMs` (default 0), ends the rest as
   * "the server is restarting", and closes every connection.
   */
  close(drainMs?: number): Promise<void>;
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  registerSecret(config.serverToken);
  registerSecret(config.metricsToken);
  registerSecret(config.oauth.clientSecret);
  for (const secret of identitySecrets(config)) registerSecret(secret);
  const authOn = callersAuthenticate(config);
  const agents = await loadAgentSet(config.agentCardsDir, {
    defaultModel: config.defaultModel,
    env: options.env ?? {},
    hubUrl: config.hubUrl,
    callersAuthenticate: authOn,
    schemes: schemesForCards(config),
  });
  // The card advertises the issuer's flows: read its discovery document before serving anything.
  const issuer = await discoverConfiguredIssuer(config, options.identityOptions?.discovery).catch((error: unknown) => {
    throw new ConfigError(`A2A_OIDC_ISSUER: ${(error as Error).message}`);
  });

  // A card's own credentials for its tool servers (`X-Api-Key: ${KEY}`) are secrets of the server's too.
  for (const server of agents.all.flatMap((agent) => agent.mcpServers)) {
    for (const [name, value] of Object.entries(server.headers)) if (SECRET_NAME.test(name)) registerSecret(value.replace(/^(Bearer|Basic)\s+/i, ''));
  }

  // Listen first: the card advertises the bound address when no public URL is configured.
  let app: { fetch(request: Request, env: unknown): Response | Promise<Response> } | undefined;
  const server = await listen(config, { requestTimeoutMs: options.requestTimeoutMs ?? 30_000, writeStallMs: options.writeStallMs }, (request, env) => app!.fetch(request, env));
  const { port } = server.address() as AddressInfo;
  const listenUrl = `http://${urlHost(config.host)}:${port}`;
  if (config.onSpace && !authOn && config.serverToken) {
    log.warn("FAST_AGENT_SERVE_OAUTH is not set on this Space, so every caller works with the Space's own HF_TOKEN and spends its quota; set FAST_AGENT_SERVE_OAUTH=huggingface to make callers use their own tokens");
  } else if (config.onSpace && !authOn) {
    log.warn('NO AUTHENTICATION: no scheme is configured on this Space, so anyone on the internet can call its agents anonymously; set FAST_AGENT_SERVE_OAUTH=huggingface, A2A_API_KEYS or A2A_OIDC_ISSUER');
  }
  if (!config.publicUrl && isWildcard(config.host)) {
    log.warn('no public URL is configured, so the agent card advertises the loopback address; set FAST_AGENT_PUBLIC_URL', { listenUrl });
  }

  const baseUrl = config.publicUrl ?? listenUrl;
  // Without inbound auth every caller is the same anonymous one, so per-caller limits would only
  // shrink what everyone shares: they apply to verified callers alone.
  const perCaller = authOn ? {} : { maxEntriesPerOwner: Infinity, maxWeightPerOwner: Infinity };
  const tasks = new TaskStore({ ...perCaller, ...options.taskLimits });
  const conversations = config.instanceScope === 'connection' ? new Conversations({ ...perCaller, ...options.conversationLimits }) : undefined;

  let requestHandler: TaskHandler | undefined;
  const metrics = new Metrics({
    openStreams: () => requestHandler?.watching ?? 0,
    runningTurns: () => requestHandler?.running ?? 0,
    storeWeights: () => ({ tasks: tasks.weight, conversations: conversations?.weight ?? 0 }),
  });
  const runner = new AgentRunner({
    agents,
    modelFor: (agent) => (agent.model.kind === 'passthrough' ? passthroughModel : timedModel(modelFor(agent, config, options), agent.modelName, metrics)),
    openTools: timedTools(mcpTools({ hubUrl: config.hubUrl, listings: toolListingCache(), limits: options.mcpLimits, fetch: options.mcpFetch }), metrics),
    conversations,
  });
  const resourceUrl = config.resourceUrl ?? baseUrl;
  // One verifier and one notion of a client's address for everything that checks a Hugging Face token.
  const verifier = new HubTokenVerifier({ ...options.verifierOptions, hubUrl: config.hubUrl, onCheck: (outcome) => metrics.hubChecks.inc({ outcome }) });
  const identity = buildIdentity({
    config,
    verifier,
    issuer,
    resourceUrl,
    name: agents.default.name,
    agentScopes: agents.all.flatMap((agent) => agent.access.scopes),
    options: options.identityOptions,
  });
  const card = buildAgentCard({ baseUrl, agents, security: identity.card });
  requestHandler = new TaskHandler({
    card,
    store: tasks,
    runner,
    limits: { ...(authOn ? {} : { maxRunningPerCaller: Infinity, maxWatchingPerCaller: Infinity }), ...options.handlerLimits },
    onTurnEnd: (ended) => {
      metrics.countTaskEnd(ended.state);
      if (!ended.reportedByRequest) log.info('task turn ended', { ...ended, reportedByRequest: undefined });
    },
  });

  const rate = (perSecond: number) => (perSecond > 0 ? { perSecond, burst: perSecond * 5 } : undefined);
  const ownEndpoints = agents.all.map((agent) => {
    const basePath = `/agents/${agent.name}`;
    const ownCard = buildAgentCard({ baseUrl: `${baseUrl}${basePath}`, agents: new AgentSet([agent]), security: identity.card });
    return { basePath, card: ownCard, requestHandler: requestHandler.forAgent(agent, ownCard) };
  });
  const addressOf = (c: Context) => {
    const address = clientAddress(c, config.trustedProxies);
    return isLoopback(address) ? undefined : address;
  };
  app = buildHttpApp({
    endpoints: [{ basePath: '', card, requestHandler }, ...ownEndpoints],
    web: (routes) =>
      registerWebRoutes(routes, { baseUrl, agents, access: pageAccess(identity.card), hubUrl: config.hubUrl, oauth: config.oauth, spaceId: config.spaceId, tokenVerifier: verifier, addressOf }),
    resourceMetadata: identity.resourceMetadata,
    authenticate: identity.schemes.length > 0 ? authenticate({ schemes: identity.schemes, access: identity.access, addressOf }) : anonymousCallers(config.serverToken),
    maxBodyBytes: MAX_BODY_BYTES,
    // Without a scheme no caller is verified, so a per-caller limit could never apply: none is mounted.
    rates: { perAddress: rate(config.addressRate), perCaller: identity.schemes.length > 0 ? rate(config.callerRate) : undefined },
    trustedProxies: config.trustedProxies,
    metrics,
    metricsToken: config.metricsToken,
  });
  log.info('serving agents', { url: listenUrl, agents: agents.names, auth: identity.schemes.map((scheme) => scheme.name).join(', ') || 'off' });

  return {
    url: listenUrl,
    tasks,
    requestHandler,
    close: async (drainMs = 0) => {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      await requestHandler.close(new StopReason(TaskState.TASK_STATE_FAILED, 'The server is restarting; send the message again in a moment.'), drainMs);
      server.closeAllConnections();
      await closed;
    },
  };
}

function modelFor(agent: AgentSpec, config: Config, options: ServerOptions): ChatModel {
  return agent.model.kind === 'passthrough' ? passthroughModel : routerModel({ inferenceUrl: config.inferenceUrl, modelId: agent.model.id, ...options.modelOptions });
}

/** The model, with each call's duration and outcome counted. */
function timedModel(model: ChatModel, name: string, metrics: Metrics): ChatModel {
  return {
    async stream(request, sink) {
      const stop = metrics.modelCalls.startTimer({ model: name });
      let outcome = 'error';
      try {
        await model.stream(request, sink);
        outcome = 'ok';
      } finally {
        stop({ outcome });
      }
    },
  };
}

/** The tool sessions, with each call's duration and outcome counted. */
function timedTools(open: ToolSessionFactory, metrics: Metrics): ToolSessionFactory {
  return (servers, caller) => {
    const session = open(servers, caller);
    return {
      listTools: (signal) => session.listTools(signal),
      describe: (name) => session.describe(name),
      close: () => session.close(),
      async call(name, argumentsJson, signal) {
        const stop = metrics.toolCalls.startTimer({ server: session.describe(name)?.server ?? 'unknown' });
        const outcome = await session.call(name, argumentsJson, signal).catch((error: unknown) => {
          stop({ outcome: 'error' });
          throw error;
        });
        stop({ outcome: outcome.ok ? 'ok' : 'error' });
        return outcome;
      },
    };
  };
}

function listen(
  config: Config,
  { requestTimeoutMs, writeStallMs }: { requestTimeoutMs: number; writeStallMs: number | undefined },
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        // One answer built or held per connection at a time, however many requests it pipelines.
        fetch: answerInTurn(fetch),
        hostname: config.host,
        port: config.port,
        // A client must send its whole request within the timeout; the check runs this often.
        serverOptions: { requestTimeout: requestTimeoutMs, headersTimeout: Math.min(requestTimeoutMs, 20_000), connectionsCheckingInterval: Math.min(requestTimeoutMs, 30_000) / 2 },
      },
      () => resolve(server as Server),
    ) as Server;
    cutStalledWriters(server, { stallMs: writeStallMs });
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
