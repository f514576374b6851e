/**
 * The HTTP+JSON binding (A2A 1.0) under /a2a/rest, with or without a `/{tenant}` prefix:
 *
 *   POST /message:send              POST /message:stream
 *   GET  /tasks                     GET  /tasks/{id}
 *   POST /tasks/{id}:cancel         GET|POST /tasks/{id}:subscribe
 *   GET  /extendedAgentCard
 *
 * The SDK ships this binding only inside its Express adapter, so the routing and the translation of
 * HTTP to SDK calls live here; the SDK's request handler does the work. Paths are matched exactly:
 * anything else is a 404 (or 405 for a known path with the wrong method) in the binding's error
 * shape.
 */
import type { Context } from 'hono';
import {
  A2A_CONTENT_TYPE,
  A2A_VERSION_HEADER,
  Extensions,
  HTTP_EXTENSION_HEADER,
  ListTasksRequest,
  ListTasksResponse,
  Message,
  SendMessageRequest,
  StreamResponse,
  Task,
  AgentCard,
} from '@a2a-js/sdk';
import {
  A2AError,
  ContentTypeNotSupportedError,
  RequestMalformedError,
  restStatusFor,
  toRestErrorBody,
} from '@a2a-js/sdk/errors';
import { ServerCallContext, validateVersion, type A2ARequestHandler } from '@a2a-js/sdk/server';
import type { CallerEnv } from '../auth/caller.ts';
import { isJsonContentType, isValidTenant, TENANT_RULE } from './request-checks.ts';
import { sseResponse } from './sse.ts';
import { describeError, log } from '../util/log.ts';
import { redact } from '../util/redact.ts';

type Operation = 'send' | 'stream' | 'list' | 'get' | 'cancel' | 'subscribe' | 'extendedCard';
interface Route {
  operation: Operation;
  tenant: string;
  taskId?: string;
}

const METHODS: Record<Operation, readonly string[]> = {
  send: ['POST'],
  stream: ['POST'],
  list: ['GET'],
  get: ['GET'],
  cancel: ['POST'],
  subscribe: ['GET', 'POST'],
  extendedCard: ['GET'],
};

/** Matches the path below /a2a/rest to an operation, with an optional leading tenant segment. */
export function matchRestPath(path: string): Route | undefined {
  const segments = path.split('/').filter((segment, i) => i > 0 || segment !== '');
  if (segments.some((segment) => segment === '')) return undefined;
  return matchOperation(segments, '') ?? (segments.length > 1 ? matchOperation(segments.slice(1), segments[0]!) : undefined);
}

function matchOperation(segments: string[], tenant: string): Route | undefined {
  const [first, second, ...rest] = segments;
  if (rest.length > 0 || first === undefined) return undefined;
  if (second === undefined) {
    if (first === 'message:send') return { operation: 'send', tenant };
    if (first === 'message:stream') return { operation: 'stream', tenant };
    if (first === 'tasks') return { operation: 'list', tenant };
    if (first === 'extendedAgentCard') return { operation: 'extendedCard', tenant };
    return undefined;
  }
  if (first !== 'tasks') return undefined;
  const match = /^([^:]+)(?::(cancel|subscribe))?$/.exec(second);
  if (!match) return undefined;
  return { operation: (match[2] as Operation | undefined) ?? 'get', tenant, taskId: match[1] };
}

