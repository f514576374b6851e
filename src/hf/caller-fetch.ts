/**
 * The fetch for calls made on a caller's behalf: MCP servers, other A2A agents, Spaces, Hub APIs.
 *
 * Each request gets the caller's token in the header the host policy picks for its URL (none for a
 * host that does not own the token), unless the request already sets a credential header: what a
 * card or the calling code sets explicitly always wins over the token the caller brought.
 *
 * Redirects are followed here, not by fetch, because fetch would carry X-HF-Authorization (and any
 * explicit credential) to wherever a server points. A redirect is followed only within its origin;
 * any other comes back as the 3xx it is, so the token and the card's headers stay where they were
 * sent. A caller that asks for `redirect: 'manual'` (the MCP SDK does, and follows same-origin hops
 * itself) gets every 3xx back; `redirect: 'error'` makes one an error.
 */
import type { Credential } from '../auth/credentials.ts';
import { forwardedHeaders } from '../auth/host-policy.ts';

export interface CallerFetchOptions {
  /** The caller's credential; undefined sends no token anywhere. */
  credential: Credential | undefined;
  hubUrl: string;
  /** The fetch underneath (the global one unless a test routes hosts elsewhere). */
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function callerFetch({ credential, hubUrl, fetch: send = fetch }: CallerFetchOptions): typeof fetch {
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
        headers: forwardedHeaders(url, hubUrl, credential, explicit),
        signal: request.signal,
        redirect: 'manual',
      });
      if (!REDIRECTS.has(response.status)) return response;
      if (request.redirect === 'error') {
        await response.body?.cancel();
        throw new TypeError(`${new URL(url).host} answered with a redirect (HTTP ${response.status}), and this call does not follow redirects`);
      }
      const next = request.redirect === 'follow' && hop < MAX_REDIRECTS ? sameOriginTarget(url, response.headers.get('location')) : undefined;
      if (!next) return response;
      await response.body?.cancel();
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        for (const name of Object.keys(explicit)) if (name.startsWith('content-')) delete explicit[name];
      }
      url = next;
    }
  };
}

/** Where a redirect points, when that is on the same origin and carries no userinfo. */
function sameOriginTarget(from: string, location: string | null): string | undefined {
  if (!location) return undefined;
  try {
    const next = new URL(location, from);
    return next.origin === new URL(from).origin && !next.username && !next.password ? next.href : undefined;
  } catch {
    return undefined;
  }
}
