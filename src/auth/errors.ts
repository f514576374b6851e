/**
 * The failures of inbound authentication, of authorization, and of obtaining a caller's downstream
 * credential, under one base with a stable `code` that callers switch on (never on a message).
 *
 * The codes of refusals are RFC 6750's (`invalid_request`, `invalid_token`, `insufficient_scope`)
 * where one applies, so a challenge can carry them as they are.
 */

export type AuthErrorCode =
  /** The credential is malformed, or sent in a way this server does not read (401). */
  | 'invalid_request'
  /** The credential is not valid: unknown, expired, wrongly signed, for someone else (401). */
  | 'invalid_token'
  /** Valid, but without a scope the server or the agent needs (403). */
  | 'insufficient_scope'
  /** Valid, but not on an allow-list (403). */
  | 'access_denied'
  /** Too many new credentials from one address (429). */
  | 'rate_limited'
  /** The check could not run: an upstream (the Hub, the issuer) did not answer usefully (503). */
  | 'unavailable'
  /** A downstream credential could not be obtained for the caller (a task state, not an HTTP status). */
  | 'downstream_unavailable';

export abstract class AuthError extends Error {
  abstract readonly code: AuthErrorCode;
}

/** 401: who the caller is could not be established from what they sent. */
export class CredentialRefused extends AuthError {
  override name = 'CredentialRefused';
  constructor(
    readonly code: 'invalid_request' | 'invalid_token',
    /** A sentence a person can act on, without the credential. */
    message: string,
  ) {
    super(message);
  }
}

/** 403: the caller is known, and may not do this. */
export class AccessDenied extends AuthError {
  override name = 'AccessDenied';
  constructor(
    readonly code: 'insufficient_scope' | 'access_denied',
    message: string,
    /** For insufficient_scope: the scopes a token needs (RFC 6750 `scope`). */
    readonly scopes: readonly string[] = [],
  ) {
    super(message);
  }
}

/** 429 or 503: the check could not be made now; nothing ran. */
export class CheckUnavailable extends AuthError {
  override name = 'CheckUnavailable';
  constructor(
    readonly code: 'rate_limited' | 'unavailable',
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * The caller's downstream credential (an exchanged token, or none at all) could not be had. `kind`
 * says what the task becomes: `auth-required` when a different credential from the caller would
 * help, `failed` when it would not (the operator must act, or the upstream is down).
 */
export class DownstreamUnavailable extends AuthError {
  override name = 'DownstreamUnavailable';
  readonly code = 'downstream_unavailable' as const;
  constructor(
    readonly kind: 'failed' | 'auth-required',
    message: string,
  ) {
    super(message);
  }
}
