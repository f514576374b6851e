/**
 * OpenID Connect / OAuth 2.0 JWT access tokens (A2A_OIDC_ISSUER, A2A_OIDC_AUDIENCE): a company's own
 * identity provider vouches for the caller, people and services (client-credentials tokens) alike.
 *
 * Verified with jose against the issuer's published keys, done without the usual mistakes:
 * - an explicit algorithm allow-list, asymmetric only: `alg: none` and HS256 "signed" with the
 *   issuer's public key (the classic key-confusion forgery) are refused before any key is looked up;
 * - the issuer is compared before the keys are fetched, so tokens of other issuers cost nothing;
 * - the JWKS is cached and refetched when a token names a key it lacks (a key rotation), at most
 *   once per cooldown however many unknown keys arrive, with a timeout;
 * - `exp` is required (jose accepts a token without one unless told), the audience is checked, and
 *   the clock tolerance is small;
 * - scopes are whole space-separated tokens of `scope`, or the entries of `scp`.
 *
 * The issuer's discovery document (`/.well-known/openid-configuration`) is read once at start-up: it
 * gives the JWKS URL (unless A2A_OIDC_JWKS_URL is set), the token endpoint for exchanges, and the
 * flows the card advertises. Its `issuer` must be the configured one, exactly.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isJwtShaped } from './bearer.ts';
import { Caller, type Downstream, type ExchangeTarget } from './caller.ts';
import { Credential } from './credentials.ts';
import { CheckUnavailable, CredentialRefused, DownstreamUnavailable } from './errors.ts';
import type { HfTokenExchange } from './hf-exchange.ts';
import type { AuthAttempt, Challenge, PresentedCredential, Scheme } from './scheme.ts';
import { ACCESS_TOKEN_TYPE, TokenExchangeError, type TokenExchangeClient } from './token-exchange.ts';
import { clip } from '../util/clip.ts';
import { describeError, log } from '../util/log.ts';

/** The most of a token's claim that an error message quotes: the token is the caller's to fill. */
const CLAIM_SHOWN = 120;

/** Asymmetric JWS algorithms only: a symmetric one would let anyone holding the public key sign. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** What this server reads from the issuer's discovery document. */
export interface IssuerMetadata {
  issuer: string;
  /** Where the discovery document is (the card's openIdConnectUrl). */
  discoveryUrl: string;
  jwksUri: string | undefined;
  tokenEndpoint: string | undefined;
  authorizationEndpoint: string | undefined;
  deviceAuthorizationEndpoint: string | undefined;
  grantTypes: readonly string[];
  scopes: readonly string[];
}

export class IssuerDiscoveryError extends Error {
  override name = 'IssuerDiscoveryError';
}

export interface DiscoveryOptions {
  /** Milliseconds per attempt (default 5 s). */
  timeoutMs?: number;
  /** Attempts before giving up (default 3, one second apart). */
  attempts?: number;
  fetch?: typeof fetch;
}

