/**
 * What every inbound scheme (Hugging Face tokens, API keys, OIDC access tokens) is to the
 * middleware: it says whether a presented credential is its to judge (by header and shape, cheaply),
 * judges it (a Caller, or an AuthError), and says how it is challenged and how a person sends one.
 *
 * Schemes combine as OR: each credential is judged by exactly one scheme, the first that claims it,
 * so a credential refused by its own scheme is never tried against another one's rules.
 */
import type { Caller, SchemeName } from './caller.ts';
import type { CredentialHeader } from './bearer.ts';

export interface PresentedCredential {
  token: string;
  header: CredentialHeader;
}

export interface AuthAttempt {
  credential: PresentedCredential;
  /** The client address, undefined for this machine (checks of new tokens are limited per address); worked out only when asked. */
  address: () => string | undefined;
}

/** One RFC 6750 challenge: `Bearer realm="...", name="value", ...` (error parameters are added by the writer). */
export interface Challenge {
  realm: string;
  /** Further auth-params in order, e.g. resource_metadata and scope. */
  params: ReadonlyArray<readonly [string, string]>;
}

export interface Scheme {
  readonly name: SchemeName;
  /** Whether this credential is this scheme's to judge. Never throws, never waits. */
  claims(credential: PresentedCredential): boolean;
  /**
   * The caller behind the credential, or an AuthError (CredentialRefused, AccessDenied,
   * CheckUnavailable) saying why not. Returns synchronously where nothing needs to be waited for.
   */
  authenticate(attempt: AuthAttempt): Caller | Promise<Caller>;
  readonly challenge: Challenge;
  /** How a person sends this scheme's credential, as a clause: 'an API key as "X-API-Key: <key>"'. */
  readonly howTo: string;
}

/**
 * Challenges for a WWW-Authenticate header (RFC 7235 allows several in one value). `error` goes on
 * the challenge of the scheme it is about (the first one when it is about none in particular).
 */
export function formatChallenges(
  challenges: readonly Challenge[],
  error?: { code: string; description: string; realm?: string; scopes?: readonly string[] },
): string {
  const target = error ? (challenges.find((c) => c.realm === error.realm) ?? challenges[0]) : undefined;
  return challenges
    .map((challenge) => {
      const params: Array<readonly [string, string]> = [['realm', challenge.realm]];
      if (error && challenge === target) params.push(['error', error.code], ['error_description', error.description]);
      for (const param of challenge.params) {
        // An insufficient_scope error names the scopes needed instead of the scheme's usual ones.
        if (error?.scopes?.length && challenge === target && param[0] === 'scope') continue;
        params.push(param);
      }
      if (error?.scopes?.length && challenge === target) params.push(['scope', error.scopes.join(' ')]);
      return `Bearer ${params.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')}`;
    })
    .join(', ');
}

/** The challenge of a 403 for a scope an agent needs (RFC 6750 §3.1), where no scheme is at hand. */
export function insufficientScopeChallenge(scopes: readonly string[], description: string): string {
  return `Bearer error="insufficient_scope", error_description=${quoted(description)}, scope=${quoted(scopes.join(' '))}`;
}

/** An HTTP quoted-string: a message may itself quote something ("Bearer <token>"). */
function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/[\r\n]+/g, ' ')}"`;
}
