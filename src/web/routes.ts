/**
 * The Space's own page and what it needs: GET / (the page), its script and style sheet, and, when
 * the server takes Hugging Face tokens, the routes of "Sign in with Hugging Face". Registered on the
 * app before authentication: everything here is public. Without Hugging Face tokens the sign-in
 * routes do not exist, so those paths are like any other unknown one.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Context, Hono } from 'hono';
import type { AgentSet } from '../agents/agent-set.ts';
import { HubTokenVerifier } from '../auth/hub-verifier.ts';
import { limitBody } from '../http/middleware.ts';
import { TokenBuckets } from '../util/token-buckets.ts';
import type { PageAccess } from './access.ts';
import { clientMetadata, tokenExchangeRoute, whoamiRoute } from './oauth.ts';
import { renderCallbackPage, renderLandingPage, type PageAccessView } from './page.ts';
import { PAGE_SCRIPT } from './script.ts';
import { PAGE_STYLE } from './style.ts';

export interface WebOptions {
  /** This server's public base URL, without a trailing slash. */
  baseUrl: string;
  agents: AgentSet;
  /** What callers must bring (pageAccess() in access.ts): the page offers sign-in only when it is a Hugging Face token. */
  access: PageAccess;
  hubUrl: string;
  oauth: { clientId: string | undefined; clientSecret: string | undefined; scopes: string[]; providerUrl: string };
  spaceId: string | undefined;
  /**
   * Answers GET /oauth/whoami. Pass the one the A2A routes use, so that showing who signed in costs
   * no Hub call beyond the check the first message makes anyway. Default: one of the page's own.
   */
  tokenVerifier?: HubTokenVerifier;
  /**
   * The client address of a request, undefined for this machine: token checks and sign-ins are
   * limited per address. Default: addresses unknown, so only the overall limits apply.
   */
  addressOf?: (c: Context) => string | undefined;
}

export const CIMD_PATH = '/.well-known/oauth-cimd';
export const CALLBACK_PATH = '/oauth/callback';
/** Sign-in bodies are a code and a verifier: a few hundred bytes. */
const MAX_EXCHANGE_BYTES = 4096;

interface Asset {
  path: string;
  type: string;
  body: string;
  /** Compressed once at start-up: the script is most of the page's weight. */
  gzipped: Uint8Array<ArrayBuffer>;
}

/** Served under a name that carries a hash of the content, so it can be cached for good. */
function asset(name: string, extension: string, type: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  return { path: `/assets/${name}.${hash}.${extension}`, type, body, gzipped: new Uint8Array(gzipSync(body, { level: 9 })) };
}

const SCRIPT = asset('page', 'js', 'text/javascript; charset=utf-8', PAGE_SCRIPT);
const STYLE = asset('page', 'css', 'text/css; charset=utf-8', PAGE_STYLE);

/**
 * No inline script or style at all (the page's data travels in a JSON block, which is not run), and
 * the page talks to no origin but its own. The Space page on the Hub may frame it: huggingface.co,
 * and the HF_ENDPOINT Hub when that is another one (a private Hub, or a test's stand-in).
 */
export function contentSecurityPolicy(hubUrl: string): string {
  const ancestors = new Set(["'self'", 'https://huggingface.co', new URL(hubUrl).origin]);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https://huggingface.co https://cdn-avatars.huggingface.co",
    "connect-src 'self'",
    `frame-ancestors ${[...ancestors].join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** `app` is any Hono app: the page needs nothing from the request's context. */
export function registerWebRoutes<E extends object>(app: Hono<E>, options: WebOptions): void {
  const { baseUrl, agents, access, hubUrl, oauth, spaceId, addressOf = () => undefined } = options;
  const origin = new URL(baseUrl).origin;
  const cimdUrl = `${baseUrl}${CIMD_PATH}`;
  const redirectUri = `${baseUrl}${CALLBACK_PATH}`;
  const clientId = oauth.clientId ?? cimdUrl;
  const assets = { script: SCRIPT.path, style: STYLE.path };
  const csp = contentSecurityPolicy(hubUrl);

  const view: PageAccessView =
    access.mode === 'huggingface'
      ? { ...access, signIn: { authorizeUrl: `${oauth.providerUrl}/oauth/authorize`, clientId, scope: oauth.scopes.join(' '), redirectUri } }
      : access;
  const page = renderLandingPage({ baseUrl, agents, access: view, hubUrl, spaceId, assets });
  const html = (body: string) =>
    function htmlPage(c: Context) {
      c.header('Content-Security-Policy', csp);
      c.header('Cache-Control', 'no-cache');
      return c.html(body);
    };
  app.get('/', html(page));

  for (const { path, type, body, gzipped } of [SCRIPT, STYLE]) {
    app.get(path, function pageAsset(c) {
      c.header('Content-Type', type);
      c.header('Cache-Control', 'public, max-age=31536000, immutable');
      c.header('Vary', 'Accept-Encoding');
      if (!/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) return c.body(body);
      c.header('Content-Encoding', 'gzip');
      return c.body(gzipped);
    });
  }

  if (view.mode !== 'huggingface') return;
  app.get(CIMD_PATH, function clientIdMetadata(c) {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.json(clientMetadata({ clientId: cimdUrl, clientName: spaceId ?? agents.default.name, baseUrl, redirectUri }));
  });
  app.get(CALLBACK_PATH, html(renderCallbackPage(assets)));
  app.post(
    '/oauth/token',
    limitBody(MAX_EXCHANGE_BYTES, (c) => c.json({ error: 'The sign-in answer is too large.' }, 413)),
    tokenExchangeRoute({
      tokenUrl: `${oauth.providerUrl}/oauth/token`,
      clientId,
      clientSecret: oauth.clientSecret,
      redirectUri,
      origin,
      // Per address: ten sign-ins at once, then one every ten seconds. Overall: what the Hub's token endpoint should see at most.
      limits: { perAddress: new TokenBuckets({ perSecond: 0.1, burst: 10 }), overall: new TokenBuckets({ perSecond: 2, burst: 60 }) },
      addressOf,
    }),
  );
  app.get('/oauth/whoami', whoamiRoute(options.tokenVerifier ?? new HubTokenVerifier({ hubUrl }), addressOf));
}
