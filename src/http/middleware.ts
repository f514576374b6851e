/**
 * Plain HTTP concerns of every response: security headers and CORS in one pass, and the request
 * body limit.
 *
 * Headers every response carries are set before the handler runs (presetHeader), never by touching
 * c.res or the request's web stream: on @hono/node-server that would build a full Request or
 * Response per request, which measured as the largest avoidable cost on the A2A hot path (see
 * bench/README.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

const ALLOW_HEADERS = 'Authorization, X-HF-Authorization, Content-Type, A2A-Version, A2A-Extensions, X-A2A-Extensions, If-None-Match';
const EXPOSE_HEADERS = 'WWW-Authenticate, Retry-After, A2A-Extensions, ETag';

/** What @hono/node-server passes a request's handlers as `c.env`. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/**
 * Sets a header on whatever response answers this request. On Node it goes onto Node's own response
 * object, which merges it with the answer's headers when they are written; c.header would put it in
 * a WHATWG Headers object instead, and building, merging and reading that back cost about a tenth of
 * a blocking SendMessage's CPU (bench/README.md). A header the answer sets itself wins, and one it
 * appends to replaces this value rather than adding to it: preset only headers no handler extends.
 */
export function presetHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as NodeBindings | undefined)?.outgoing;
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}

/** The request headers requestHeader reads: ones that Node and the adapter both join the same way. */
export type NodeJoinedHeader = 'x-request-id' | 'origin' | 'access-control-request-method' | 'a2a-version' | 'a2a-extensions' | 'x-a2a-extensions';

/**
 * A request header as Node parsed it (`lowerName` in lower case), read from Node's own headers where
 * there are some: the adapter's c.req.header checks and lowercases the name and checks the value
 * again on every call, and a blocking send reads several. Node has already joined repeated values
 * with ", ", as the adapter does for these: use it for such headers only, not for those the adapter
 * joins from the raw lines itself (Authorization, Content-Type, Content-Length, where Node keeps
 * the first).
 */
export function requestHeader(c: Context, lowerName: NodeJoinedHeader): string | undefined {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (!incoming) return c.req.header(lowerName);
  const value = incoming.headers[lowerName];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Security headers, and CORS for any origin: the credential is an explicit header, never an ambient
 * cookie, so a page on another site gains nothing it could not do with its own fetch. Preflights are
 * answered here, before authentication, because browsers send them without credentials. No
 * X-Frame-Options: the Space page shows this app in an iframe from huggingface.co.
 *
 * Headers that only a browser reads go where a browser can be reading. CORS headers and the
 * referrer policy are on every GET (pages, the card; the same for whoever asks, so a cache may keep
 * them); on a POST or DELETE, CORS headers are sent only with an Origin header, which browsers add to
 * every request of those methods, and the referrer policy not at all, since those answers are JSON
 * or events, never a page. An A2A client on a server is spared three headers on every answer
 * (about a twentieth of a blocking send's CPU, and a tenth of its response's bytes).
 */
export function edgeHeaders(): MiddlewareHandler {
  return async function edge(c, next) {
    presetHeader(c, 'X-Content-Type-Options', 'nosniff');
    const method = c.req.method;
    const readable = method === 'GET' || method === 'HEAD';
    if (readable) presetHeader(c, 'Referrer-Policy', 'no-referrer');
    if (!readable && !requestHeader(c, 'origin')) return next();
    presetHeader(c, 'Access-Control-Allow-Origin', '*');
    if (method === 'OPTIONS' && requestHeader(c, 'access-control-request-method')) {
      return c.body(null, 204, {
        'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': '600',
      });
    }
    presetHeader(c, 'Access-Control-Expose-Headers', EXPOSE_HEADERS);
    await next();
  };
}

/**
 * Refuses bodies over `maxBytes` with 413. A declared Content-Length is checked before anything is
 * read (HTTP framing holds the client to it); only a chunked body is counted as it streams in.
 *
 * A client often sends its whole body before it reads the answer. Answer at once and close, and it
 * gets a connection reset instead of the 413; answer at once and keep the connection, and the
 * server's adapter closes it anyway if the rest of the body takes over half a second, dropping the
 * client's next request on it. So a body declared up to `drainBytes` is read to its end and thrown
 * away first, and the 413 keeps the connection usable; a larger one (not worth reading) or a chunked
 * one is answered at once, with the connection closed.
 */
export function limitBody(maxBytes: number, onTooLarge: (c: Context) => Response, drainBytes = 8 * maxBytes): MiddlewareHandler {
  const closing = (c: Context) => {
    c.header('Connection', 'close');
    return onTooLarge(c);
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError: closing });
  return async function bodyWithinLimit(c, next) {
    const declared = c.req.header('content-length');
    if (declared === undefined) return counted(c, next);
    const length = /^\d{1,15}$/.test(declared) ? Number(declared) : Infinity;
    if (length <= maxBytes) return next();
    if (length > drainBytes || !(await discardBody(c))) return closing(c);
    return onTooLarge(c);
  };
}

/** Reads the request body to its end without keeping it; false when it could not be (the client left). */
async function discardBody(c: Context): Promise<boolean> {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (!incoming) return false;
  try {
    incoming.resume();
    await finished(incoming);
    return true;
  } catch {
    return false;
  }
}

/** Whether a Content-Type header names JSON, the only body either binding reads. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json' || type === 'application/a2a+json';
}
