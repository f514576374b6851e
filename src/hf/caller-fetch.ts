/**
 * The fetch for calls made on a caller's behalf: MCP servers, other A2A agents, Spaces, Hub APIs.
 *
 * Each request gets the caller's token in the header the host policy picks for its URL (none for a
 * host that does not own the token), unless the request already sets a credential header: what a
 * card or the calling code sets explicitly always wins over the token the caller brought.
 *
 * Redirects are followed here, not by fetch, because fetch would carry X-HF-Authorization (and any
 * explicit credential) to wherever a server points. A redirect is followed only when the policy
 * would send the same header to the new URL; otherwise the 3xx answer is returned as it came, and
 * the token stays where the policy put it.
 */
import { forwardedHeaders, tokenHeaderFor } from './host-policy.ts';

export interface CallerFetchOptions {
  /** The caller's token; undefined sends no token anywhere. */
  token: string | undefined;
  hubUrl: string;
  /** The fetch underneath (the global one unless a test routes hosts elsewhere). */
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function callerFetch({ token, hubUrl, fetch: send = fetch }: CallerFetchOptions): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    let url = request.url;
    let method = request.method;
    // Bodies on these calls are small JSON documents: read once, so a 307 or 308 can send it again.
    let body = method === 'GET' || method === 'HEAD' ? undefined : await request.arrayBuffer();
    const explicit = Object.fromEntries(request.headers);

    for (let hop = 0; ; hop++) {
      const response = await send(url, {
        method,
        body,
        headers: forwardedHeaders(url, hubUrl, token, explicit),
        signal: request.signal,
        redirect: 'manual',
      });
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || !location || hop === MAX_REDIRECTS) return response;
      const next = new URL(location, url);
      if (!sameCredential(url, next, hubUrl)) return response;
      await response.body?.cancel();
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        delete explicit['content-type'];
        delete explicit['content-length'];
      }
      url = next.href;
    }
  };
}

/** The new URL is on the same origin, or the policy gives it the same header as the old one. */
function sameCredential(from: string, to: URL, hubUrl: string): boolean {
  if (new URL(from).origin === to.origin) return true;
  return tokenHeaderFor(from, hubUrl) === tokenHeaderFor(to, hubUrl) && tokenHeaderFor(to, hubUrl) !== undefined;
}
