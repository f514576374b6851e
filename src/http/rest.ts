/**
 * The HTTP+JSON binding (A2A 1.0) under /a2a/rest, with or without a `/{tenant}` prefix:
 *
 *   POST /message:send              POST /message:stream
 *   GET  /tasks                     GET  /tasks/{id}
 *   POST /tasks/{id}:cancel         GET|POST /tasks/{id}:subscribe
 *   GET  /extendedAgentCard         /tasks/{id}/pushNotificationConfigs[/{configId}]
 *
 * The SDK ships this binding only inside its Express adapter, so the routing and the translation of
 * HTTP to request-handler calls live here. Paths are matched exactly: anything else is a 404 (or 405
 * for a known path with the wrong method) in the binding's error shape.
 *
 * Content types: requests may be `application/json` or `application/a2a+json`; answers are
 * `application/a2a+json`, which the spec says SHOULD be used; error bodies are `application/json`,
 * which is what the conformance kit requires of them and what every client parses.
 */
import type { Context } from 'hono';
import { A2A_CONTENT_TYPE, A2A_VERSION_HEADER, AgentCard, Extensions, HTTP_EXTENSION_HEADER, ListTasksRequest, ListTasksResponse, Message, SendMessageRequest, StreamResponse, Task } from '@a2a-js/sdk';
import { ContentTypeNotSupportedError, PushNotificationNotSupportedError, RequestMalformedError } from '@a2a-js/sdk/errors';
import { ServerCallContext, validateVersion, type A2ARequestHandler } from '@a2a-js/sdk/server';
import { checkGetParams, checkListParams, checkSendParams, checkTaskIdParams, checkTenant, parseJson } from '../a2a/validate.ts';
import { isJsonContentType } from './middleware.ts';
import { reportTurn, type ObservedEnv } from './observe.ts';
import { restErrorBody, restErrorResponse, restFailure } from './errors.ts';
import { sseResponse, watchForClientGone } from './sse.ts';

type Operation = 'send' | 'stream' | 'list' | 'get' | 'cancel' | 'subscribe' | 'extendedCard' | 'pushConfigs' | 'pushConfig';
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
  pushConfigs: ['GET', 'POST'],
  pushConfig: ['GET', 'DELETE'],
};

/** Matches the path below /a2a/rest to an operation, with an optional leading tenant segment. */
function matchRestPath(path: string): Route | undefined {
  const segments = path.split('/').filter((segment, i) => i > 0 || segment !== '');
  if (segments.some((segment) => segment === '')) return undefined;
  return matchOperation(segments, '') ?? (segments.length > 1 ? matchOperation(segments.slice(1), segments[0]!) : undefined);
}

function matchOperation(segments: string[], tenant: string): Route | undefined {
  const [first, second, third, fourth, ...rest] = segments;
  if (rest.length > 0 || first === undefined) return undefined;
  if (second === undefined) {
    if (first === 'message:send') return { operation: 'send', tenant };
    if (first === 'message:stream') return { operation: 'stream', tenant };
    if (first === 'tasks') return { operation: 'list', tenant };
    if (first === 'extendedAgentCard') return { operation: 'extendedCard', tenant };
    return undefined;
  }
  if (first !== 'tasks') return undefined;
  if (third === 'pushNotificationConfigs') return { operation: fourth === undefined ? 'pushConfigs' : 'pushConfig', tenant, taskId: second };
  if (third !== undefined) return undefined;
  const match = /^([^:]+)(?::(cancel|subscribe))?$/.exec(second);
  if (!match) return undefined;
  return { operation: (match[2] as Operation | undefined) ?? 'get', tenant, taskId: match[1] };
}

