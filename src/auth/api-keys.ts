/**
 * API keys (A2A_API_KEYS): static secrets the operator hands to callers, each with an id that logs
 * and tasks name instead of the key. Several may be valid at once, so a key is rotated by adding
 * the new one, moving callers over, then removing the old one, without a moment of downtime.
 *
 * Keys are compared in constant time: only SHA-256 digests are kept, and a presented key's digest
 * is compared with every configured digest with timingSafeEqual, all of them every time. How long a
 * check takes does not depend on how much of a wrong key is right (a digest of a near miss shares
 * nothing with the digest of the key), nor on which key matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isHfPrefixed, isJwtShaped } from './bearer.ts';
import { Caller } from './caller.ts';
import type { Credential } from './credentials.ts';
import { CredentialRefused } from './errors.ts';
import type { AuthAttempt, PresentedCredential, Scheme } from './scheme.ts';

export const API_KEY_HEADER = 'X-API-Key';

export interface ApiKeyEntry {
  /** Named in logs and owns the key's tasks; never the key. */
  id: string;
  key: string;
}

export interface ApiKeySchemeOptions {
  keys: readonly ApiKeyEntry[];
  /**
   * What the callers' model and Hugging Face MCP calls carry: the server's HF_TOKEN (the operator
   * said this key's calls are paid by the Space), or nothing, in which case such a call ends the
   * task with a message that says so.
   */
  downstream: { kind: 'server'; credential: Credential } | { kind: 'none' };
}

export class ApiKeyMatcher {
  readonly #digests: ReadonlyArray<{ id: string; digest: Buffer }>;

  constructor(keys: readonly ApiKeyEntry[]) {
    this.#digests = keys.map(({ id, key }) => ({ id, digest: digest(key) }));
  }

  /** The id of the key `presented` is, or undefined; in constant time over the configured keys. */
  match(presented: string): string | undefined {
    const candidate = digest(presented);
    let found: string | undefined;
    for (const { id, digest: known } of this.#digests) {
      // No early exit: every key is compared whichever one matches.
      if (timingSafeEqual(candidate, known) && found === undefined) found = id;
    }
    return found;
  }
}

export class ApiKeyScheme implements Scheme {
  readonly name = 'api-key' as const;
  readonly challenge = { realm: 'api-key', params: [] };
  readonly howTo = `an API key as "${API_KEY_HEADER}: <key>" or "Authorization: Bearer <key>"`;
  readonly #matcher: ApiKeyMatcher;
  /** One Caller per key, made once: a key's caller never changes while the server runs. */
  readonly #callers: ReadonlyMap<string, Caller>;

  constructor({ keys, downstream }: ApiKeySchemeOptions) {
    this.#matcher = new ApiKeyMatcher(keys);
    this.#callers = new Map(
      keys.map(({ id }) => [
        id,
        new Caller({
          id: `key:${id}`,
          authenticated: true,
          scheme: 'api-key',
          keyId: id,
          profile: { name: id, type: 'api-key', orgs: [] },
          downstream:
            downstream.kind === 'server'
              ? { kind: 'ready', credential: downstream.credential }
              : {
                  kind: 'none',
                  fix: 'failed',
                  reason:
                    'This agent calls Hugging Face (a model or a tool), and callers with an API key have no Hugging Face credential on this server (A2A_API_KEYS_CREDENTIAL=none). ' +
                    "Call with your own Hugging Face token or a company sign-in where the server takes one, or ask the operator to set A2A_API_KEYS_CREDENTIAL=server so that API-key calls use the Space's HF_TOKEN.",
                },
        }),
      ]),
    );
  }

  /** X-API-Key always; a bearer token that is neither a Hugging Face token nor a JWT (keys can be neither: see config). */
  claims({ token, header }: PresentedCredential): boolean {
    return header === 'x-api-key' || (!isHfPrefixed(token) && !isJwtShaped(token));
  }

  authenticate({ credential }: AuthAttempt): Caller {
    const id = this.#matcher.match(credential.token);
    if (id === undefined) throw new CredentialRefused('invalid_token', 'This API key is not one of this server\'s keys (it may have been removed)');
    return this.#callers.get(id)!;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
