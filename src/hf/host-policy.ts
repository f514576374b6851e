/**
 * Which header, if any, may carry a caller's Hugging Face token to a given URL.
 *
 * A token goes only to hosts that own it: the Hub (`huggingface.co`, `hf.co`, and the configured
 * HF_ENDPOINT host) reads `Authorization`; Space apps (`*.hf.space`) get `X-HF-Authorization`,
 * which the Spaces proxy reads and strips so the token never reaches the app's own code. Every
 * other host gets nothing. Matching is on the parsed hostname, exactly, so look-alikes such as
 * `huggingface.co.evil.com`, `evil.com/huggingface.co` or `huggingface.co@evil.com` do not match.
 * Plain http is allowed only to loopback (local runs and tests).
 */

export type TokenHeader = 'authorization' | 'x-hf-authorization';

const HUB_HOSTS = new Set(['huggingface.co', 'hf.co']);
const SPACE_SUFFIX = '.hf.space';

/** The header that carries a caller's token to `target`, or undefined when no token may go there. */
export function tokenHeaderFor(target: string | URL, hubUrl: string): TokenHeader | undefined {
  const url = parse(target);
  if (!url || url.username || url.password) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const hubHost = parse(hubUrl)?.hostname.toLowerCase();
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(host))) return undefined;
  if (HUB_HOSTS.has(host) || host === hubHost) return 'authorization';
  if (host.endsWith(SPACE_SUFFIX) && host.length > SPACE_SUFFIX.length && !host.slice(0, -SPACE_SUFFIX.length).includes('..')) {
    return 'x-hf-authorization';
  }
  return undefined;
}

/** Headers that carry `token` to `target` under the policy; explicit headers always win. */
export function forwardedHeaders(
  target: string | URL,
  hubUrl: string,
  token: string | undefined,
  explicit: Record<string, string> = {},
): Record<string, string> {
  const headers: Record<string, string> = { ...explicit };
  const header = token ? tokenHeaderFor(target, hubUrl) : undefined;
  if (!header || !token) return headers;
  const explicitNames = new Set(Object.keys(explicit).map((name) => name.toLowerCase()));
  // A card that sets either credential header explicitly has chosen its credential.
  if (explicitNames.has('authorization') || explicitNames.has('x-hf-authorization')) return headers;
  headers[header === 'authorization' ? 'Authorization' : 'X-HF-Authorization'] = `Bearer ${token}`;
  return headers;
}

function parse(target: string | URL): URL | undefined {
  try {
    return typeof target === 'string' ? new URL(target) : target;
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
