/**
 * Inbound authentication for everything that acts for a caller: one middleware for every configured
 * scheme, which combine as OR. The request's credential goes to the one scheme that claims it (see
 * scheme.ts); a caller it admits must then pass the server's allow-list; anything else is no work.
 *
 * Answers: 401 for a missing, malformed or refused credential, with a WWW-Authenticate challenge per
 * configured scheme (the Hugging Face one points OAuth-capable clients at the RFC 9728 metadata); 403
 * for a valid credential without a needed scope (insufficient_scope) or not on the allow-list; 429
 * and 503, with Retry-After, when the check could not be made. Every decision is one audit log line
 * (scheme, who, outcome, reason, request id), never the credential.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { denial, type AccessRule } from './access.ts';
import { presentedCredential } from './bearer.ts';
import { Caller } from './caller.ts';
import { AUTHORIZATION, Credential, HOW_TO_SEND_A_TOKEN, X_HF_AUTHORIZATION } from './credentials.ts';
import { AccessDenied, AuthError, CheckUnavailable, CredentialRefused } from './errors.ts';
import { formatChallenges, type Scheme } from './scheme.ts';
import { describeError, log } from '../util/log.ts';
import { redact } from '../util/redact.ts';

/** The Hono variables this middleware reads (the request id, for the audit line) and sets (the caller). */
export type AuthEnv = { Variables: { caller: Caller; requestId: string } };

export interface AuthenticateOptions {
  /** The configured schemes, at least one, in the order they claim credentials (most specific first). */
  schemes: readonly Scheme[];
  /** The server's own allow-list and scopes, checked for every admitted caller (default: none). */
  access?: AccessRule;
  /** The client address of a request, undefined for this machine (new tokens are checked at a limited rate per address). */
  addressOf: (c: Context) => string | undefined;
}

export function authenticate<E extends AuthEnv>({ schemes, access, addressOf }: AuthenticateOptions): MiddlewareHandler<E> {
  if (schemes.length === 0) throw new RangeError('authenticate needs at least one scheme; use anonymousCallers without one');
  const challenges = schemes.map((scheme) => scheme.challenge);
  const reads = {
    apiKeys: schemes.some((scheme) => scheme.name === 'api-key'),
    huggingface: schemes.some((scheme) => scheme.name === 'huggingface'),
    what: schemes.length === 1 && schemes[0]!.name === 'huggingface' ? 'your Hugging Face token' : 'your token',
  };
  // Hugging Face alone keeps its familiar words; with several, each scheme says how its credential is sent.
  const howTo = reads.huggingface && schemes.length === 1 ? HOW_TO_SEND_A_TOKEN : `Send ${schemes.map((scheme) => scheme.howTo).join('; or ')}.`;
  const serverRule = access && (access.scopes.length > 0 || access.allow) ? access : undefined;
  const needed = reads.huggingface && schemes.length === 1 ? 'a Hugging Face token' : 'a credential';

  const refuse = (c: Context<E>, error: AuthError, scheme: Scheme | undefined, caller?: Caller): Response => {
    audit(c.get('requestId'), scheme?.name, caller, error);
    c.header('Cache-Control', 'no-store');
    const message = redact(error.message);
    if (error instanceof CheckUnavailable) {
      c.header('Retry-After', String(error.retryAfterSeconds));
      const status = error.code === 'rate_limited' ? 429 : 503;
      const text = `${message}. Nothing was run; try again in ${error.retryAfterSeconds} s.`;
      return c.json({ error: { code: status, status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE', message: text } }, status);
    }
    const status = error instanceof AccessDenied ? 403 : 401;
    const code = error instanceof AccessDenied || error instanceof CredentialRefused ? error.code : 'invalid_token';
    // RFC 6750 knows no access_denied: a caller who is not allowed is told so in the body, and challenged without an error code.
    const challengeError = code === 'access_denied' ? undefined : { code, description: message, realm: scheme?.challenge.realm, scopes: error instanceof AccessDenied ? error.scopes : undefined };
    c.header('WWW-Authenticate', formatChallenges(challenges, challengeError));
    const text = status === 401 ? `${message}. ${howTo}` : message;
    return c.json({ error: { code: status, status: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message: text } }, status);
  };


  return async function authenticated(c, next) {
    // `X-HF-Authorization` is read only when `Authorization` is absent.
    const authorization = c.req.header(AUTHORIZATION);
    const presented = presentedCredential(
      { authorization, hfAuthorization: authorization === undefined ? c.req.header(X_HF_AUTHORIZATION) : undefined, apiKey: reads.apiKeys ? c.req.header('x-api-key') : undefined },
      reads,
    );
    if (presented.kind === 'missing') return refuse(c, new CredentialRefused('invalid_token', `This endpoint needs ${needed}`), undefined);
    if (presented.kind === 'malformed') return refuse(c, new CredentialRefused('invalid_request', `The credential was refused: ${presented.reason}`), undefined);

    const credential = { token: presented.token, header: presented.header };
    const scheme = schemes.find((candidate) => candidate.claims(credential));
    if (!scheme) {
      return refuse(c, new CredentialRefused('invalid_token', `This credential is not of a kind this server takes${presented.token.startsWith('hf_') ? ' (it takes no Hugging Face tokens)' : ''}`), undefined);
    }
    let caller: Caller;
    try {
      const judged = scheme.authenticate({ credential, address: () => addressOf(c) });
      caller = judged instanceof Caller ? judged : await judged;
    } catch (error) {
      if (error instanceof AuthError) return refuse(c, error, scheme);
      log.error('authentication failed unexpectedly', { scheme: scheme.name, error: describeError(error) });
      return refuse(c, new CheckUnavailable('unavailable', 'Your credential could not be checked because of an internal error', 5), scheme);
    }
    const denied = serverRule && denial(caller, serverRule, 'This server');
    if (denied) return refuse(c, denied, scheme, caller);
    audit(c.get('requestId'), scheme.name, caller, undefined);
    c.set('caller', caller);
    await next();
  };
}

/**
 * No scheme configured: every caller is the same anonymous one, and its work runs on the server's
 * own token, if it has one.
 */
export function anonymousCallers<E extends { Variables: { caller: Caller } }>(serverToken: string | undefined): MiddlewareHandler<E> {
  const caller = new Caller({ id: '', credential: serverToken ? new Credential(serverToken, 'server') : undefined, authenticated: false });
  return async function anonymous(c, next) {
    c.set('caller', caller);
    await next();
  };
}

/** One line per decision. Who: the caller's id (`key:<id>`, `hf:<id>`, `oidc:<issuer>#<sub>`), never what they sent. */
function audit(requestId: string | undefined, scheme: string | undefined, caller: Caller | undefined, error: AuthError | undefined): void {
  const outcome = !error ? 'admitted' : error instanceof AccessDenied ? 'denied' : error instanceof CheckUnavailable ? 'unavailable' : 'refused';
  log.info('authentication', {
    requestId,
    scheme: scheme ?? 'none',
    caller: caller?.id,
    keyId: caller?.keyId,
    outcome,
    reason: error ? `${error.code}: ${error.message}` : undefined,
  });
}
