/**
 * The server's part in the page's "Sign in with Hugging Face": the Client ID Metadata Document that
 * makes this server an OAuth client without registering one, the code exchange, and "who is this
 * token". The browser runs the authorization-code flow with PKCE; the server holds no session and
 * stores no token: each answer goes back to the browser that asked and is forgotten.
 */
import type { Context, Handler } from 'hono';
import { presentedToken } from '../auth/bearer.ts';
import { HubUnavailable, TokenRejected, TooManyNewTokens, type HubTokenVerifier } from '../auth/hub-verifier.ts';
import { isJsonContentType } from '../http/middleware.ts';
import { redact } from '../util/redact.ts';
import type { TokenBuckets } from '../util/token-buckets.ts';

/**
 * The Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document, as the Hub accepts
 * it): its own URL is the client id, and it is a public client that proves itself with PKCE alone.
 */
export function clientMetadata({ clientId, clientName, baseUrl, redirectUri }: { clientId: string; clientName: string; baseUrl: string; redirectUri: string }) {
  return {
    client_id: clientId,
    client_name: clientName,
    client_uri: `${baseUrl}/`,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

export interface TokenExchangeOptions {
  /** The provider's token endpoint. */
  tokenUrl: string;
  clientId: string;
  /** Sent as HTTP Basic client authentication when set (a Space's own OAuth app has one). */
  clientSecret: string | undefined;
  /** The only redirect URI this server's sign-in uses. */
  redirectUri: string;
  /** This server's public origin: the only page allowed to ask. */
  origin: string;
  /** Sign-ins per client address, and from all addresses together (key ''). */
  limits: { perAddress: TokenBuckets; overall: TokenBuckets };
  addressOf: (c: Context) => string | undefined;
  /** Milliseconds to wait for the provider (default 10 s). */
  timeoutMs?: number;
}

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * POST /oauth/token: the browser's `{code, code_verifier, redirect_uri}` in, `{access_token,
 * expires_in, scope}` out. The exchange runs here so that a client secret, when the Space has one,
 * never reaches the browser, and so that the page's CSP can keep `connect-src 'self'`.
 */
export function tokenExchangeRoute(options: TokenExchangeOptions): Handler {
  const { tokenUrl, clientId, clientSecret, redirectUri, origin, limits, addressOf, timeoutMs = 10_000 } = options;
  const basic = clientSecret
    ? `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`
    : undefined;

  return async function oauthTokenExchange(c) {
    c.header('Cache-Control', 'no-store');
    // Only this server's own page may turn a code into a token here: browsers always send Origin
    // on a POST, and a page elsewhere cannot forge it.
    if (c.req.header('origin') !== origin) return c.json({ error: "Sign-in must be finished from this Space's own page." }, 403);
    if (!isJsonContentType(c.req.header('content-type'))) return c.json({ error: 'Send the sign-in answer as JSON.' }, 415);
    const address = addressOf(c);
    const wait = (address === undefined ? 0 : limits.perAddress.take(address)) || limits.overall.take('');
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return c.json({ error: `Too many sign-ins from your address; try again in ${wait} s.` }, 429);
    }

    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const code = body?.code;
    const verifier = body?.code_verifier;
    if (typeof code !== 'string' || !code || code.length > 1024 || typeof verifier !== 'string' || !VERIFIER.test(verifier)) {
      return c.json({ error: 'The sign-in answer is incomplete.' }, 400);
    }
    if (body?.redirect_uri !== redirectUri) return c.json({ error: `The sign-in must come back to ${redirectUri}.` }, 400);

    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...(basic && { Authorization: basic }) },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch {
      return c.json({ error: 'Hugging Face could not be reached to finish the sign-in; try again in a moment.' }, 502);
    }
    const answer = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!response.ok || typeof answer?.access_token !== 'string') {
      const reason = [answer?.error_description, answer?.error].find((v): v is string => typeof v === 'string') ?? `HTTP ${response.status}`;
      return c.json({ error: `Hugging Face refused the sign-in (${redact(reason.slice(0, 200))}).` }, response.status >= 500 ? 502 : 400);
    }
    return c.json({
      access_token: answer.access_token,
      expires_in: typeof answer.expires_in === 'number' ? answer.expires_in : undefined,
      scope: typeof answer.scope === 'string' ? answer.scope : undefined,
    });
  };
}

/**
 * GET /oauth/whoami: the name behind the bearer token, so the page can say who is signed in while
 * its CSP keeps `connect-src 'self'`. It asks through the same verifier as the A2A routes: a token
 * just checked costs the Hub nothing, and new ones count against the same per-address limits.
 */
export function whoamiRoute(verifier: HubTokenVerifier, addressOf: (c: Context) => string | undefined): Handler {
  return async function oauthWhoami(c) {
    c.header('Cache-Control', 'no-store');
    const presented = presentedToken(c.req.header('authorization'), undefined);
    if (presented.kind !== 'token') return c.json({ error: 'Send the token as "Authorization: Bearer <token>".' }, 401);
    try {
      const identity = verifier.cached(presented.token) ?? (await verifier.verify(presented.token, addressOf(c)));
      return c.json({ name: identity.profile.name });
    } catch (error) {
      if (error instanceof TokenRejected) return c.json({ error: `Hugging Face does not accept this token: ${error.message}.` }, 401);
      const retry = error instanceof TooManyNewTokens || error instanceof HubUnavailable ? error.retryAfterSeconds : undefined;
      if (retry === undefined) throw error;
      c.header('Retry-After', String(retry));
      return c.json({ error: `Your token could not be checked: ${error instanceof Error ? error.message : ''}. Try again in ${retry} s.` }, error instanceof TooManyNewTokens ? 429 : 503);
    }
  };
}
