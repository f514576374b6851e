/**
 * A loopback stand-in for the Hugging Face Hub as the page's sign-in sees it: the OAuth
 * authorization-code flow with PKCE (`/oauth/authorize` approves at once and redirects back with a
 * code; `/oauth/token` checks the S256 verifier, the client and the redirect URI), `/oauth/userinfo`
 * and `/api/whoami-v2` for the tokens it issued or was given, and a Space page that frames the app
 * the way huggingface.co does. A client id that is a URL is read as a Client ID Metadata Document,
 * as the Hub does: the document must name itself and list the redirect URI.
 *
 * It can be told to reject every token, to answer 429, or to refuse consent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { listenOnLoopback } from './http.ts';

export interface OAuthHubUser {
  name: string;
  /** Makes the token fine-grained with these global permissions. */
  permissions?: string[];
}

export type OAuthHubMode = { kind: 'normal' } | { kind: 'reject' } | { kind: 'rate-limited'; retryAfter: number };

export interface HubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

export interface FakeOAuthHub {
  url: string;
  /** Tokens the Hub accepts, and whose they are: every token it issued, and any a test adds. */
  tokens: Map<string, OAuthHubUser>;
  /** Who the next authorization signs in. */
  nextUser: OAuthHubUser;
  /** `deny`: the visitor refuses consent (redirect with error=access_denied). */
  consent: 'approve' | 'deny';
  /** A Space's own OAuth apps: client id -> secret (confidential clients). */
  apps: Map<string, string>;
  /** Access tokens issued, in order. */
  issued: string[];
  /** Every request, in order. */
  requests: HubRequest[];
  /** Every POST /oauth/token: its form and Authorization header. */
  tokenRequests: Array<{ form: URLSearchParams; authorization: string | undefined }>;
  mode: OAuthHubMode;
  /** The app the Space page at /spaces/<owner>/<name> frames. */
  spaceAppUrl: string;
  close(): Promise<void>;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  user: OAuthHubUser;
  used: boolean;
}

