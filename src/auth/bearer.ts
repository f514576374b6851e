/**
 * Which credential a request presents, and in which header. `Authorization: Bearer` wins over
 * `X-HF-Authorization` (which the Spaces proxy strips, so it arrives only in local and non-Space
 * deployments, and is read only while Hugging Face tokens are taken). `X-API-Key`, read only while
 * API keys are taken, wins over both: a private Space's proxy needs the caller's Hugging Face token
 * in `Authorization`, so a caller there sends their key beside it. Anything else that looks like an
 * attempt is refused rather than ignored, so a typo never silently falls through to another
 * credential.
 */

export type CredentialHeader = 'authorization' | 'x-hf-authorization' | 'x-api-key';

export type Presented =
  | { kind: 'token'; token: string; header: CredentialHeader }
  | { kind: 'missing' }
  | { kind: 'malformed'; reason: string };

/** RFC 6750 token68, with a length limit far above any real token. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 4096;

/** The bearer token of `Authorization`, else of `X-HF-Authorization` (Hugging Face tokens only). */
export function presentedToken(authorization: string | undefined, hfAuthorization: string | undefined, what = 'your Hugging Face token'): Presented {
  if (authorization !== undefined) return parseBearer(authorization, 'Authorization', 'authorization', what);
  if (hfAuthorization !== undefined) return parseBearer(hfAuthorization, 'X-HF-Authorization', 'x-hf-authorization', what);
  return { kind: 'missing' };
}

export interface CredentialHeaders {
  authorization: string | undefined;
  hfAuthorization: string | undefined;
  apiKey: string | undefined;
}

export interface ReadOptions {
  /** Read X-API-Key (API keys are configured). */
  apiKeys: boolean;
  /** Read X-HF-Authorization (Hugging Face tokens are taken). */
  huggingface: boolean;
  /** What to call the token in a message, e.g. "your Hugging Face token" or "your token". */
  what: string;
}

/** The one credential a request presents, by the rule above. */
export function presentedCredential(headers: CredentialHeaders, options: ReadOptions): Presented {
  if (options.apiKeys && headers.apiKey !== undefined) {
    const key = headers.apiKey.trim();
    if (!key) return { kind: 'malformed', reason: 'the X-API-Key header is empty' };
    if (key.length > MAX_TOKEN_LENGTH || !TOKEN.test(key)) return { kind: 'malformed', reason: "the X-API-Key header's value is not a well-formed key" };
    return { kind: 'token', token: key, header: 'x-api-key' };
  }
  return presentedToken(headers.authorization, options.huggingface ? headers.hfAuthorization : undefined, options.what);
}

function parseBearer(value: string, name: string, header: CredentialHeader, what: string): Presented {
  const match = /^\s*(\S+)(?:\s+(.*?))?\s*$/.exec(value);
  if (!match || match[1]!.toLowerCase() !== 'bearer') {
    return { kind: 'malformed', reason: `the ${name} header must be "Bearer <${what}>"` };
  }
  const token = match[2] ?? '';
  if (!token) return { kind: 'malformed', reason: `the ${name} header has an empty token` };
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN.test(token)) {
    return { kind: 'malformed', reason: `the ${name} header's token is not a well-formed bearer token` };
  }
  return { kind: 'token', token, header };
}

/** A compact JWS (three base64url segments, the first a JSON object): what OIDC access tokens look like. */
export function isJwtShaped(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The prefix every Hugging Face token (`hf_...`, `hf_oauth_...`) starts with. */
export function isHfPrefixed(token: string): boolean {
  return token.startsWith('hf_');
}
