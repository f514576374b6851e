/**
 * The caller on whose behalf work runs: who they are (by which scheme, with which scopes and
 * groups), and the credential their downstream work uses. The one identity type of every scheme.
 *
 * One Caller is made per request by the auth middleware and rides in the request's context object
 * (the SDK's ServerCallContext, as its `user`) from the HTTP edge down to every outbound call, so a
 * credential travels with the work it started and never through module state.
 *
 * Ids are namespaced by scheme (`hf:<id>`, `key:<id>`, `oidc:<issuer>#<sub>`), so callers of two
 * schemes never share tasks, conversations or quotas by an accident of naming.
 */
import type { User } from '@a2a-js/sdk/server';
import type { Credential } from './credentials.ts';
import { DownstreamUnavailable } from './errors.ts';

export type SchemeName = 'huggingface' | 'api-key' | 'oidc';

/** Who a verified caller is, as their scheme describes them. */
export interface CallerProfile {
  /** Hugging Face: the account name; API key: the key id; OIDC: the subject (or the email when given). */
  name: string;
  /** Hugging Face: `user`, `org` or `app`; API key: `api-key`; OIDC: `user` or `client` (a client-credentials token). */
  type: string;
  /** Hugging Face organizations (from whoami); empty for other schemes. */
  orgs: readonly string[];
}

/**
 * How a caller's model and Hugging Face MCP calls get their credential:
 * - `ready`: known at admission (the caller's own HF token, the server's HF_TOKEN, or nothing for
 *   an anonymous caller, whose model calls then say how to set a token);
 * - `none`: the caller's scheme is configured with no downstream credential; `reason` says so;
 * - `lazy`: obtained per turn (a Hugging Face token exchanged for an organization member).
 */
export type Downstream =
  | { kind: 'ready'; credential: Credential | undefined }
  | { kind: 'none'; reason: string; fix: 'failed' | 'auth-required' }
  | { kind: 'lazy'; obtain: (signal: AbortSignal) => Promise<Credential> };

/** A downstream an RFC 8693 exchange makes a token for (an MCP entry's `auth.exchange`). */
export interface ExchangeTarget {
  audience: string;
  /** Space-separated scopes asked for; undefined asks for the issuer's default. */
  scope: string | undefined;
}

export interface CallerInit {
  /** Stable identity that owns tasks and conversations, namespaced by scheme; '' for anonymous callers. */
  id: string;
  /** True when an inbound scheme verified who this is. */
  authenticated: boolean;
  /** Which scheme admitted the caller; undefined for anonymous callers. */
  scheme?: SchemeName;
  /** Undefined for anonymous callers. */
  profile?: CallerProfile;
  /** What outbound calls carry, when known now (shorthand for `downstream: {kind: 'ready', credential}`). */
  credential?: Credential | undefined;
  /** How the downstream credential is obtained (default: `ready` with `credential`). */
  downstream?: Downstream;
  /** Scopes the caller's token carries (default: none). */
  scopes?: readonly string[];
  /** Groups or roles (OIDC, from the configured claim; default: none). */
  groups?: readonly string[];
  /** The id of the API key used (API keys only). */
  keyId?: string;
  /** Trades the caller's own token for one bound to another downstream (OIDC only). */
  exchange?: (target: ExchangeTarget, signal: AbortSignal) => Promise<Credential>;
}

export class Caller implements User {
  readonly id: string;
  readonly isAuthenticated: boolean;
  readonly scheme: SchemeName | undefined;
  readonly profile: CallerProfile | undefined;
  /** The credential downstream calls carry, once known; undefined until a lazy one is obtained (see forTurn). */
  readonly credential: Credential | undefined;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  readonly keyId: string | undefined;
  readonly #downstream: Downstream;
  /** Made on first use: most requests never ask about a scope. */
  #scopeSet: ReadonlySet<string> | undefined;
  readonly #exchange: CallerInit['exchange'];

  constructor(init: CallerInit) {
    this.id = init.id;
    this.isAuthenticated = init.authenticated;
    this.scheme = init.scheme;
    this.profile = init.profile;
    this.#downstream = init.downstream ?? { kind: 'ready', credential: init.credential };
    this.credential = this.#downstream.kind === 'ready' ? this.#downstream.credential : undefined;
    this.scopes = init.scopes ?? [];
    this.groups = init.groups ?? [];
    this.keyId = init.keyId;
    this.#exchange = init.exchange;
  }

  /** The SDK's name for the identity that owns tasks. */
  get userName(): string {
    return this.id;
  }

  /** Whether the caller's token carries `scope` (a whole scope, never a prefix of one). */
  hasScope(scope: string): boolean {
    this.#scopeSet ??= new Set(this.scopes);
    return this.#scopeSet.has(scope);
  }

  /** Whether the downstream credential is known without waiting (true also when there is none to wait for). */
  get downstreamReady(): boolean {
    return this.#downstream.kind === 'ready';
  }

  /**
   * This caller with their downstream credential in hand, for one turn that needs it. Throws
   * DownstreamUnavailable when the scheme gives none or it cannot be obtained.
   */
  async forTurn(signal: AbortSignal): Promise<Caller> {
    const downstream = this.#downstream;
    switch (downstream.kind) {
      case 'ready':
        return this;
      case 'none':
        throw new DownstreamUnavailable(downstream.fix, downstream.reason);
      case 'lazy': {
        const credential = await downstream.obtain(signal);
        return new Caller({ ...this.#init(), downstream: { kind: 'ready', credential } });
      }
    }
  }

  /** A token for another downstream, traded for the caller's own (RFC 8693); throws DownstreamUnavailable. */
  async exchangeFor(target: ExchangeTarget, signal: AbortSignal): Promise<Credential> {
    if (!this.#exchange) {
      throw new DownstreamUnavailable(
        'auth-required',
        `this tool server (${target.audience}) takes only tokens exchanged from a sign-in with this server's OpenID Connect issuer, and this request came ${this.scheme ? `with a ${describeScheme(this.scheme)}` : 'without one'}; call with an access token from that issuer`,
      );
    }
    return this.#exchange(target, signal);
  }

  #init(): CallerInit {
    return {
      id: this.id,
      authenticated: this.isAuthenticated,
      scheme: this.scheme,
      profile: this.profile,
      scopes: this.scopes,
      groups: this.groups,
      keyId: this.keyId,
      exchange: this.#exchange,
    };
  }
}

function describeScheme(scheme: SchemeName): string {
  return scheme === 'huggingface' ? 'Hugging Face token' : scheme === 'api-key' ? 'API key' : 'token';
}

