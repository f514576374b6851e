/**
 * Inbound authentication for everything that acts for a caller: a Hub-verified bearer token, or no
 * work at all. A missing, malformed or rejected token is a 401 whose `WWW-Authenticate` challenge
 * points OAuth-capable clients at this server's RFC 9728 metadata; a token that visibly lacks an
 * advertised scope is a 403; an address that sends too many new tokens is a 429, and a Hub that
 * cannot answer a 503, both with Retry-After.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { presentedToken } from './bearer.ts';
import { Caller, type CallerEnv } from './caller.ts';
import { AUTHORIZATION, Credential, HOW_TO_SEND_A_TOKEN, X_HF_AUTHORIZATION } from './credentials.ts';
import { HubUnavailable, missingScopes, TokenRejected, TooManyNewTokens, type HubTokenVerifier } from './hub-verifier.ts';
import { describeError, log } from '../util/log.ts';

export interface RequireHfTokenOptions {
  verifier: HubTokenVerifier;
  /** URL of this server's `/.well-known/oauth-protected-resource`. */
  resourceMetadataUrl: string;
  scopes: readonly string[];
  /** The client address a request came from, undefined for this machine (new tokens are checked at a limited rate per address). */
  addressOf: (c: Context) => string | undefined;
}

export function requireHfToken<E extends CallerEnv>({ verifier, resourceMetadataUrl, scopes, addressOf }: RequireHfTokenOptions): MiddlewareHandler<E> {
  const challengeTail = `resource_metadata="${resourceMetadataUrl}", scope="${scopes.join(' ')}"`;

  return async function hfTokenRequired(c, next) {
    // `X-HF-Authorization` is read only when `Authorization` is absent.
    const authorization = c.req.header(AUTHORIZATION);
    const presented = presentedToken(authorization, authorization === undefined ? c.req.header(X_HF_AUTHORIZATION) : undefined);
    if (presented.kind === 'missing') return refuse(c, challengeTail, 401, 'invalid_token', 'This endpoint needs a Hugging Face token');
    if (presented.kind === 'malformed') return refuse(c, challengeTail, 401, 'invalid_request', `The credential was refused: ${presented.reason}`);

    // Most requests come with a token checked a moment ago: no await on that path.
    let identity = verifier.cached(presented.token);
    if (!identity) {
      try {
        identity = await verifier.verify(presented.token, addressOf(c));
      } catch (error) {
        return failedCheck(c, challengeTail, error);
      }
    }

    const lacking = missingScopes(identity, scopes);
    if (lacking.length > 0) {
      return refuse(c, challengeTail, 403, 'insufficient_scope', `This token lacks the permission this server needs (${lacking.join(', ')})`);
    }
    c.set('caller', new Caller({ id: identity.id, credential: new Credential(presented.token, 'caller'), authenticated: true, profile: identity.profile }));
    await next();
  };
}

/**
 * Inbound auth off: every caller is the same anonymous one, and its work runs on the server's own
 * token, if it has one.
 */
export function anonymousCallers<E extends CallerEnv>(serverToken: string | undefined): MiddlewareHandler<E> {
  const caller = new Caller({ id: '', credential: serverToken ? new Credential(serverToken, 'server') : undefined, authenticated: false });
  return async function anonymous(c, next) {
    c.set('caller', caller);
    await next();
  };
}

/** A 401 or 403 with the challenge that tells OAuth-capable clients where to log in. */
function refuse(c: Context, challengeTail: string, status: 401 | 403, error: string, message: string): Response {
  c.header('WWW-Authenticate', `Bearer realm="huggingface", error="${error}", error_description=${quoted(message)}, ${challengeTail}`);
  c.header('Cache-Control', 'no-store');
  return c.json({ error: { code: status, status: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message: `${message}. ${HOW_TO_SEND_A_TOKEN}` } }, status);
}

/** An HTTP quoted-string: the message may itself quote something ("Bearer <token>"). */
function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** Why a token could not be accepted, as the response that says so. */
function failedCheck(c: Context, challengeTail: string, error: unknown): Response {
  if (error instanceof TokenRejected) return refuse(c, challengeTail, 401, 'invalid_token', `Hugging Face does not accept this token: ${error.message}`);
  c.header('Cache-Control', 'no-store');
  if (error instanceof TooManyNewTokens) {
    c.header('Retry-After', String(error.retryAfterSeconds));
    const message = `Your token could not be checked: ${error.message}. Nothing was run; try again in ${error.retryAfterSeconds} s.`;
    return c.json({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message } }, 429);
  }
  const retryAfter = error instanceof HubUnavailable ? error.retryAfterSeconds : 5;
  log.warn('token check could not run', { error: describeError(error) });
  c.header('Retry-After', String(retryAfter));
  const why = error instanceof HubUnavailable ? error.message : 'of an internal error';
  return c.json({ error: { code: 503, status: 'UNAVAILABLE', message: `Your token could not be checked because ${why}. Nothing was run; try again in ${retryAfter} s.` } }, 503);
}
