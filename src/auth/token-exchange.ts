/**
 * OAuth 2.0 Token Exchange (RFC 8693) as a client: trades a subject (a caller's access token, or a
 * Hugging Face organization member's email) at an authorization server's token endpoint for an
 * access token of its own, authenticating as this server's confidential client with HTTP Basic
 * (RFC 6749 §2.3.1: id and secret form-encoded, then base64).
 *
 * Issued tokens are cached per key until shortly before they expire, so a conversation makes one
 * exchange, not one per turn; concurrent requests for one key share one exchange; a refusal of the
 * subject (`invalid_grant`) is remembered briefly, so a caller who is not allowed does not turn
 * every message into a request upstream. Issued tokens live only inside Credential objects: never
 * in a log line, an error, a task or a response.
 */
import { BoundedMap } from '../util/bounded-map.ts';
import { log } from '../util/log.ts';
import { Credential } from './credentials.ts';
import { AuthError } from './errors.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The exchange did not give a token. `reason` is the server's OAuth error code, or why there was none. */
export class TokenExchangeError extends AuthError {
  override name = 'TokenExchangeError';
  readonly code = 'downstream_unavailable' as const;
  constructor(
    /** `invalid_grant`, `invalid_client`, `invalid_scope`, `invalid_target`, ... as the server said; `unreachable` or `bad_response` when it said nothing usable. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TokenExchangeOptions {
  /** The authorization server's token endpoint. */
  tokenUrl: string;
  clientId: string;
  clientSecret: Credential;
  /** A token is no longer handed out this many ms before it expires (default 60 s; at most a tenth of its lifetime). */
  refreshMarginMs?: number;
  /** Tokens kept at most (default 10,000); the oldest go first. */
  maxEntries?: number;
  /** How long to wait for the token endpoint, in ms (default 10 s). */
  timeoutMs?: number;
  /** How long an `invalid_grant` refusal is remembered, in ms (default 30 s). */
  refusalTtlMs?: number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

export interface ExchangeRequest {
  /** One cached token and one exchange at a time per key. */
  key: string;
  /** Who the token is for, in log lines (a caller id; never the subject token). */
  label: string;
  subjectToken: string | Credential;
  subjectTokenType: string;
  audience?: string;
  scope?: string;
  requestedTokenType?: string;
  /** Epoch ms after which the issued token is not used, whatever its own lifetime (the subject token's expiry). */
  notAfter?: number;
  signal?: AbortSignal;
}

interface Issued {
  credential: Credential;
  /** Epoch ms from which it is no longer handed out. */
  useUntil: number;
}

/** Lifetime assumed for a token whose answer gives no expires_in. */
const DEFAULT_LIFETIME_S = 300;
const MAX_ANSWER_CHARS = 64 * 1024;

export class TokenExchangeClient {
  readonly #options: Required<Omit<TokenExchangeOptions, 'fetch'>> & { fetch: typeof fetch };
  readonly #issued: BoundedMap<Issued>;
  readonly #refused: BoundedMap<TokenExchangeError>;
  readonly #inFlight = new Map<string, Promise<Credential>>();

  constructor(options: TokenExchangeOptions) {
    this.#options = {
      refreshMarginMs: 60_000,
      maxEntries: 10_000,
      timeoutMs: 10_000,
      refusalTtlMs: 30_000,
      now: Date.now,
      ...options,
      fetch: options.fetch ?? fetch,
    };
    const { maxEntries, now } = this.#options;
    // Entries also carry their own end (useUntil); the age limit only bounds what a forgotten key holds.
    this.#issued = new BoundedMap({ maxEntries, maxAgeMs: 24 * 3600_000, now });
    this.#refused = new BoundedMap({ maxEntries, maxAgeMs: this.#options.refusalTtlMs, now });
  }

  /** Tokens currently cached (for tests and metrics). */
  get size(): number {
    return this.#issued.size;
  }

  /** The token for `request.key`: cached, being exchanged, or exchanged now. Throws TokenExchangeError. */
  async exchange(request: ExchangeRequest): Promise<Credential> {
    const cached = this.#issued.get(request.key);
    if (cached && cached.useUntil > this.#options.now()) return cached.credential;
    const refused = this.#refused.get(request.key);
    if (refused) throw refused;
    let pending = this.#inFlight.get(request.key);
    if (!pending) {
      pending = this.#ask(request);
      this.#inFlight.set(request.key, pending);
      void pending.catch(() => {}).finally(() => this.#inFlight.delete(request.key));
    }
    return request.signal ? abortable(pending, request.signal) : pending;
  }

  async #ask(request: ExchangeRequest): Promise<Credential> {
    const { tokenUrl, clientId, clientSecret, timeoutMs, now } = this.#options;
    const body = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: typeof request.subjectToken === 'string' ? request.subjectToken : request.subjectToken.reveal(),
      subject_token_type: request.subjectTokenType,
    });
    if (request.audience) body.set('audience', request.audience);
    if (request.scope) body.set('scope', request.scope);
    if (request.requestedTokenType) body.set('requested_token_type', request.requestedTokenType);

    let response: Response;
    try {
      response = await this.#options.fetch(tokenUrl, {
        method: 'POST',
        headers: { Authorization: basicAuthorization(clientId, clientSecret), 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw this.#failed(request, new TokenExchangeError('unreachable', timedOut ? `the token endpoint did not answer within ${timeoutMs / 1000} s` : 'the token endpoint could not be reached'));
    }
    const text = await response.text().catch(() => '');
    const answer = parseJson(text.length <= MAX_ANSWER_CHARS ? text : '');
    if (!response.ok) {
      const error = typeof answer?.error === 'string' && /^[\w.:-]{1,64}$/.test(answer.error) ? answer.error : response.status >= 500 ? 'unreachable' : 'bad_response';
      // The description is the server's own words; it is shown to the caller only after redaction, and never carries our secrets (we sent none it could echo but the subject).
      const description = typeof answer?.error_description === 'string' ? answer.error_description.slice(0, 300) : `HTTP ${response.status}`;
      throw this.#failed(request, new TokenExchangeError(error, description));
    }
    const token = answer?.access_token;
    const tokenType = answer?.token_type;
    const issuedType = answer?.issued_token_type;
    if (typeof token !== 'string' || !token || (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer') || (issuedType !== undefined && issuedType !== ACCESS_TOKEN_TYPE)) {
      throw this.#failed(request, new TokenExchangeError('bad_response', 'the token endpoint answered without a bearer access token'));
    }
    const lifetimeS = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : DEFAULT_LIFETIME_S;
    const margin = Math.min(this.#options.refreshMarginMs, (lifetimeS * 1000) / 10);
    const useUntil = Math.min(now() + lifetimeS * 1000 - margin, request.notAfter ?? Infinity);
    const credential = new Credential(token, 'caller');
    if (useUntil > now()) this.#issued.set(request.key, { credential, useUntil });
    log.info('token exchanged', { for: request.label, audience: request.audience, scope: request.scope, expiresInS: lifetimeS });
    return credential;
  }

  #failed(request: ExchangeRequest, error: TokenExchangeError): TokenExchangeError {
    if (error.reason === 'invalid_grant') this.#refused.set(request.key, error);
    log.warn('token exchange refused', { for: request.label, audience: request.audience, scope: request.scope, reason: error.reason });
    return error;
  }
}

/** RFC 6749 §2.3.1: the client id and secret are form-encoded before they are joined and base64-encoded. */
export function basicAuthorization(clientId: string, clientSecret: Credential): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret.reveal())}`).toString('base64')}`;
}

function parseJson(text: string): Record<string, any> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `promise`, or the signal's reason once it aborts; the shared work goes on for whoever else waits. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
