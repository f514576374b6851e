/**
 * Checks Hugging Face tokens with the Hub (`GET {HF_ENDPOINT}/api/whoami-v2`) and remembers the
 * answer. whoami is rate-limited per IP and every caller of a Space shares one IP, so results are
 * cached under a hash of the token (never the token itself): accepted tokens for minutes, rejected
 * ones for seconds; concurrent checks of one token share one request. The check fails closed: a Hub
 * that cannot answer is an error, never a pass.
 *
 * Random strings must not spend that shared budget: a value that is not shaped like a Hugging Face
 * token is refused without asking; new tokens are checked at a limited rate per client address and
 * overall, so one address sending random `hf_...` strings runs out of checks long before the Hub's
 * limit is reached; only so many checks run at once; and once the Hub says it is rate-limiting, no
 * new token is sent to it until the time it gave has passed. Tokens already in the cache keep
 * working through all of that: they cost the Hub nothing.
 */
import { hash } from 'node:crypto';
import { BoundedMap } from '../util/bounded-map.ts';
import { TokenBuckets, type BucketRate } from '../util/token-buckets.ts';
import type { CallerProfile } from './caller.ts';
import { HF_TOKEN_SHAPE } from './credentials.ts';

export interface HubIdentity {
  /** The account's stable id (survives renames); the name when the Hub gives no id. */
  id: string;
  /** Name, kind of account and organizations. */
  profile: CallerProfile;
  /** For fine-grained tokens, the global permissions they carry; undefined when not restricted. */
  permissions: string[] | undefined;
  /** Epoch ms after which the token is no longer valid, when the Hub says. */
  expiresAt: number | undefined;
}

/** This token is not valid; the message says why, in a few words. */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

/** This address has used up its checks of new tokens for now (HTTP 429). */
export class TooManyNewTokens extends Error {
  override name = 'TooManyNewTokens';
  constructor(readonly retryAfterSeconds: number) {
    super('too many new tokens have come from your address');
  }
}

/** The Hub could not give an answer; the caller may retry after `retryAfterSeconds`. */
export class HubUnavailable extends Error {
  override name = 'HubUnavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    /** The Hub itself said it is rate-limiting this server. */
    readonly rateLimited = false,
  ) {
    super(message);
  }
}

export interface HubVerifierOptions {
  hubUrl: string;
  acceptedTtlMs?: number;
  rejectedTtlMs?: number;
  maxEntries?: number;
  timeoutMs?: number;
  /** Token checks waiting on the Hub at once; more are turned away with 503. */
  maxConcurrentChecks?: number;
  /** Checks of tokens not in the cache, per client address (default 1 per 5 s, 10 at once). */
  newTokensPerAddress?: BucketRate;
  /** Checks of tokens not in the cache, from all addresses together (default 2 per second, 60 at once). */
  newTokensOverall?: BucketRate;
  /** Reports each check's outcome, for metrics. */
  onCheck?: (outcome: 'cached' | 'accepted' | 'rejected' | 'unavailable' | 'limited') => void;
  now?: () => number;
}

export class HubTokenVerifier {
  readonly #whoamiUrl: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #accepted: BoundedMap<HubIdentity>;
  readonly #rejected: BoundedMap<true>;
  readonly #inFlight = new Map<string, Promise<HubIdentity>>();
  readonly #maxConcurrent: number;
  readonly #perAddress: TokenBuckets;
  readonly #overall: TokenBuckets;
  readonly #onCheck: NonNullable<HubVerifierOptions['onCheck']>;
  /** Epoch ms until which the Hub asked not to be sent more checks. */
  #pausedUntil = 0;

  constructor(options: HubVerifierOptions) {
    const {
      acceptedTtlMs = 5 * 60_000,
      rejectedTtlMs = 30_000,
      maxEntries = 10_000,
      timeoutMs = 5_000,
      maxConcurrentChecks = 64,
      newTokensPerAddress = { perSecond: 0.2, burst: 10 },
      newTokensOverall = { perSecond: 2, burst: 60 },
      onCheck = () => {},
      now = Date.now,
    } = options;
    this.#whoamiUrl = `${options.hubUrl}/api/whoami-v2`;
    this.#timeoutMs = timeoutMs;
    this.#maxConcurrent = maxConcurrentChecks;
    this.#now = now;
    this.#accepted = new BoundedMap({ maxEntries, maxAgeMs: acceptedTtlMs, now });
    this.#rejected = new BoundedMap({ maxEntries, maxAgeMs: rejectedTtlMs, now });
    this.#perAddress = new TokenBuckets(newTokensPerAddress, { now });
    this.#overall = new TokenBuckets(newTokensOverall, { now });
    this.#onCheck = onCheck;
  }

