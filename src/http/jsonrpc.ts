/**
 * The JSON-RPC binding at POST /a2a/jsonrpc, for A2A 1.0 method names (`SendMessage`, ...) and
 * A2A 0.3 ones (`message/send`, ...), over the SDK's framework-free transports, which decode the
 * params, call the request handler and encode its answer.
 *
 * What the SDK leaves to the adapter, or does laxly, is done here first: the content type, parsing,
 * the envelope (so "not JSON-RPC" is -32600 and an unknown method -32601), the protocol version,
 * the params' shape and limits (src/a2a/validate.ts), and Server-Sent Events for streaming methods.
 */
import type { Context } from 'hono';
import { Extensions, type AgentCard } from '@a2a-js/sdk';
import { A2A_ERROR_CODE, PushNotificationNotSupportedError } from '@a2a-js/sdk/errors';
import { JsonRpcTransportHandler, ServerCallContext, validateVersion, type A2ARequestHandler } from '@a2a-js/sdk/server';
import { isLegacyJsonRpcMethod, isV1JsonRpcMethod } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { checkGetParams, checkListParams, checkSendParams, checkTaskIdParams, checkTenant, parseJson } from '../a2a/validate.ts';
import { clip } from '../util/clip.ts';
import { isJsonContentType, requestHeader } from './middleware.ts';
import { rpcAnswer, rpcError, rpcErrorEnvelope, rpcErrorResponse, rpcFailure, type RpcError, type RpcId } from './errors.ts';
import { reportTurn, type ObservedEnv } from './observe.ts';
import { sseError, sseResponse, watchForClientGone } from './sse.ts';

/** The most of an unknown method's name that its error quotes back. */
const METHOD_SHOWN = 100;
const V1_METHODS = 'SendMessage, SendStreamingMessage, GetTask, ListTasks, CancelTask, SubscribeToTask';
const V03_METHODS = 'message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe';

/** The params check of each method that reads params (the others are refused by the handler whatever they send). */
const PARAMS_CHECKS: Record<string, (params: unknown) => void> = {
  SendMessage: (params) => checkSendParams(params, '1.0'),
  SendStreamingMessage: (params) => checkSendParams(params, '1.0'),
  'message/send': (params) => checkSendParams(params, '0.3'),
  'message/stream': (params) => checkSendParams(params, '0.3'),
  GetTask: checkGetParams,
  'tasks/get': checkGetParams,
  ListTasks: checkListParams,
  CancelTask: checkTaskIdParams,
  SubscribeToTask: checkTaskIdParams,
  'tasks/cancel': checkTaskIdParams,
  'tasks/resubscribe': checkTaskIdParams,
};
/**
 * Push notifications are not offered: their methods get the spec's error whatever their params say,
 * before a transport tries to decode params it would choke on.
 */
const PUSH_METHODS = new Set([
  'CreateTaskPushNotificationConfig',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
  'tasks/pushNotificationConfig/set',
  'tasks/pushNotificationConfig/get',
  'tasks/pushNotificationConfig/list',
  'tasks/pushNotificationConfig/delete',
]);
const STREAMING = new Set(['SendStreamingMessage', 'SubscribeToTask', 'message/stream', 'tasks/resubscribe']);

