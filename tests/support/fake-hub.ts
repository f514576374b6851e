/**
 * A small stand-in for the Hugging Face Hub on loopback: `GET /api/whoami-v2` answers for the
 * tokens a test registers, counts every check it receives, and can be made slow, down or
 * rate-limited.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback } from './http.ts';

export interface HubUser {
  name: string;
  id?: string;
  /** whoami's `type`; `user` unless set. */
  type?: string;
  orgs?: string[];
  /** Makes the token fine-grained with these global permissions. */
  permissions?: string[];
  /** ISO time the token expires, reported as auth.expiresAt. */
  expiresAt?: string;
}

export type HubMode =
  | { kind: 'normal'; delayMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  | { kind: 'garbage' };

export interface FakeHub {
  url: string;
  users: Map<string, HubUser>;
  /** Every whoami request: the Authorization header it carried. */
  checks: Array<{ authorization: string | undefined; headers: IncomingHttpHeaders }>;
  mode: HubMode;
  close(): Promise<void>;
}

export async function startFakeHub(users: Record<string, HubUser> = {}): Promise<FakeHub> {
  const hub: FakeHub = { url: '', users: new Map(Object.entries(users)), checks: [], mode: { kind: 'normal' }, close: async () => {} };
  const server = createServer(async (req, res) => {
    if (req.url !== '/api/whoami-v2') {
      res.writeHead(404).end();
      return;
    }
    hub.checks.push({ authorization: req.headers.authorization, headers: req.headers });
    const mode = hub.mode;
    if (mode.kind === 'hang') return;
    if (mode.kind === 'status') {
      res.writeHead(mode.status, { 'Content-Type': 'application/json', ...(mode.retryAfter && { 'Retry-After': mode.retryAfter }) });
      res.end(JSON.stringify({ error: 'not now' }));
      return;
    }
    if (mode.kind === 'garbage') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"this is": "not whoami"');
      return;
    }
    if (mode.delayMs) await new Promise((resolve) => setTimeout(resolve, mode.delayMs));
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const user = token ? hub.users.get(token) : undefined;
    if (!user) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'Invalid credentials in Authorization header' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        type: user.type ?? 'user',
        id: user.id ?? `id-${user.name}`,
        name: user.name,
        fullname: user.name,
        orgs: (user.orgs ?? []).map((name) => ({ type: 'org', name })),
        auth: {
          type: 'access_token',
          accessToken: user.permissions
            ? { displayName: 't', role: 'fineGrained', fineGrained: { global: user.permissions, scoped: [] } }
            : { displayName: 't', role: 'read' },
          ...(user.expiresAt && { expiresAt: user.expiresAt }),
        },
      }),
    );
  });
  Object.assign(hub, await listenOnLoopback(server));
  return hub;
}

/** Tokens shaped like real ones, unique per call, so a leak of any of them is easy to search for. */
export function fakeToken(label: string): string {
  return `hf_${label.replace(/[^A-Za-z0-9]/g, '')}${crypto.randomUUID().replace(/-/g, '')}`;
}
