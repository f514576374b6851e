/**
 * Plain HTTP concerns of every response: security headers and CORS in one pass, and the request
 * body limit.
 *
 * Headers are set before the handler runs (through c.header), never by touching c.res or the
 * request's web stream: on @hono/node-server that would build a full Request or Response per
 * request, which measured as the largest avoidable cost on the A2A hot path (see bench/README.md).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

const ALLOW_HEADERS = 'Authorization, X-HF-Authorization, Content-Type, A2A-Version, A2A-Extensions, X-A2A-Extensions, If-None-Match';
const EXPOSE_HEADERS = 'WWW-Authenticate, Retry-After, A2A-Extensions, ETag';

/**
 * Security headers, and CORS for any origin: the credential is an explicit header, never an ambient
 * cookie, so a page on another site gains nothing it could not do with its own fetch. Preflights are
 * answered here, before authentication, because browsers send them without credentials. No
 * X-Frame-Options: the Space page shows this app in an iframe from huggingface.co.
 */
export function edgeHeaders(): MiddlewareHandler {
  return async function edge(c, next) {
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Access-Control-Allow-Origin', '*');
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      return c.body(null, 204, {
        'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': '600',
      });
    }
    c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    await next();
  };
}

/**
 * Refuses bodies over `maxBytes`. A declared Content-Length is checked without reading anything
 * (HTTP framing holds the client to it); only a chunked body is counted as it streams in.
 */
export function limitBody(maxBytes: number, onTooLarge: (c: Context) => Response): MiddlewareHandler {
  const counted = bodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return async function bodyWithinLimit(c, next) {
    const declared = c.req.header('content-length');
    if (declared === undefined) return counted(c, next);
    if (!/^\d+$/.test(declared) || Number(declared) > maxBytes) return onTooLarge(c);
    await next();
  };
}

/** Whether a Content-Type header names JSON, the only body either binding reads. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json' || type === 'application/a2a+json';
}