/** The discovery URL of an issuer (OIDC Discovery §4: the well-known path after the issuer, trailing slash removed). */
export function discoveryUrlOf(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Reads and checks the issuer's discovery document. Throws IssuerDiscoveryError naming what is wrong. */
export async function discoverIssuer(issuer: string, { timeoutMs = 5_000, attempts = 3, fetch: send = fetch }: DiscoveryOptions = {}): Promise<IssuerMetadata> {
  const url = discoveryUrlOf(issuer);
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
    let response: Response;
    try {
      response = await send(url, { headers: { Accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      lastProblem = (error as Error).name === 'TimeoutError' ? `it did not answer within ${timeoutMs / 1000} s` : 'it could not be reached';
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      lastProblem = `it answered HTTP ${response.status}`;
      if (response.status < 500) break;
      continue;
    }
    const document = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!document || typeof document !== 'object') throw new IssuerDiscoveryError(`${url} is not a JSON discovery document`);
    if (document.issuer !== issuer) {
      throw new IssuerDiscoveryError(`${url} names the issuer ${JSON.stringify(document.issuer)}, not ${JSON.stringify(issuer)}; set A2A_OIDC_ISSUER to exactly the issuer its tokens carry`);
    }
    const endpoint = (name: string) => {
      const value = document[name];
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || !isAllowedUrl(value)) throw new IssuerDiscoveryError(`${url}: ${name} must be an https URL`);
      return value;
    };
    const strings = (name: string) => (Array.isArray(document[name]) ? (document[name] as unknown[]).filter((v): v is string => typeof v === 'string') : undefined);
    return {
      issuer,
      discoveryUrl: url,
      jwksUri: endpoint('jwks_uri'),
      tokenEndpoint: endpoint('token_endpoint'),
      authorizationEndpoint: endpoint('authorization_endpoint'),
      deviceAuthorizationEndpoint: endpoint('device_authorization_endpoint'),
      // RFC 8414 §2: an issuer that lists no grant types supports authorization_code and implicit.
      grantTypes: strings('grant_types_supported') ?? ['authorization_code', 'implicit'],
      scopes: strings('scopes_supported') ?? [],
    };
  }
  throw new IssuerDiscoveryError(`the discovery document ${url} could not be read: ${lastProblem}`);
}

/** https, or http to this machine (local issuers and tests). */
export function isAllowedUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.username || url.password) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname));
  } catch {
    return false;
  }
}

export interface OidcSchemeOptions {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Accepted JWS algorithms (default: every asymmetric one jose knows). */
  algorithms?: readonly string[];
  /** Claim holding groups or roles; a dotted path reaches into objects, e.g. `realm_access.roles` (default `groups`). */
  groupsClaim?: string;
  /** Seconds of clock skew tolerated on exp, nbf and iat (default 30). */
  clockToleranceSeconds?: number;
  /** Remote JWKS: ms between refetches for an unknown key (default 30 s), ms a fetched set is trusted (default 10 min), ms per fetch (default 5 s). */
  jwks?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
  /** What the callers' model and Hugging Face MCP calls carry. */
  downstream: { kind: 'hf-exchange'; exchange: HfTokenExchange } | { kind: 'server'; credential: Credential } | { kind: 'none' };
  /** Trades a caller's token for one bound to a tool server (MCP `auth.exchange`); undefined when not configured. */
  exchange?: TokenExchangeClient;
  /** URL of this server's RFC 9728 metadata, for the challenge. */
  resourceMetadataUrl?: string;
}

export class OidcScheme implements Scheme {
  readonly name = 'oidc' as const;
  readonly challenge: Challenge;
  readonly howTo: string;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #algorithms: readonly string[];
  readonly #groupsPath: readonly string[];
  readonly #clockTolerance: number;
  readonly #keys: JWTVerifyGetKey;
  readonly #downstream: OidcSchemeOptions['downstream'];
  readonly #exchange: TokenExchangeClient | undefined;

  constructor(options: OidcSchemeOptions) {
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#algorithms = options.algorithms ?? ASYMMETRIC_ALGORITHMS;
    const unsafe = this.#algorithms.find((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
    if (unsafe) throw new RangeError(`the JWS algorithm ${unsafe} is not an asymmetric one and cannot be accepted`);
    this.#groupsPath = (options.groupsClaim ?? 'groups').split('.');
    this.#clockTolerance = options.clockToleranceSeconds ?? 30;
    const { cooldownMs = 30_000, cacheMaxAgeMs = 600_000, timeoutMs = 5_000 } = options.jwks ?? {};
    this.#keys = createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: cooldownMs, cacheMaxAge: cacheMaxAgeMs, timeoutDuration: timeoutMs });
    this.#downstream = options.downstream;
    this.#exchange = options.exchange;
    this.challenge = { realm: 'oidc', params: options.resourceMetadataUrl ? [['resource_metadata', options.resourceMetadataUrl]] : [] };
    this.howTo = `an access token from ${options.issuer} for the audience ${options.audience} as "Authorization: Bearer <token>"`;
  }

  claims({ token, header }: PresentedCredential): boolean {
    return header !== 'x-api-key' && isJwtShaped(token);
  }