export async function startFakeOAuthHub(tokens: Record<string, OAuthHubUser> = {}): Promise<FakeOAuthHub> {
  const hub: FakeOAuthHub = {
    url: '',
    tokens: new Map(Object.entries(tokens)),
    nextUser: { name: 'alice' },
    consent: 'approve',
    apps: new Map(),
    issued: [],
    requests: [],
    tokenRequests: [],
    mode: { kind: 'normal' },
    spaceAppUrl: '',
    close: async () => {},
  };
  const grants = new Map<string, Grant>();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub.invalid');
    hub.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const page = (status: number, text: string) => res.writeHead(status, { 'Content-Type': 'text/plain' }).end(text);

    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: hub.url,
        authorization_endpoint: `${hub.url}/oauth/authorize`,
        token_endpoint: `${hub.url}/oauth/token`,
        userinfo_endpoint: `${hub.url}/oauth/userinfo`,
        code_challenge_methods_supported: ['S256'],
      });
    }

    if (req.method === 'GET' && url.pathname === '/oauth/authorize') {
      const q = url.searchParams;
      const [clientId, redirectUri, state, challenge] = ['client_id', 'redirect_uri', 'state', 'code_challenge'].map((k) => q.get(k) ?? '');
      if (q.get('response_type') !== 'code') return page(400, 'response_type must be code');
      if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge!)) return page(400, 'PKCE with S256 is required');
      if (!state) return page(400, 'state is required');
      const problem = hub.apps.has(clientId!) ? undefined : await checkMetadataDocument(clientId!, redirectUri!);
      if (problem) return page(400, `invalid client: ${problem}`);
      const back = new URL(redirectUri!);
      back.searchParams.set('state', state!);
      if (hub.consent === 'deny') {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = randomBytes(16).toString('hex');
        grants.set(code, { clientId: clientId!, redirectUri: redirectUri!, challenge: challenge!, scope: q.get('scope') ?? '', user: hub.nextUser, used: false });
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { Location: back.href }).end();
      return;
    }

    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const form = new URLSearchParams(await readBody(req));
      hub.tokenRequests.push({ form, authorization: req.headers.authorization });
      const grant = grants.get(form.get('code') ?? '');
      const fail = (description: string) => json(400, { error: 'invalid_grant', error_description: description });
      if (form.get('grant_type') !== 'authorization_code') return json(400, { error: 'unsupported_grant_type' });
      if (!grant || grant.used) return fail('unknown or used code');
      grant.used = true;
      if (form.get('client_id') !== grant.clientId) return fail('client_id does not match the authorization');
      if (form.get('redirect_uri') !== grant.redirectUri) return fail('redirect_uri does not match the authorization');
      const secret = hub.apps.get(grant.clientId);
      if (secret !== undefined) {
        const expected = `Basic ${Buffer.from(`${encodeURIComponent(grant.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
        if (req.headers.authorization !== expected) return json(401, { error: 'invalid_client' });
      }
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return fail('code_verifier does not match the code_challenge');
      const token = `hf_oauth_${randomBytes(20).toString('hex')}`;
      hub.tokens.set(token, grant.user);
      hub.issued.push(token);
      return json(200, { access_token: token, token_type: 'bearer', expires_in: 28800, scope: grant.scope, id_token: 'not.checked.here' });
    }

    if (req.method === 'GET' && (url.pathname === '/api/whoami-v2' || url.pathname === '/oauth/userinfo')) {
      if (hub.mode.kind === 'rate-limited') return json(429, { error: 'Too many requests' }, { 'Retry-After': String(hub.mode.retryAfter) });
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const user = token && hub.mode.kind === 'normal' ? hub.tokens.get(token) : undefined;
      if (!user) return json(401, { error: 'Invalid credentials in Authorization header' });
      if (url.pathname === '/oauth/userinfo') {
        return json(200, { sub: `id-${user.name}`, name: user.name, preferred_username: user.name, picture: `${hub.url}/avatars/${user.name}.png` });
      }
      return json(200, {
        type: 'user',
        id: `id-${user.name}`,
        name: user.name,
        fullname: user.name,
        avatarUrl: `${hub.url}/avatars/${user.name}.png`,
        orgs: [],
        auth: {
          type: 'access_token',
          accessToken: user.permissions
            ? { displayName: 't', role: 'fineGrained', fineGrained: { global: user.permissions, scoped: [] } }
            : { displayName: 't', role: 'read' },
        },
      });
    }

    // The Space page: the app in an iframe, sandboxed the way huggingface.co frames Spaces.
    if (req.method === 'GET' && /^\/spaces\/[^/]+\/[^/]+$/.test(url.pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><title>Space</title><h1>Space page</h1>
<iframe src="${hub.spaceAppUrl}/" title="App" style="width:100%;height:700px;border:0"
 sandbox="allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox allow-same-origin allow-scripts allow-downloads"
 allow="clipboard-write"></iframe>`);
      return;
    }
    page(404, 'not found');
  });
  Object.assign(hub, await listenOnLoopback(server));
  return hub;
}

/** What the Hub checks of a client id that is a URL: the document it serves. */
async function checkMetadataDocument(clientId: string, redirectUri: string): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'unknown client id';
  }
  if (url.protocol !== 'https:' && url.hostname !== '127.0.0.1') return 'a client id URL must be https';
  const response = await fetch(url).catch(() => undefined);
  if (!response?.ok) return `the client metadata document could not be fetched (${response?.status ?? 'network error'})`;
  const document = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (document?.client_id !== clientId) return 'the document does not name itself as client_id';
  if (document.token_endpoint_auth_method !== 'none') return 'token_endpoint_auth_method must be none';
  if (!Array.isArray(document.redirect_uris) || !document.redirect_uris.includes(redirectUri)) return 'redirect_uri is not listed in the document';
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}
