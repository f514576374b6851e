/**
 * The error writers: one body shape per binding, every message redacted here and nowhere else on
 * the way out, and no internal detail in any of them.
 *
 * - JSON-RPC: `{jsonrpc, id, error: {code, message, data?}}`, with HTTP 200 as JSON-RPC errors
 *   travel (the SDK's clients and the conformance kit read them there); HTTP statuses are kept for
 *   what happens before JSON-RPC: 401, 403 (auth), 413 (size), 415 (content type), 429 (rate).
 * - REST: `{error: {code, status, message, details}}` (google.rpc.Status), with its HTTP status.
 *
 * An error the protocol has no name for (a bug) is logged and answered with a generic message,
 * never with its own.
 */
import type { Context } from 'hono';
import { A2A_ERROR_CODE, A2AError, restStatusFor, toJsonRpcError, toRestErrorBody } from '@a2a-js/sdk/errors';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { AgentAccessDeniedError, CallerBusyError } from '../a2a/request-handler.ts';
import { insufficientScopeChallenge } from '../auth/scheme.ts';
import { describeError, log } from '../util/log.ts';
import { redact } from '../util/redact.ts';

export type RpcId = string | number | null;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

const INTERNAL = 'Internal error. The server log has the details.';

/** A JSON-RPC error object for `error`, in the 1.0 or the 0.3 shape. */
export function rpcError(error: unknown, legacy: boolean): RpcError {
  if (!(error instanceof A2AError)) {
    log.error('request failed', { error: describeError(error) });
    return { code: A2A_ERROR_CODE.INTERNAL_ERROR, message: INTERNAL };
  }
  const mapped = (legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(error) : toJsonRpcError(error)) as RpcError;
  return scrubbed(mapped);
}

/**
 * An error object a transport already built (the SDK's JSON-RPC transports answer errors instead of
 * throwing them): redacted, and an internal one replaced by the generic message.
 */
export function scrubbed(error: RpcError): RpcError {
  if (error.code === A2A_ERROR_CODE.INTERNAL_ERROR) {
    log.error('request failed', { error: error.message }); // the log writer redacts
    return { code: error.code, message: INTERNAL };
  }
  return { ...error, message: redact(error.message) };
}

export function rpcErrorEnvelope(id: RpcId, error: RpcError) {
  return { jsonrpc: '2.0' as const, id, error };
}

/** The response for a JSON-RPC error: HTTP 200, unless the status says something before JSON-RPC. */
export function rpcErrorResponse(c: Context, id: RpcId, error: RpcError, status = 200): Response {
  return c.json(rpcErrorEnvelope(id, { ...error, message: redact(error.message) }), status as 200);
}

/** The JSON-RPC response to an error thrown before the transport ran. */
export function rpcFailure(c: Context, id: RpcId, error: unknown, legacy: boolean): Response {
  return rpcAnswer(c, rpcErrorEnvelope(id, rpcError(error, legacy)));
}

/**
 * A transport's answer, sent: an error is scrubbed, and one that says when to retry (a caller over
 * its caps, see CallerBusyError) goes out as HTTP 429 with Retry-After.
 */
export function rpcAnswer(c: Context, answer: { error?: unknown }): Response {
  if (!answer.error) return c.json(answer);
  const error = scrubbed(answer.error as RpcError);
  const metadata = metadataOf(error);
  // A caller who may not use the agent it addressed (see AgentAccessDeniedError): 403, before any work.
  if (metadata?.httpStatus === '403') {
    forbidden(c, metadata.scope, error.message);
    return c.json({ ...answer, error }, 403);
  }
  const retryAfter = metadata?.retryAfterSeconds;
  if (retryAfter) c.header('Retry-After', retryAfter);
  return c.json({ ...answer, error }, retryAfter ? 429 : 200);
}

function metadataOf(error: RpcError): Record<string, string> | undefined {
  const info = Array.isArray(error.data) ? (error.data[0] as { metadata?: Record<string, string> } | undefined) : undefined;
  return info?.metadata;
}

/** The headers of a 403: never cached, and for a missing scope the RFC 6750 challenge naming it. */
function forbidden(c: Context, scope: string | undefined, message: string): void {
  c.header('Cache-Control', 'no-store');
  if (scope) c.header('WWW-Authenticate', insufficientScopeChallenge(scope.split(' '), message));
}

/** REST error bodies are plain JSON (`application/json`), the media type clients and the kit expect of errors. */
export function restErrorBody(error: unknown): { status: number; body: { error: { code: number; status: string; message: string; details: unknown[] } } } {
  if (!(error instanceof A2AError)) {
    log.error('request failed', { error: describeError(error) });
    return { status: 500, body: restBody(500, 'INTERNAL', INTERNAL) };
  }
  const status = error instanceof CallerBusyError ? 429 : error instanceof AgentAccessDeniedError ? 403 : restStatusFor(error);
  const body = toRestErrorBody(error, status) as ReturnType<typeof restBody>;
  if (status === 429) body.error.status = 'RESOURCE_EXHAUSTED';
  if (status === 403) body.error.status = 'PERMISSION_DENIED';
  body.error.message = redact(body.error.message);
  return { status, body };
}

/** The REST response to `error`; `status` overrides the SDK's mapping (a content type it maps to 400 is 415 in HTTP). */
export function restFailure(c: Context, error: unknown, status?: number): Response {
  if (error instanceof CallerBusyError) c.header('Retry-After', String(error.retryAfterSeconds));
  if (error instanceof AgentAccessDeniedError) forbidden(c, error.denied.scopes.join(' ') || undefined, redact(error.message));
  const answer = restErrorBody(error);
  if (status) answer.body.error.code = status;
  return c.json(answer.body, (status ?? answer.status) as 400);
}

/** A REST error that no A2A error describes (404 for a path, 405, 413, 415). */
export function restErrorResponse(c: Context, code: number, status: string, message: string, headers: Record<string, string> = {}): Response {
  return c.json(restBody(code, status, redact(message)), code as 400, headers);
}

function restBody(code: number, status: string, message: string) {
  return { error: { code, status, message, details: [] as unknown[] } };
}