  async authenticate({ credential }: AuthAttempt): Promise<Caller> {
    const token = credential.token;
    this.#precheck(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        issuer: this.#issuer,
        audience: this.#audience,
        algorithms: [...this.#algorithms],
        clockTolerance: this.#clockTolerance,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw this.#refusal(error);
    }
    return this.#caller(payload, token);
  }

  /** Refusals that need no key: a token that is not a JWS, unsigned, signed with an algorithm not accepted, or from another issuer. */
  #precheck(token: string): void {
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      throw new CredentialRefused('invalid_token', 'This access token is not a well-formed JWT');
    }
    if (alg === 'none') throw new CredentialRefused('invalid_token', 'This access token is not signed (alg "none"); this server takes only signed tokens');
    if (typeof alg !== 'string' || !this.#algorithms.includes(alg)) {
      throw new CredentialRefused('invalid_token', `This access token is signed with ${JSON.stringify(clip(String(alg), CLAIM_SHOWN))}, which this server does not accept (it accepts ${this.#algorithms.join(', ')})`);
    }
    if (iss !== this.#issuer) {
      throw new CredentialRefused('invalid_token', `This access token was issued by ${JSON.stringify(clip(String(iss), CLAIM_SHOWN))}, not by this server's issuer ${this.#issuer}`);
    }
  }

  #refusal(error: unknown): Error {
    const code = (error as { code?: string })?.code;
    const claim = (error as { claim?: string })?.claim;
    const payload = (error as { payload?: JWTPayload })?.payload;
    switch (code) {
      case 'ERR_JWT_EXPIRED':
        return new CredentialRefused('invalid_token', `This access token expired${when(payload?.exp)}; get a new one from ${this.#issuer}`);
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
        if (claim === 'nbf') return new CredentialRefused('invalid_token', `This access token is not valid yet${when(payload?.nbf, 'until')}; check the clocks, or wait`);
        if (claim === 'aud') return new CredentialRefused('invalid_token', `This access token is for another audience (${clip(JSON.stringify(payload?.aud ?? null), CLAIM_SHOWN)}), not for this server (${this.#audience})`);
        if (claim === 'exp') return new CredentialRefused('invalid_token', 'This access token has no expiry (exp); this server takes only tokens that expire');
        if (claim === 'iss') return new CredentialRefused('invalid_token', `This access token was not issued by ${this.#issuer}`);
        return new CredentialRefused('invalid_token', `This access token's "${clip(String(claim), CLAIM_SHOWN)}" claim is not valid`);
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return new CredentialRefused('invalid_token', `This access token is signed with an algorithm this server does not accept (it accepts ${this.#algorithms.join(', ')})`);
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return new CredentialRefused('invalid_token', `This access token is signed with a key ${this.#issuer} does not publish`);
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return new CredentialRefused('invalid_token', 'This access token\'s signature does not verify');
      case 'ERR_JWS_INVALID':
      case 'ERR_JWT_INVALID':
      case 'ERR_JOSE_NOT_SUPPORTED':
        return new CredentialRefused('invalid_token', 'This access token is not a well-formed signed JWT');
      default:
        // The keys could not be had (a timeout, a network error, a JWKS that is not one): not the caller's fault, and not a pass.
        log.warn('access token check could not run', { issuer: this.#issuer, error: describeError(error) });
        return new CheckUnavailable('unavailable', `Your token could not be checked because the signing keys of ${this.#issuer} could not be fetched`, 5);
    }
  }

  #caller(payload: JWTPayload, token: string): Caller {
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
    const subject = typeof payload.sub === 'string' && payload.sub ? payload.sub : clientId;
    if (!subject) throw new CredentialRefused('invalid_token', 'This access token names no subject (sub) and no client (client_id)');
    // A client-credentials token is the client's own: its subject is the client (RFC 9068 §2.2).
    const isClient = payload.sub === undefined || payload.sub === clientId;
    const email = typeof payload.email === 'string' && payload.email_verified === true ? payload.email : undefined;
    const id = `oidc:${this.#issuer}#${subject}`;
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
    const own = new Credential(token, 'caller');
    return new Caller({
      id,
      authenticated: true,
      scheme: 'oidc',
      profile: { name: email ?? (typeof payload.preferred_username === 'string' ? payload.preferred_username : subject), type: isClient ? 'client' : 'user', orgs: [] },
      scopes: scopesOf(payload),
      groups: this.#groupsOf(payload),
      downstream: this.#downstreamFor(id, email, isClient),
      exchange: this.#exchange && ((target, signal) => this.#exchangeFor(id, own, expiresAt, target, signal)),
    });
  }

  #downstreamFor(id: string, email: string | undefined, isClient: boolean): Downstream {
    const downstream = this.#downstream;
    if (downstream.kind === 'server') return { kind: 'ready', credential: downstream.credential };
    if (downstream.kind === 'none') {
      return {
        kind: 'none',
        fix: 'failed',
        reason:
          'This agent calls Hugging Face (a model or a tool), and callers signed in through the company identity provider have no Hugging Face credential on this server (A2A_OIDC_CREDENTIAL=none). ' +
          'Call with your own Hugging Face token where the server takes one, or ask the operator to configure Hugging Face token exchange (A2A_OIDC_CREDENTIAL=hf-exchange).',
      };
    }
    if (!email) {
      return {
        kind: 'none',
        fix: 'auth-required',
        reason: isClient
          ? 'This agent calls Hugging Face, which this server does for company callers with a Hugging Face token exchanged for their verified email; a client-credentials token has no user and no email. Call as a person (a token with verified email and email_verified claims).'
          : 'This agent calls Hugging Face, which this server does with a Hugging Face token exchanged for your verified email, and your access token carries no verified email (the claims email and email_verified: true). Ask your identity provider admin to add them to access tokens, then send the message again with a new token.',
      };
    }
    return { kind: 'lazy', obtain: (signal) => downstream.exchange.tokenFor(email, id, signal) };
  }

  async #exchangeFor(id: string, own: Credential, expiresAt: number | undefined, target: ExchangeTarget, signal: AbortSignal): Promise<Credential> {
    try {
      return await this.#exchange!.exchange({
        key: `${id}\u0000${target.audience}\u0000${target.scope ?? ''}`,
        label: id,
        subjectToken: own,
        subjectTokenType: ACCESS_TOKEN_TYPE,
        requestedTokenType: ACCESS_TOKEN_TYPE,
        audience: target.audience,
        scope: target.scope,
        notAfter: expiresAt,
        signal,
      });
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      if (error.reason === 'unreachable' || error.reason === 'bad_response' || error.reason === 'invalid_client' || error.reason === 'unauthorized_client') {
        throw new DownstreamUnavailable('failed', `${this.#issuer} did not exchange your token for one for ${target.audience} (${error.reason}: ${error.message}). Try again; if it persists, the operator should check A2A_OIDC_CLIENT_ID and A2A_OIDC_CLIENT_SECRET.`);
      }
      throw new DownstreamUnavailable('auth-required', `${this.#issuer} would not exchange your token for one for ${target.audience}${target.scope ? ` with the scope ${target.scope}` : ''} (${error.reason}: ${error.message}). Sign in with an account allowed to use it, then send the message again.`);
    }
  }

  #groupsOf(payload: JWTPayload): string[] {
    let value: unknown = payload;
    for (const key of this.#groupsPath) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'string') return [value];
    return Array.isArray(value) ? value.filter((group): group is string => typeof group === 'string') : [];
  }
}

/** `scope` (space-separated, RFC 9068) or `scp` (a list, or a space-separated string, as some issuers write it). */
export function scopesOf(payload: JWTPayload): string[] {
  const scopes = new Set<string>();
  if (typeof payload.scope === 'string') for (const scope of payload.scope.split(' ')) if (scope) scopes.add(scope);
  const scp = payload.scp;
  if (typeof scp === 'string') for (const scope of scp.split(' ')) if (scope) scopes.add(scope);
  if (Array.isArray(scp)) for (const scope of scp) if (typeof scope === 'string' && scope) scopes.add(scope);
  return [...scopes];
}

function when(seconds: unknown, word = 'at'): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? ` (${word} ${new Date(seconds * 1000).toISOString()})` : '';
}

