/**
 * The first middleware: gives each request an id (an inbound X-Request-Id that looks like one, else
 * a new one), echoes it back, and when the response starts writes one log line (request id, route,
 * A2A method, status, duration, caller id, task id; for a blocking send, how its turn ended) and
 * counts it for the metrics.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { ServerCallContext } from '@a2a-js/sdk/server';
import { TURN_ENDED, type TurnEnded } from '../a2a/request-handler.ts';
import type { Caller } from '../auth/caller.ts';
import { log } from '../util/log.ts';
import { randomUuid } from '../util/uuid.ts';
import type { Metrics } from './metrics.ts';
import { presetHeader, requestHeader } from './middleware.ts';

/** What the layers after this one tell it about a request, for the log line. */
export type ObservedEnv = {
  Variables: {
    requestId: string;
    caller: Caller;
    /** The A2A method (JSON-RPC) or operation (REST) the request called. */
    a2aMethod: string;
    taskId: string;
    /** The turn a blocking send waited for. */
    turn: TurnEnded;
  };
};

/** Puts the turn a blocking send waited for (if it did) on the request's log line. */
export function reportTurn(c: Context<ObservedEnv>, call: ServerCallContext): void {
  const turn = call.state.get(TURN_ENDED) as TurnEnded | undefined;
  if (turn) c.set('turn', turn);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The binding a path is meant for, as a route label (one per binding, whichever agent it names). */
function bindingOf(path: string): string {
  const binding = /^(\/agents\/[^/]+)?(\/a2a\/(?:jsonrpc|rest))/.exec(path);
  if (!binding) return 'unmatched';
  return binding[1] ? `/agents/:name${binding[2]}` : binding[2]!;
}

export function observeRequests(metrics: Metrics | undefined): MiddlewareHandler<ObservedEnv> {
  return async function observed(c, next) {
    const started = performance.now();
    const inbound = requestHeader(c, 'x-request-id');
    const requestId = inbound && REQUEST_ID.test(inbound) ? inbound : randomUuid();
    c.set('requestId', requestId);
    presetHeader(c, 'X-Request-Id', requestId);
    await next();
    // The route that answered. When a middleware answered (auth, a rate limit, not found), the
    // binding it was meant for, or one label for everything else: never the raw path.
    const answered = routePath(c);
    const route = answered !== '/*' ? answered : bindingOf(c.req.path);
    const status = c.res.status;
    const turn = c.get('turn');
    metrics?.countRequest(route, status);
    log.info('request', {
      requestId,
      method: c.req.method,
      route,
      // The path itself only where the route does not already say it (a wildcard, a parameter, nothing matched).
      path: c.req.path === route ? undefined : c.req.path,
      a2aMethod: c.get('a2aMethod'),
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      caller: c.get('caller')?.id || undefined,
      taskId: c.get('taskId') ?? turn?.taskId,
      // Written out rather than spread from the turn: every request line then has one shape.
      agent: turn?.agent,
      model: turn?.model,
      state: turn?.state,
      toolCalls: turn?.toolCalls,
      turnMs: turn?.ms,
    });
  };
}
