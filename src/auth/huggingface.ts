/**
 * The Hugging Face scheme (FAST_AGENT_SERVE_OAUTH=huggingface): a Hugging Face user access token or
 * OAuth token, checked with the Hub by HubTokenVerifier (cached, rate-limited, fail-closed), whose
 * caller's downstream work carries that same token. A token that visibly lacks an advertised scope
 * (a fine-grained token without the permission behind it) is a 403.
 *
 * It judges every bearer token no other configured scheme claims, so a stray value gets this
 * scheme's own answer ("not shaped like a Hugging Face token") without a Hub call.
 */
import { Caller } from './caller.ts';
import { Credential } from './credentials.ts';
import { AccessDenied, CheckUnavailable, CredentialRefused } from './errors.ts';
import { HubUnavailable, missingScopes, TokenRejected, TooManyNewTokens, type HubIdentity, type HubTokenVerifier } from './hub-verifier.ts';
import type { AuthAttempt, Challenge, PresentedCredential, Scheme } from './scheme.ts';
import { describeError, log } from '../util/log.ts';

export interface HuggingFaceSchemeOptions {
  verifier: HubTokenVerifier;
  /** Scopes advertised (FAST_AGENT_OAUTH_SCOPES): checked where the Hub shows them, and held by every caller admitted. */
  scopes: readonly string[];
  /** URL of this server's RFC 9728 metadata, for the challenge. */
  resourceMetadataUrl: string;
}

export class HuggingFaceScheme implements Scheme {
  readonly name = 'huggingface' as const;
  readonly challenge: Challenge;
  readonly howTo = `your Hugging Face token as "Authorization: Bearer <token>" (create one at https://huggingface.co/settings/tokens; a fine-grained token needs "Make calls to Inference Providers")`;
  readonly #verifier: HubTokenVerifier;
  readonly #scopes: readonly string[];

  constructor({ verifier, scopes, resourceMetadataUrl }: HuggingFaceSchemeOptions) {
    this.#verifier = verifier;
    this.#scopes = scopes;
    this.challenge = { realm: 'huggingface', params: [['resource_metadata', resourceMetadataUrl], ['scope', scopes.join(' ')]] };
  }

  claims({ header }: PresentedCredential): boolean {
    return header !== 'x-api-key';
  }

  authenticate({ credential, address }: AuthAttempt): Caller | Promise<Caller> {
    // Most requests come with a token checked a moment ago: no await on that path.
    const known = this.#verifier.cached(credential.token);
    if (known) return this.#admit(known, credential.token);
    return this.#verifier.verify(credential.token, address()).then(
      (identity) => this.#admit(identity, credential.token),
      (error: unknown) => {
        throw translate(error);
      },
    );
  }

  #admit(identity: HubIdentity, token: string): Caller {
    const lacking = missingScopes(identity, this.#scopes);
    if (lacking.length > 0) {
      throw new AccessDenied('insufficient_scope', `This token lacks the permission this server needs (${lacking.join(', ')})`, this.#scopes);
    }
    return new Caller({
      id: `hf:${identity.id}`,
      authenticated: true,
      scheme: 'huggingface',
      profile: identity.profile,
      credential: new Credential(token, 'caller'),
      // The Hub does not say which scopes an OAuth token was granted; the server's own check vouches for the ones it advertises.
      scopes: this.#scopes,
    });
  }
}

function translate(error: unknown): Error {
  if (error instanceof TokenRejected) return new CredentialRefused('invalid_token', `Hugging Face does not accept this token: ${error.message}`);
  if (error instanceof TooManyNewTokens) return new CheckUnavailable('rate_limited', `Your token could not be checked: ${error.message}`, error.retryAfterSeconds);
  log.warn('token check could not run', { error: describeError(error) });
  if (error instanceof HubUnavailable) return new CheckUnavailable('unavailable', `Your token could not be checked because ${error.message}`, error.retryAfterSeconds);
  return new CheckUnavailable('unavailable', 'Your token could not be checked because of an internal error', 5);
}