export function restEndpoint(requestHandler: A2ARequestHandler, card: AgentCard, mountPath: string) {
  return async function rest(c: Context<ObservedEnv>): Promise<Response> {
    const route = matchRestPath(c.req.path.slice(mountPath.length));
    if (!route) return restErrorResponse(c, 404, 'NOT_FOUND', `There is no A2A operation at ${c.req.method} ${c.req.path}.`);
    c.set('a2aMethod', route.operation);
    if (route.taskId) c.set('taskId', route.taskId);
    const allowed = METHODS[route.operation];
    if (!allowed.includes(c.req.method)) {
      return restErrorResponse(c, 405, 'METHOD_NOT_ALLOWED', `Use ${allowed.join(' or ')} for this operation.`, { Allow: allowed.join(', ') });
    }
    if ((route.operation === 'send' || route.operation === 'stream') && !isJsonContentType(c.req.header('content-type'))) {
      const refusal = new ContentTypeNotSupportedError(`Send the body as Content-Type: application/a2a+json (or application/json), not ${JSON.stringify(c.req.header('content-type') ?? '')}.`);
      return restFailure(c, refusal, 415);
    }

    try {
      const tenant = checkTenant(route.tenant);
      const context = new ServerCallContext({
        user: c.get('caller'),
        tenant: tenant || undefined,
        requestedVersion: c.req.header(A2A_VERSION_HEADER),
        requestedExtensions: Extensions.parseServiceParameter(c.req.header(HTTP_EXTENSION_HEADER)),
      });
      validateVersion(context.requestedVersion, card, 'HTTP+JSON');
      const id = route.taskId ?? '';

      switch (route.operation) {
        case 'send': {
          const result = await requestHandler.sendMessage(await sendRequest(c, tenant), context);
          if (!('messageId' in result)) c.set('taskId', result.id);
          reportTurn(c, context);
          return answer(c, 'messageId' in result ? { message: Message.toJSON(result) } : { task: Task.toJSON(result) });
        }
        case 'stream':
          return streamed(c, requestHandler.sendMessageStream(await sendRequest(c, tenant), context), context);
        case 'subscribe':
          checkTaskIdParams({ id });
          return streamed(c, requestHandler.resubscribe({ id, tenant }, context), context);
        case 'get': {
          const historyLength = countQuery(c, 'historyLength');
          checkGetParams({ id, historyLength });
          return answer(c, Task.toJSON(await requestHandler.getTask({ id, tenant, historyLength }, context)));
        }
        case 'cancel':
          checkTaskIdParams({ id });
          return answer(c, Task.toJSON(await requestHandler.cancelTask({ id, tenant, metadata: {} }, context)));
        case 'list': {
          const response = await requestHandler.listTasks(listRequest(c, tenant), context);
          return answer(c, ListTasksResponse.toJSON(response));
        }
        case 'extendedCard':
          return answer(c, AgentCard.toJSON(await requestHandler.getAuthenticatedExtendedAgentCard({ tenant }, context)));
        case 'pushConfigs':
        case 'pushConfig':
          throw new PushNotificationNotSupportedError('This agent does not send push notifications; follow a task with message:stream or :subscribe instead.');
      }
    } catch (failure) {
      return restFailure(c, failure);
    }
  };
}

function answer(c: Context, body: unknown): Response {
  return c.body(JSON.stringify(body), 200, { 'Content-Type': A2A_CONTENT_TYPE });
}

function streamed(c: Context, events: AsyncIterable<StreamResponse>, context: ServerCallContext): Promise<Response> {
  return sseResponse(c, events, {
    onClientGone: watchForClientGone(context),
    toJson: StreamResponse.toJSON,
    errorJson: (failure) => restErrorBody(failure).body,
    failEarly: (failure) => restFailure(c, failure),
  });
}

async function sendRequest(c: Context, tenant: string): Promise<SendMessageRequest> {
  let body: unknown;
  try {
    body = parseJson(await c.req.text());
  } catch (error) {
    if (error instanceof SyntaxError) throw new RequestMalformedError('The request body is not valid JSON.');
    throw error;
  }
  checkSendParams(body, '1.0');
  return { ...SendMessageRequest.fromJSON(body), tenant };
}

/** ListTasks from the query string, each value typed as its JSON field would be, then checked like one. */
function listRequest(c: Context, tenant: string): ListTasksRequest {
  const query = c.req.query();
  const fields = {
    contextId: query.contextId,
    status: query.status,
    pageToken: query.pageToken,
    statusTimestampAfter: query.statusTimestampAfter,
    pageSize: countQuery(c, 'pageSize'),
    historyLength: countQuery(c, 'historyLength'),
    includeArtifacts: query.includeArtifacts === undefined ? undefined : query.includeArtifacts === 'true' ? true : query.includeArtifacts === 'false' ? false : query.includeArtifacts,
  };
  checkListParams(fields);
  return { ...ListTasksRequest.fromJSON(fields), tenant };
}

/** A query parameter that must be a whole number: its value, or the error that says so. */
function countQuery(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new RequestMalformedError(`Invalid params: ${name} must be a non-negative integer, not ${JSON.stringify(raw)}.`);
  return Number(raw);
}
