/**
 * A loopback stand-in for the Hub's token exchange for organization members: `POST /oauth/token`
 * with the request and answer shapes the Hub documents (RFC 8693, HTTP Basic client auth, a
 * member's email as the subject), and its errors: invalid_client (an app that is not the bound one),
 * invalid_grant (not a member), invalid_scope (a scope the app may not grant).
 *
 * Every exchange is recorded without its secret, the tokens it issued are kept per email so a test
 * can check which token reached which upstream, and the most exchanges in flight for one email at
 * once is tracked (the server must make one at a time per member).
 */
import { createServer } from 'node:http';
import { listenOnLoopback } from './http.ts';

export const EMAIL_TOKEN_TYPE = 'urn:huggingface:token-type:user-email';

export interface ExchangeCall {
  /** The Basic credential's client id, decoded; undefined when none came. */
  clientId: string | undefined;
  /** Whether the client secret was the right one (the secret itself is not kept). */
  secretOk: boolean;
  grantType: string | null;
  subjectToken: string | null;
  subjectTokenType: string | null;
  scope: string | null;
  /** The answer: `issued`, or the OAuth error code. */
  outcome: string;
}

export interface FakeHubExchange {
  url: string;
  /** Member emails and their Hub user names. */
  members: Map<string, string>;
  /** Scopes the app may be granted. */
  grantable: Set<string>;
  calls: ExchangeCall[];
  /** Tokens issued to each email, oldest first. */
  issued: Map<string, string[]>;
  /** The Hub user each issued token belongs to. */
  owners: Map<string, string>;
  /** Milliseconds each exchange takes (default 0). */
  delayMs: number;
  /** Lifetime of issued tokens in seconds (default 28,800, the Hub's 8 hours). */
  expiresIn: number;
  /** The most exchanges in flight at once for any one email. */
  maxConcurrentPerEmail: number;
  close(): Promise<void>;
}

export async function startFakeHubExchange({ clientId, clientSecret }: { clientId: string; clientSecret: string }): Promise<FakeHubExchange> {
  const inFlight = new Map<string, number>();
  const hub: FakeHubExchange = {
    url: '',
    members: new Map(),
    grantable: new Set(['inference-api', 'openid', 'profile', 'read-repos']),
    calls: [],
    issued: new Map(),
    owners: new Map(),
    delayMs: 0,
    expiresIn: 28_800,
    maxConcurrentPerEmail: 0,
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/oauth/token') {
      res.writeHead(404).end();
      return;
    }
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(raw);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString().split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) : [];
    const call: ExchangeCall = {
      clientId: id,
      secretOk: secret === clientSecret,
      grantType: form.get('grant_type'),
      subjectToken: form.get('subject_token'),
      subjectTokenType: form.get('subject_token_type'),
      scope: form.get('scope'),
      outcome: 'issued',
    };
    hub.calls.push(call);
    const email = call.subjectToken ?? '';
    inFlight.set(email, (inFlight.get(email) ?? 0) + 1);
    hub.maxConcurrentPerEmail = Math.max(hub.maxConcurrentPerEmail, inFlight.get(email)!);
    try {
      if (hub.delayMs) await new Promise((resolve) => setTimeout(resolve, hub.delayMs));
      const fail = (status: number, error: string, description: string) => {
        call.outcome = error;
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error, error_description: description }));
      };
      if (id !== clientId || !call.secretOk) return fail(401, 'invalid_client', 'Client authentication failed');
      if (call.grantType !== 'urn:ietf:params:oauth:grant-type:token-exchange') return fail(400, 'unsupported_grant_type', 'grant_type not supported');
      if (call.subjectTokenType !== EMAIL_TOKEN_TYPE) return fail(400, 'invalid_request', 'subject_token_type must be a user email');
      const scope = call.scope ?? 'inference-api';
      if (scope.split(' ').some((s) => !hub.grantable.has(s))) return fail(400, 'invalid_scope', 'The requested scope is not allowed for this app');
      const name = hub.members.get(email.toLowerCase());
      if (!name) return fail(400, 'invalid_grant', 'User is not a member of the organization');
      const token = `hf_oauth_${name.replace(/[^A-Za-z0-9]/g, '')}${crypto.randomUUID().replace(/-/g, '')}`;
      hub.issued.set(email, [...(hub.issued.get(email) ?? []), token]);
      hub.owners.set(token, name);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: hub.expiresIn, scope, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }));
    } finally {
      inFlight.set(email, inFlight.get(email)! - 1);
    }
  });
  Object.assign(hub, await listenOnLoopback(server));
  return hub;
}
