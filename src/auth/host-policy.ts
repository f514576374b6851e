/**
 * Which header, if any, may carry a caller's Hugging Face token to a given URL.
 *
 * A token goes only to hosts that own it: the Hub (`huggingface.co`, `hf.co`, and the configured
 * HF_ENDPOINT host) reads `Authorization`; Space apps (`*.hf.space`) get `X-HF-Authorization`,
 * which the Spaces proxy reads and strips so the token never reaches the app's own code. Every
 * other host gets nothing. Matching is on the parsed hostname and port, exactly, so look-alikes such
 * as `huggingface.co.evil.com`, `evil.com/huggingface.co`, `huggingface.co@evil.com` or
 * `huggingface.co:8443` (another service on the same name) do not match. Plain http is allowed only
 * to loopback (local runs and tests).
 */
import type { Credential } from './credentials.ts';

export type TokenHeader = 'authorization' | 'x-hf-authorization';

const HUB_HOSTS = new Set(['huggingface.co', 'hf.co']);
const SPACE_SUFFIX = '.hf.space';

/** The header that carries a caller's token to `target`, or undefined when no token may go there. */
export function tokenHeaderFor(target: string | URL, hubUrl: string): TokenHeader | undefined {
  const url = parse(target);
  if (!url || url.username || url.password) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const hub = parse(hubUrl);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(host))) return undefined;
  // The configured Hub counts with its own port only; a loopback Hub (local stand-ins, tests) with
  // any loopback port, since such setups run each service on a port of its own on one machine.
  if (hub && host === hub.hostname.toLowerCase() && (url.port === hub.port || isLoopback(host))) return 'authorization';
  // The public names count on the default https port only: another port is another service.
  if (url.port !== '') return undefined;
  if (HUB_HOSTS.has(host)) return 'authorization';
  if (host.endsWith(SPACE_SUFFIX) && host.length > SPACE_SUFFIX.length && !host.slice(0, -SPACE_SUFFIX.length).includes('..')) {
    return 'x-hf-authorization';
  }
  return undefined;
}

/** Headers that carry `credential` to `target` under the policy; explicit headers always win. */
export function forwardedHeaders(
  target: string | URL,
  hubUrl: string,
  credential: Credential | undefined,
  explicit: Record<string, string> = {},
): Record<string, string> {
  const headers: Record<string, string> = { ...explicit };
  const header = credential ? tokenHeaderFor(target, hubUrl) : undefined;
  if (!header || !credential) return headers;
  const explicitNames = new Set(Object.keys(explicit).map((name) => name.toLowerCase()));
  // A card that sets either credential header explicitly has chosen its credential.
  if (explicitNames.has('authorization') || explicitNames.has('x-hf-authorization')) return headers;
  headers[header === 'authorization' ? 'Authorization' : 'X-HF-Authorization'] = `Bearer ${credential.reveal()}`;
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