export function jsonRpcEndpoint(requestHandler: A2ARequestHandler, card: AgentCard) {
  const v1 = new JsonRpcTransportHandler(requestHandler);
  const v03 = new LegacyJsonRpcTransportHandler(requestHandler);

  return async function jsonRpc(c: Context<ObservedEnv>): Promise<Response> {
    const contentType = c.req.header('content-type');
    if (!isJsonContentType(contentType)) {
      return rpcErrorResponse(c, null, {
        code: A2A_ERROR_CODE.CONTENT_TYPE_NOT_SUPPORTED,
        message: `JSON-RPC requests must be sent as Content-Type: application/json, not ${JSON.stringify(contentType ?? '')}.`,
      }, 415);
    }

    let body: unknown;
    try {
      body = parseJson(await c.req.text());
    } catch (error) {
      if (!(error instanceof SyntaxError)) return rpcFailure(c, null, error, false);
      return rpcErrorResponse(c, null, { code: A2A_ERROR_CODE.PARSE_ERROR, message: 'Parse error: the request body is not valid JSON.' });
    }

    const envelope = checkEnvelope(body);
    if ('error' in envelope) return rpcErrorResponse(c, envelope.id, envelope.error);
    const { id, method, params } = envelope;
    c.set('a2aMethod', method);
    const taskId = taskIdIn(params);
    if (taskId) c.set('taskId', taskId);

    const legacy = isLegacyJsonRpcMethod(method);
    if (!legacy && !isV1JsonRpcMethod(method)) {
      return rpcErrorResponse(c, id, {
        code: A2A_ERROR_CODE.METHOD_NOT_FOUND,
        message: `Method not found: ${JSON.stringify(clip(method, METHOD_SHOWN))}. A2A 1.0 methods: ${V1_METHODS}. A2A 0.3 methods: ${V03_METHODS}.`,
      });
    }

    const context = new ServerCallContext({
      user: c.get('caller'),
      requestedVersion: requestHeader(c, 'a2a-version'),
      requestedExtensions: Extensions.parseServiceParameter((legacy && requestHeader(c, 'x-a2a-extensions')) || requestHeader(c, 'a2a-extensions')),
    });
    const streaming = STREAMING.has(method);
    try {
      validateVersion(context.requestedVersion, card, 'JSONRPC');
      checkTenant((params as { tenant?: unknown } | undefined)?.tenant);
      if (PUSH_METHODS.has(method)) throw new PushNotificationNotSupportedError('This agent does not send push notifications; follow a task with SendStreamingMessage or SubscribeToTask instead.');
      PARAMS_CHECKS[method]?.(params);
    } catch (error) {
      // A 0.3 client reads a streaming method's answer as SSE only: its error must come that way too.
      if (streaming && legacy) return sseError(c, rpcErrorEnvelope(id, rpcError(error, legacy)));
      return rpcFailure(c, id, error, legacy);
    }

    const clientGone = streaming ? watchForClientGone(context) : undefined;
    const result = await (legacy ? v03 : v1).handle(body as Record<string, unknown>, context);
    if (!isAsyncIterable(result)) {
      const created = taskIdIn((result as { result?: unknown }).result);
      if (created) c.set('taskId', created);
      reportTurn(c, context);
      return rpcAnswer(c, result);
    }
    return sseResponse(c, result, {
      onClientGone: clientGone,
      toJson: (event) => event,
      errorJson: (error) => rpcErrorEnvelope(id, rpcError(error, legacy)),
      failEarly: (error) => (legacy ? sseError(c, rpcErrorEnvelope(id, rpcError(error, legacy))) : rpcFailure(c, id, error, legacy)),
    });
  };
}

function invalid(id: RpcId, message: string): { id: RpcId; error: RpcError } {
  return { id, error: { code: A2A_ERROR_CODE.INVALID_REQUEST, message: `Invalid Request: ${message}` } };
}

/** A JSON-RPC 2.0 request object, or the -32600 error that says what is wrong with it. */
function checkEnvelope(body: unknown): { id: RpcId; method: string; params: unknown } | { id: RpcId; error: RpcError } {
  if (Array.isArray(body)) return invalid(null, 'batch requests are not supported; send one JSON-RPC request per HTTP request.');
  if (typeof body !== 'object' || body === null) return invalid(null, 'the body must be a JSON-RPC 2.0 request object.');
  const request = body as Record<string, unknown>;
  const id = request.id;
  if (id !== undefined && id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) {
    return invalid(null, '"id" must be a string, an integer or null.');
  }
  const validId = (id ?? null) as RpcId;
  if (request.jsonrpc !== '2.0') return invalid(validId, '"jsonrpc" must be "2.0".');
  if (typeof request.method !== 'string' || !request.method) return invalid(validId, '"method" must be a non-empty string.');
  const params = request.params;
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return { id: validId, error: { code: A2A_ERROR_CODE.INVALID_PARAMS, message: 'Invalid params: "params" must be a JSON object.' } };
  }
  return { id: validId, method: request.method, params };
}

/** The task a request or an answer names (`id`, `message.taskId`, or a 1.0 `task.id`), for the log line. */
function taskIdIn(value: unknown): string | undefined {
  const object = value as { id?: unknown; task?: { id?: unknown }; message?: { taskId?: unknown } } | undefined;
  const id = object?.task?.id ?? object?.id ?? object?.message?.taskId;
  return typeof id === 'string' ? id : undefined;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}
