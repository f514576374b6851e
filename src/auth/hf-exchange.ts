/**
 * Hugging Face token exchange for organization members (Enterprise organizations; RFC 8693 as the
 * Hub documents it): this server holds an organization-bound OAuth app with the token-exchange
 * privilege (HF_EXCHANGE_CLIENT_ID, HF_EXCHANGE_CLIENT_SECRET), and trades a company caller's
 * verified email for an `hf_oauth_...` token of that member, which their model and Hugging Face MCP
 * calls then carry exactly as a caller's own token would be carried. The member pays and acts as
 * themselves; the Space's own token is never lent out.
 *
 *   POST {HF_ENDPOINT}/oauth/token   (HTTP Basic: the app's client id and secret)
 *   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
 *   subject_token=<email>  subject_token_type=urn:huggingface:token-type:user-email  scope=inference-api
 *
 * Tokens are cached per (email, scope) until shortly before `expires_in` (8 h by default), with one
 * exchange at a time per member. Each exchange is in the organization's audit log at the Hub.
 */
import type { Credential } from './credentials.ts';
import { DownstreamUnavailable } from './errors.ts';
import { TokenExchangeClient, TokenExchangeError, type TokenExchangeOptions } from './token-exchange.ts';
import { log } from '../util/log.ts';

export const HF_EMAIL_TOKEN_TYPE = 'urn:huggingface:token-type:user-email';

export interface HfExchangeOptions extends Omit<TokenExchangeOptions, 'tokenUrl'> {
  hubUrl: string;
  /** Scope asked for (HF_EXCHANGE_SCOPE; default inference-api). */
  scope: string;
}

export class HfTokenExchange {
  readonly #client: TokenExchangeClient;
  readonly #scope: string;

  constructor({ hubUrl, scope, ...options }: HfExchangeOptions) {
    this.#client = new TokenExchangeClient({ ...options, tokenUrl: `${hubUrl}/oauth/token` });
    this.#scope = scope;
  }

  /** Tokens currently cached. */
  get size(): number {
    return this.#client.size;
  }

  /** A Hugging Face token for the member with this verified email; throws DownstreamUnavailable saying what to do. */
  async tokenFor(email: string, callerId: string, signal?: AbortSignal): Promise<Credential> {
    try {
      return await this.#client.exchange({
        key: `${email.toLowerCase()}\u0000${this.#scope}`,
        label: callerId,
        subjectToken: email,
        subjectTokenType: HF_EMAIL_TOKEN_TYPE,
        scope: this.#scope,
        signal,
      });
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      throw explain(error, email, this.#scope);
    }
  }
}

function explain(error: TokenExchangeError, email: string, scope: string): DownstreamUnavailable {
  switch (error.reason) {
    case 'invalid_grant':
      return new DownstreamUnavailable(
        'auth-required',
        `Hugging Face would not issue a token for ${email} (invalid_grant): there is no Hugging Face account with this email in the organization this server's token-exchange app belongs to. ` +
          'Ask an organization admin to add you (with this email), or call with your own Hugging Face token where the server takes one, then send the message again.',
      );
    case 'invalid_client':
    case 'unauthorized_client':
      log.warn('Hugging Face refused the token-exchange app; check HF_EXCHANGE_CLIENT_ID, HF_EXCHANGE_CLIENT_SECRET and the app\'s token-exchange privilege', { reason: error.reason });
      return new DownstreamUnavailable(
        'failed',
        `Hugging Face refused this server's token-exchange app (${error.reason}), so no Hugging Face token could be had for you. The operator must check HF_EXCHANGE_CLIENT_ID and HF_EXCHANGE_CLIENT_SECRET, and that the OAuth app is bound to the organization with the token-exchange privilege.`,
      );
    case 'invalid_scope':
      log.warn('Hugging Face refused the token-exchange scope; check HF_EXCHANGE_SCOPE', { scope });
      return new DownstreamUnavailable('failed', `Hugging Face refused the scope "${scope}" for exchanged tokens (invalid_scope). The operator must set HF_EXCHANGE_SCOPE to a scope the organization's app may grant.`);
    case 'unreachable':
      return new DownstreamUnavailable('failed', `Hugging Face could not be reached to get a token for you (${error.message}). Nothing was run; try again in a moment.`);
    default:
      return new DownstreamUnavailable('failed', `Hugging Face did not issue a token for you (${error.reason}: ${error.message}). Try again; if it persists, the operator should check the token-exchange settings.`);
  }
}
