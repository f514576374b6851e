/**
 * Inbound authentication for everything that acts for a caller: a Hub-verified bearer token, or no
 * work at all. A missing, malformed or rejected token is a 401 whose `WWW-Authenticate` challenge
 * points OAuth-capable clients at this server's RFC 9728 metadata; a token that visibly lacks an
 * advertised scope is a 403; a Hub that cannot answer is a 503 with Retry-After.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { presentedToken } from './bearer.ts';
import { Caller, type CallerEnv } from './caller.ts';
import { AUTHORIZATION, Credential, HOW_TO_SEND_A_TOKEN, X_HF_AUTHORIZATION } from './credentials.ts';
import { HubUnavailable, missingScopes, TokenRejected, type HubIdentity, type HubTokenVerifier } from './hub-verifier.ts';
import { describeError, log } from '../util/log.ts';

export interface RequireHfTokenOptions {
  verifier: HubTokenVerifier;
  /** URL of this server's `/.well-known/oauth-protected-resource`. */
  resourceMetadataUrl: string;
  scopes: readonly string[];
}

export function requireHfToken({ verifier, resourceMetadataUrl, scopes }: RequireHfTokenOptions): MiddlewareHandler<CallerEnv> {
  const challengeTail = `resource_metadata="${resourceMetadataUrl}", scope="${scopes.join(' ')}"`;

  return async function hfTokenRequired(c, next) {
    // `X-HF-Authorization` is read only when `Authorization` is absent.
    const authorization = c.req.header(AUTHORIZATION);
    const presented = presentedToken(authorization, authorization === undefined ? c.req.header(X_HF_AUTHORIZATION) : undefined);
    if (presented.kind === 'missing') return refuse(c, challengeTail, 401, 'invalid_token', 'This endpoint needs a Hugging Face token');
    if (presented.kind === 'malformed') return refuse(c, challengeTail, 401, 'invalid_request', `The credential was refused: ${presented.reason}`);

    // Most requests come with a token checked a moment ago: no await on that path.
    const identity = verifier.cached(presented.token) ?? (await askHub(c, challengeTail, verifier, presented.token));
    if (identity instanceof Response) return identity;

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
export function anonymousCallers(serverToken: string | undefined): MiddlewareHandler<CallerEnv> {
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

/** The identity the Hub vouches for, or the response that says why there is none. */
async function askHub(c: Context, challengeTail: string, verifier: HubTokenVerifier, token: string): Promise<HubIdentity | Response> {
  try {
    return await verifier.verify(token);
  } catch (error) {
    if (error instanceof TokenRejected) return refuse(c, challengeTail, 401, 'invalid_token', `Hugging Face does not accept this token: ${error.message}`);
    const retryAfter = error instanceof HubUnavailable ? error.retryAfterSeconds : 5;
    log.warn('token check could not run', { error: describeError(error) });
    c.header('Retry-After', String(retryAfter));
    c.header('Cache-Control', 'no-store');
    const why = error instanceof HubUnavailable ? error.message : 'of an internal error';
    return c.json({ error: { code: 503, status: 'UNAVAILABLE', message: `Your token could not be checked because ${why}. Nothing was run; try again in ${retryAfter} s.` } }, 503);
  }
}
