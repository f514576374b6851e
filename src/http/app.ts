/**
 * The HTTP edge: which routes exist and who may call them. Public routes first; everything
 * registered after `authenticate` acts for a caller, and with auth on, only for one that passed it.
 * No path reaches an action without passing there, whatever its spelling, because nothing is exempt
 * but the exact public routes.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AgentCard } from '@a2a-js/sdk';
import { A2A_ERROR_CODE } from '@a2a-js/sdk/errors';
import type { A2ARequestHandler } from '@a2a-js/sdk/server';
import { JSONRPC_PATH, REST_PATH } from '../a2a/card.ts';
import type { BucketRate } from '../util/token-buckets.ts';
import { describeError, log } from '../util/log.ts';
import { agentCardRoute, staticJsonRoute } from './card-routes.ts';
import { restErrorResponse, rpcErrorResponse } from './errors.ts';
import { jsonRpcEndpoint } from './jsonrpc.ts';
import { metricsRoute, type Metrics } from './metrics.ts';
import { edgeHeaders, limitBody } from './middleware.ts';
import { observeRequests, type ObservedEnv } from './observe.ts';
import { limitByAddress, limitByCaller, type RateRefusal } from './rate-limit.ts';
import { restEndpoint } from './rest.ts';

/** An A2A agent served under a path of its own: its card and the handler that serves it. */
export interface AgentEndpoint {
  /** Where it is mounted, e.g. /agents/researcher ('' for the combined one at the root). */
  basePath: string;
  card: AgentCard;
  requestHandler: A2ARequestHandler;
}

export interface HttpParts {
  /** The combined agent (every agent a skill) at the root, and one per agent under /agents/<name>. */
  endpoints: AgentEndpoint[];
  /** Registers the Space's page and its sign-in routes (public). */
  web: (app: Hono<ObservedEnv>) => void;
  /** RFC 9728 metadata, served when callers must authenticate. */
  resourceMetadata: Record<string, unknown> | undefined;
  /** Sets the caller of every request that acts for one (or refuses the request). */
  authenticate: MiddlewareHandler<ObservedEnv>;
  /** Request bodies larger than this are refused with 413. */
  maxBodyBytes: number;
  /** Request rates per client address (before authentication) and per verified caller; undefined: no limit. */
  rates: { perAddress: BucketRate | undefined; perCaller: BucketRate | undefined };
  /** Proxies in front whose X-Forwarded-For entry names the client. */
  trustedProxies: number;
  /** Counted when given; served at /metrics when `metricsToken` is set too. */
  metrics: Metrics | undefined;
  metricsToken: string | undefined;
}

export function buildHttpApp(parts: HttpParts): Hono<ObservedEnv> {
  const { endpoints, web, resourceMetadata, authenticate, maxBodyBytes, rates, trustedProxies, metrics, metricsToken } = parts;
  const app = new Hono<ObservedEnv>();
  app.use(observeRequests(metrics));
  app.use(edgeHeaders());

  // Public routes.
  web(app);
  app.get('/healthz', function health(c) {
    return c.json({ status: 'ok' });
  });
  for (const { basePath, card } of endpoints) {
    const cardRoute = agentCardRoute(card);
    app.get(`${basePath}/.well-known/agent-card.json`, cardRoute);
    app.get(`${basePath}/.well-known/agent.json`, cardRoute);
  }
  if (resourceMetadata) app.get('/.well-known/oauth-protected-resource', staticJsonRoute(resourceMetadata));
  // Behind a bearer of its own, before the callers' authentication.
  if (metrics && metricsToken) app.get('/metrics', metricsRoute(metrics, metricsToken));

  // Everything below acts for a caller.
  if (rates.perAddress) app.use(limitByAddress(rates.perAddress, trustedProxies, tooManyRequests));
  app.use(authenticate);
  if (rates.perCaller) app.use(limitByCaller(rates.perCaller, tooManyRequests));

  const tooLarge = `Request body is larger than ${maxBodyBytes / 1024 / 1024} MiB.`;
  const jsonRpcTooLarge = (c: Context) => rpcErrorResponse(c, null, { code: A2A_ERROR_CODE.INVALID_REQUEST, message: tooLarge }, 413);
  const restTooLarge = (c: Context) => restErrorResponse(c, 413, 'RESOURCE_EXHAUSTED', tooLarge);
  for (const { basePath, card, requestHandler } of endpoints) {
    const jsonRpc = jsonRpcEndpoint(requestHandler, card);
    // The trailing-slash form too: some clients (the conformance kit's) post to the card's URL with one.
    for (const path of [`${basePath}${JSONRPC_PATH}`, `${basePath}${JSONRPC_PATH}/`]) app.post(path, limitBody(maxBodyBytes, jsonRpcTooLarge), jsonRpc);
    app.all(`${basePath}${REST_PATH}/*`, limitBody(maxBodyBytes, restTooLarge), restEndpoint(requestHandler, card, `${basePath}${REST_PATH}`));
  }

  app.notFound(function notFound(c) {
    return restErrorResponse(c, 404, 'NOT_FOUND', `Nothing here: ${c.req.method} ${c.req.path}. The agent card is at /.well-known/agent-card.json.`);
  });
  app.onError(function internalError(error, c) {
    log.error('request failed', { method: c.req.method, path: c.req.path, error: describeError(error) });
    return restErrorResponse(c, 500, 'INTERNAL', 'Internal error. The server log has the details.');
  });
  return app;
}

const tooManyRequests: RateRefusal = (c, retryAfterSeconds, who) => {
  c.header('Retry-After', String(retryAfterSeconds));
  const message = who === 'caller' ? 'You are sending requests faster than this server accepts from one caller.' : 'Requests from your address are coming faster than this server accepts.';
  return restErrorResponse(c, 429, 'RESOURCE_EXHAUSTED', `${message} Try again in ${retryAfterSeconds} s.`);
};

