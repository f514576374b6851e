/**
 * Which bearer token a request presents. `Authorization: Bearer` wins; `X-HF-Authorization` (which
 * the Spaces proxy strips, so it arrives only in local and non-Space deployments) counts only when
 * `Authorization` is absent. Anything else that looks like an attempt is refused rather than
 * ignored, so a typo never silently falls through to another credential.
 */

export type Presented =
  | { kind: 'token'; token: string }
  | { kind: 'missing' }
  | { kind: 'malformed'; reason: string };

/** RFC 6750 token68, with a length limit far above any real token. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 4096;

export function presentedToken(authorization: string | undefined, hfAuthorization: string | undefined): Presented {
  if (authorization !== undefined) return parseBearer(authorization, 'Authorization');
  if (hfAuthorization !== undefined) return parseBearer(hfAuthorization, 'X-HF-Authorization');
  return { kind: 'missing' };
}

function parseBearer(value: string, header: string): Presented {
  const match = /^\s*(\S+)(?:\s+(.*?))?\s*$/.exec(value);
  if (!match || match[1]!.toLowerCase() !== 'bearer') {
    return { kind: 'malformed', reason: `the ${header} header must be "Bearer <your Hugging Face token>"` };
  }
  const token = match[2] ?? '';
  if (!token) return { kind: 'malformed', reason: `the ${header} header has an empty token` };
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN.test(token)) {
    return { kind: 'malformed', reason: `the ${header} header's token is not a well-formed bearer token` };
  }
  return { kind: 'token', token };
}