  /** The identity behind an accepted token still in the cache, without waiting for anything. */
  cached(token: string): HubIdentity | undefined {
    const known = this.#accepted.get(keyOf(token));
    return known && (known.expiresAt === undefined || known.expiresAt > this.#now()) ? known : undefined;
  }

  /**
   * The identity behind `token`, which came from client `address` (undefined: this machine, which
   * is not limited per address); throws TokenRejected, TooManyNewTokens or HubUnavailable.
   */
  async verify(token: string, address?: string): Promise<HubIdentity> {
    if (!HF_TOKEN_SHAPE.test(token)) throw new TokenRejected('it is not shaped like a Hugging Face token');
    const known = this.cached(token);
    if (known) {
      this.#onCheck('cached');
      return known;
    }
    const key = keyOf(token);
    if (this.#rejected.has(key)) {
      this.#onCheck('cached');
      throw new TokenRejected('it is invalid, expired or revoked');
    }

    let pending = this.#inFlight.get(key);
    if (!pending) {
      const wait = Math.ceil((this.#pausedUntil - this.#now()) / 1000);
      if (wait > 0) throw this.#unavailable(new HubUnavailable('the Hub is rate-limiting token checks from this server', wait));
      if (this.#inFlight.size >= this.#maxConcurrent) throw this.#unavailable(new HubUnavailable('too many new tokens are being checked at once', 1));
      const addressWait = address === undefined ? 0 : this.#perAddress.take(address);
      if (addressWait > 0) {
        this.#onCheck('limited');
        throw new TooManyNewTokens(addressWait);
      }
      const overallWait = this.#overall.take('');
      if (overallWait > 0) throw this.#unavailable(new HubUnavailable('many new tokens are being checked right now', overallWait));
      pending = this.#ask(token).then(
        (identity) => {
          this.#accepted.set(key, identity);
          this.#onCheck('accepted');
          return identity;
        },
        (error: unknown) => {
          if (error instanceof TokenRejected) {
            this.#rejected.set(key, true);
            this.#onCheck('rejected');
          } else {
            this.#onCheck('unavailable');
          }
          if (error instanceof HubUnavailable && error.rateLimited) this.#pausedUntil = this.#now() + error.retryAfterSeconds * 1000;
          throw error;
        },
      );
      this.#inFlight.set(key, pending);
      void pending.catch(() => {}).finally(() => this.#inFlight.delete(key));
    }
    return pending;
  }

  #unavailable(error: HubUnavailable): HubUnavailable {
    this.#onCheck('unavailable');
    return error;
  }

  async #ask(token: string): Promise<HubIdentity> {
    let response: Response;
    try {
      response = await fetch(this.#whoamiUrl, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new HubUnavailable(timedOut ? `the Hub did not answer within ${this.#timeoutMs / 1000} s` : 'the Hub could not be reached', 5);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new TokenRejected('it is invalid, expired or revoked');
    }
    if (!response.ok) {
      await response.body?.cancel();
      const retryAfter = Number(response.headers.get('retry-after'));
      const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(Math.ceil(retryAfter), 300) : response.status === 429 ? 30 : 5;
      throw new HubUnavailable(
        response.status === 429 ? 'the Hub is rate-limiting token checks from this server' : `the Hub answered the token check with HTTP ${response.status}`,
        seconds,
        response.status === 429,
      );
    }
    try {
      return parseWhoami(await response.json());
    } catch {
      throw new HubUnavailable('the Hub gave an answer this server does not understand', 5);
    }
  }
}

/** Cache entries are keyed by a hash of the token, never the token itself. */
function keyOf(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** The parts of a whoami-v2 answer this server uses. */
function parseWhoami(body: any): HubIdentity {
  if (typeof body?.name !== 'string' || !body.name) throw new Error('no name');
  const accessToken = body.auth?.accessToken;
  const fineGrained = accessToken?.role === 'fineGrained' ? accessToken.fineGrained : undefined;
  const expires = Date.parse(body.auth?.expiresAt ?? accessToken?.expiration ?? '');
  return {
    id: typeof body.id === 'string' && body.id ? body.id : body.name,
    profile: {
      name: body.name,
      type: typeof body.type === 'string' ? body.type : 'user',
      orgs: Array.isArray(body.orgs) ? body.orgs.flatMap((org: any) => (typeof org?.name === 'string' ? [org.name] : [])) : [],
    },
    permissions: fineGrained ? (Array.isArray(fineGrained.global) ? fineGrained.global.filter((p: unknown) => typeof p === 'string') : []) : undefined,
    expiresAt: Number.isFinite(expires) ? expires : undefined,
  };
}

/** What each advertised scope needs from a fine-grained token, where the Hub's answer shows it. */
const SCOPE_PERMISSIONS: Record<string, string> = {
  'inference-api': 'inference.serverless.write',
};

/** The advertised scopes this identity's token visibly lacks. */
export function missingScopes(identity: HubIdentity, scopes: readonly string[]): string[] {
  if (!identity.permissions) return [];
  return scopes.filter((scope) => {
    const permission = SCOPE_PERMISSIONS[scope];
    return permission !== undefined && !identity.permissions!.includes(permission);
  });
}
