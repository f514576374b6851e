/**
 * The JSON-RPC binding at POST /a2a/jsonrpc, for A2A 1.0 method names (`SendMessage`, ...) and
 * A2A 0.3 ones (`message/send`, ...), over the SDK's framework-free transport handlers.
 *
 * What the SDK leaves to the adapter is done here: the content type, parsing, the envelope check
 * (so "not JSON-RPC" is -32600 and an unknown method -32601), the protocol version check, and
 * turning a streaming result into Server-Sent Events.
 */
import type { Context } from 'hono';
import { A2A_VERSION_HEADER, Extensions, HTTP_EXTENSION_HEADER, type AgentCard } from '@a2a-js/sdk';
import { A2A_ERROR_CODE, toJsonRpcError } from '@a2a-js/sdk/errors';
import { JsonRpcTransportHandler, ServerCallContext, validateVersion, type A2ARequestHandler } from '@a2a-js/sdk/server';
import { isLegacyJsonRpcMethod, isV1JsonRpcMethod, LEGACY_HTTP_EXTENSION_HEADER } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import type { CallerEnv } from '../auth/caller.ts';
import { isJsonContentType, isValidTenant, TENANT_RULE } from './request-checks.ts';
import { sseResponse } from './sse.ts';
import { redact } from '../util/redact.ts';

type Id = string | number | null;
interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

const V1_METHODS = 'SendMessage, SendStreamingMessage, GetTask, ListTasks, CancelTask, SubscribeToTask';
const V03_METHODS = 'message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe';

export function jsonRpcEndpoint(requestHandler: A2ARequestHandler, card: AgentCard) {
  const v1 = new JsonRpcTransportHandler(requestHandler);
  const v03 = new LegacyJsonRpcTransportHandler(requestHandler);

  return async (c: Context<CallerEnv>): Promise<Response> => {

    if (!isJsonContentType(c.req.header('content-type'))) {
      return errorReply(c, 415, null, {
        code: A2A_ERROR_CODE.CONTENT_TYPE_NOT_SUPPORTED,
        message: `JSON-RPC requests must be sent as Content-Type: application/json, not ${JSON.stringify(c.req.header('content-type') ?? '')}.`,
      });
    }

    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return errorReply(c, 400, null, { code: A2A_ERROR_CODE.PARSE_ERROR, message: 'Parse error: the request body is not valid JSON.' });
    }

    const envelope = checkEnvelope(body);
    if ('error' in envelope) return errorReply(c, 400, envelope.id, envelope.error);
    const { id, method } = envelope;

    const legacy = isLegacyJsonRpcMethod(method);
    if (!legacy && !isV1JsonRpcMethod(method)) {
      return errorReply(c, 200, id, {
        code: A2A_ERROR_CODE.METHOD_NOT_FOUND,
        message: `Method not found: ${JSON.stringify(method)}. A2A 1.0 methods: ${V1_METHODS}. A2A 0.3 methods: ${V03_METHODS}.`,
      });
    }
    const toError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : toJsonRpcError;
    const tenant = ((body as { params?: unknown }).params as { tenant?: unknown } | undefined)?.tenant;
    if (tenant !== undefined && tenant !== '' && (typeof tenant !== 'string' || !isValidTenant(tenant))) {
      return errorReply(c, 200, id, { code: A2A_ERROR_CODE.INVALID_PARAMS, message: `Invalid params: "tenant" ${TENANT_RULE}.` });
    }

    const context = new ServerCallContext({
      user: c.get('caller'),
      requestedVersion: c.req.header(A2A_VERSION_HEADER),
      requestedExtensions: Extensions.parseServiceParameter(
        (legacy && c.req.header(LEGACY_HTTP_EXTENSION_HEADER)) || c.req.header(HTTP_EXTENSION_HEADER),
      ),
    });
    try {
      validateVersion(context.requestedVersion, card, 'JSONRPC');
    } catch (error) {
      return errorReply(c, 200, id, toError(error) as RpcError);
    }

    const result = await (legacy ? v03 : v1).handle(body as Record<string, unknown>, context);
    if (!isAsyncIterable(result)) return c.json(result.error ? { ...result, error: scrubbed(result.error as RpcError) } : result);
    return sseResponse(c, result, {
      // A streamed send is recorded only while its stream is read; a subscription records nothing.
      drainAfterClientLeaves: method === 'SendStreamingMessage' || method === 'message/stream',
      toJson: (event) => event,
      errorJson: (error) => ({ jsonrpc: '2.0', id, error: scrubbed(toError(error) as RpcError) }),
      failEarly: (error) => errorReply(c, 200, id, toError(error) as RpcError),
    });
  };
}

function invalid(id: Id, message: string): { id: Id; error: RpcError } {
  return { id, error: { code: A2A_ERROR_CODE.INVALID_REQUEST, message } };
}

function errorReply(c: Context, status: number, id: Id, error: RpcError): Response {
  return c.json({ jsonrpc: '2.0', id, error: scrubbed(error) }, status as 200);
}

/** Error messages can quote the request (a task id, a method name); a credential pasted there is not echoed. */
function scrubbed(error: RpcError): RpcError {
  return { ...error, message: redact(error.message) };
}

function checkEnvelope(body: unknown): { id: Id; method: string } | { id: Id; error: RpcError } {
  if (Array.isArray(body)) return invalid(null, 'Invalid Request: batch requests are not supported; send one JSON-RPC request per HTTP request.');
  if (typeof body !== 'object' || body === null) return invalid(null, 'Invalid Request: the body must be a JSON-RPC 2.0 request object.');
  const request = body as Record<string, unknown>;
  const id = request.id;
  if (id !== undefined && id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) {
    return invalid(null, 'Invalid Request: "id" must be a string, an integer or null.');
  }
  const validId = (id ?? null) as Id;
  if (request.jsonrpc !== '2.0') return invalid(validId, 'Invalid Request: "jsonrpc" must be "2.0".');
  if (typeof request.method !== 'string' || !request.method) return invalid(validId, 'Invalid Request: "method" must be a non-empty string.');
  return { id: validId, method: request.method };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}