export function restEndpoint(requestHandler: A2ARequestHandler, card: AgentCard, mountPath: string) {
  return async (c: Context<CallerEnv>): Promise<Response> => {
    const route = matchRestPath(c.req.path.slice(mountPath.length));
    if (!route) return errorResponse(c, 404, errorBody(404, 'NOT_FOUND', `There is no A2A operation at ${c.req.method} ${c.req.path}.`));
    if (route.tenant && !isValidTenant(route.tenant)) {
      return errorResponse(c, 400, errorBody(400, 'INVALID_ARGUMENT', `A tenant ${TENANT_RULE}.`));
    }
    const allowed = METHODS[route.operation];
    if (!allowed.includes(c.req.method)) {
      return json(c, 405, errorBody(405, 'METHOD_NOT_ALLOWED', `Use ${allowed.join(' or ')} for this operation.`), { Allow: allowed.join(', ') });
    }

    if ((route.operation === 'send' || route.operation === 'stream') && !isJsonContentType(c.req.header('content-type'))) {
      const refusal = new ContentTypeNotSupportedError(
        `Send the body as Content-Type: application/a2a+json (or application/json), not ${JSON.stringify(c.req.header('content-type') ?? '')}.`,
      );
      return errorResponse(c, 415, toRestErrorBody(refusal, 415));
    }

    try {
      const context = new ServerCallContext({
        user: c.get('caller'),
        tenant: route.tenant || undefined,
        requestedVersion: c.req.header(A2A_VERSION_HEADER),
        requestedExtensions: Extensions.parseServiceParameter(c.req.header(HTTP_EXTENSION_HEADER)),
      });
      validateVersion(context.requestedVersion, card, 'HTTP+JSON');
      const tenant = route.tenant;
      const id = route.taskId ?? '';

      switch (route.operation) {
        case 'send': {
          const result = await requestHandler.sendMessage(await sendRequest(c, tenant), context);
          return json(c, 200, 'messageId' in result ? { message: Message.toJSON(result) } : { task: Task.toJSON(result) });
        }
        case 'stream':
          return sseResponse(c, requestHandler.sendMessageStream(await sendRequest(c, tenant), context), {
            drainAfterClientLeaves: true,
            toJson: StreamResponse.toJSON,
            errorJson: restStreamError,
            failEarly: (failure) => fail(c, failure),
          });
        case 'subscribe':
          return sseResponse(c, requestHandler.resubscribe({ id, tenant }, context), {
            drainAfterClientLeaves: false,
            toJson: StreamResponse.toJSON,
            errorJson: restStreamError,
            failEarly: (failure) => fail(c, failure),
          });
        case 'get':
          return json(c, 200, Task.toJSON(await requestHandler.getTask({ id, tenant, historyLength: optionalCount(c, 'historyLength') }, context)));
        case 'cancel':
          return json(c, 200, Task.toJSON(await requestHandler.cancelTask({ id, tenant, metadata: {} }, context)));
        case 'list': {
          const response = await requestHandler.listTasks(listRequest(c, tenant), context);
          return json(c, 200, ListTasksResponse.toJSON(response));
        }
        case 'extendedCard':
          return json(c, 200, AgentCard.toJSON(await requestHandler.getAuthenticatedExtendedAgentCard({ tenant }, context)));
      }
    } catch (failure) {
      return fail(c, failure);
    }
  };
}

function json(c: Context, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), status as 200, { 'Content-Type': A2A_CONTENT_TYPE, ...headers });
}

/** Error messages can quote the request (a path, a task id); a credential pasted there is not echoed. */
function errorResponse(c: Context, status: number, body: { error: { message: string } }): Response {
  return json(c, status, scrubbed(body));
}

function scrubbed<T extends { error: { message: string } }>(body: T): T {
  return { ...body, error: { ...body.error, message: redact(body.error.message) } };
}

function fail(c: Context, failure: unknown): Response {
  if (!(failure instanceof A2AError)) {
    log.error('REST request failed', { path: c.req.path, error: describeError(failure) });
    return json(c, 500, errorBody(500, 'INTERNAL', 'Internal error. The server log has the details.'));
  }
  const status = restStatusFor(failure);
  return errorResponse(c, status, toRestErrorBody(failure, status));
}

function restStreamError(failure: unknown) {
  return scrubbed(toRestErrorBody(failure, restStatusFor(failure)));
}

function errorBody(code: number, status: string, message: string) {
  return { error: { code, status, message, details: [] } };
}

async function sendRequest(c: Context, tenant: string): Promise<SendMessageRequest> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new RequestMalformedError('The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestMalformedError('The request body must be a SendMessageRequest JSON object.');
  }
  const request = SendMessageRequest.fromJSON(body);
  if (!request.message) throw new RequestMalformedError('"message" is required.');
  return { ...request, tenant };
}

function listRequest(c: Context, tenant: string): ListTasksRequest {
  const query = c.req.query();
  const request = ListTasksRequest.fromJSON({ ...query, includeArtifacts: undefined, pageSize: undefined, historyLength: undefined });
  return {
    ...request,
    tenant,
    pageSize: optionalCount(c, 'pageSize'),
    historyLength: optionalCount(c, 'historyLength'),
    includeArtifacts: query.includeArtifacts === 'true',
  };
}

function optionalCount(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new RequestMalformedError(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}.`);
  return Number(raw);
}
