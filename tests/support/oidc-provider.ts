/**
 * A real OpenID provider on loopback for the identity tests: the oidc-provider package (by the
 * author of jose), with JWT access tokens for this server's audience, the client-credentials and
 * device-code grants, and RFC 8693 token exchange registered as a grant of its own.
 *
 * User tokens are issued through the provider's own AccessToken model (what every grant ends in),
 * so a test need not drive a browser login; client-credentials and exchanged tokens come from real
 * requests to its token endpoint. Tokens a real provider would never issue (expired, alg none, HS256
 * signed with the public key, ...) are forged with jose and the provider's own private key.
 *
 * `rotateKeys()` starts signing with a new key at the same issuer URL, as an issuer does on a key
 * rotation; the JWKS then lists the new key first and the old one after it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, jwtVerify, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { listenOnLoopback } from './http.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface TestUser {
  sub: string;
  email?: string;
  emailVerified?: boolean;
  groups?: string[];
  /** The token exchange refuses this user (invalid_grant). */
  exchangeRefused?: boolean;
  /** Further claims of their access tokens (e.g. nested roles). */
  claims?: Record<string, unknown>;
}

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  privateKey: CryptoKey;
  /** The public key as PEM text: what a key-confusion forger feeds to HS256. */
  publicPem: string;
}

export interface ForgeOptions {
  /** Default: RS256 with the issuer's current key. `none` makes an unsigned token; `HS256-public` signs HS256 with the public key's PEM. */
  alg?: 'RS256' | 'none' | 'HS256-public';
  /** Sign with this key instead (a key the issuer never published). */
  key?: SigningKey;
  /** Leave out exp. */
  noExp?: boolean;
}

export interface TestIssuerOptions {
  /** The audience (resource indicator) of this server's access tokens. */
  audience: string;
  /** Scopes the issuer knows (its discovery document lists them). */
  scopes: string[];
  /** Downstream audiences the token exchange issues tokens for, with the scopes each allows. */
  downstreams?: Record<string, string[]>;
  /** The confidential client the A2A server uses for token exchange. */
  client?: { id: string; secret: string };
}

export interface ExchangeRecord {
  subjectSub: string | undefined;
  audience: string | undefined;
  scope: string | undefined;
  outcome: 'issued' | string;
}

export interface TestIssuer {
  /** The issuer identifier (its base URL). */
  url: string;
  users: Map<string, TestUser>;
  keys: SigningKey[];
  /** Requests for the JWKS, counted (the server must not fetch it on every token). */
  jwksRequests: number;
  exchanges: ExchangeRecord[];
  /** The service client's credentials (client credentials and token exchange). */
  client: { id: string; secret: string };
  /** An access token for `sub`, issued by the provider, for this server's audience (or another). */
  userToken(sub: string, options?: { scope?: string; audience?: string; ttlSeconds?: number }): Promise<string>;
  /**
   * A token the provider would never issue, signed (or not) as asked, with its current key unless
   * told otherwise: iss, aud, iat and exp default to a good token's (a lifetime of an hour).
   */
  forge(claims: JWTPayload, options?: ForgeOptions): Promise<string>;
  /** A client-credentials token from the real token endpoint. */
  clientCredentialsToken(scope?: string): Promise<string>;
  /** Starts signing with a new key; the JWKS lists it first, then the old ones. */
  rotateKeys(): Promise<SigningKey>;
  close(): Promise<void>;
}

const ALG = 'RS256';

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = crypto.randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  return { kid, privateJwk, publicJwk, privateKey, publicPem: await exportSPKI(publicKey) };
}

export async function startTestIssuer(options: TestIssuerOptions): Promise<TestIssuer> {
  const client = options.client ?? { id: 'a2a-server', secret: `secret-${crypto.randomUUID()}` };
  const downstreams = options.downstreams ?? {};
  let provider: Provider | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const http = createServer((req, res) => {
    if (req.url === '/jwks') issuer.jwksRequests++;
    handler!(req, res);
  });
  const { url, close } = await listenOnLoopback(http);

  const issuer: TestIssuer = {
    url,
    users: new Map(),
    keys: [await newSigningKey()],
    jwksRequests: 0,
    exchanges: [],
    client,
    async userToken(sub, { scope = options.scopes.join(' '), audience = options.audience, ttlSeconds = 3600 } = {}) {
      const p = provider!;
      const token = new p.AccessToken({
        accountId: sub,
        client: await p.Client.find(client.id),
        scope,
        gty: 'authorization_code',
        expiresIn: ttlSeconds,
        resourceServer: new p.ResourceServer(audience, resourceServerInfo(audience, scope)),
      });
      return token.save();
    },
    async forge(claims, { alg = 'RS256', key = issuer.keys[0]!, noExp = false } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: url, aud: options.audience, iat: now, ...(noExp ? {} : { exp: now + 3600 }), ...claims };
      if (noExp) delete payload.exp;
      if (alg === 'none') return new UnsecuredJWT(payload).encode();
      if (alg === 'HS256-public') return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(key.publicPem));
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
    },
    async clientCredentialsToken(scope = options.scopes.join(' ')) {
      const response = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { Authorization: basic(client.id, client.secret), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: options.audience }),
      });
      const body = (await response.json()) as { access_token?: string };
      if (!response.ok || !body.access_token) throw new Error(`client credentials failed: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async rotateKeys() {
      const key = await newSigningKey();
      issuer.keys = [key, ...issuer.keys];
      build();
      return key;
    },
    close,
  };

  function resourceServerInfo(audience: string, scope: string) {
    return { scope, audience, accessTokenFormat: 'jwt' as const, accessTokenTTL: 3600, jwt: { sign: { alg: ALG } } };
  }

  function build(): void {
    const p = new Provider(url, {
      clients: [
        {
          client_id: client.id,
          client_secret: client.secret,
          grant_types: ['authorization_code', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', TOKEN_EXCHANGE],
          redirect_uris: ['http://127.0.0.1/callback'],
          response_types: ['code'],
          scope: ['openid', 'email', 'profile', ...options.scopes, ...Object.values(downstreams).flat()].join(' '),
        },
      ],
      jwks: { keys: issuer.keys.map((key) => key.privateJwk) },
      scopes: ['openid', 'email', 'profile', ...new Set([...options.scopes, ...Object.values(downstreams).flat()])],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        deviceFlow: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => options.audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            if (resource !== options.audience && !(resource in downstreams)) throw new errors.InvalidTarget();
            return resourceServerInfo(resource, resource === options.audience ? options.scopes.join(' ') : downstreams[resource]!.join(' '));
          },
        },
      },
      routes: { jwks: '/jwks' },
      pkce: { required: () => true },
      ttl: { ClientCredentials: 3600, AccessToken: 3600 },
      findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
      // Access tokens carry what this server reads: a verified email (for the Hugging Face exchange) and groups.
      extraTokenClaims: async (_ctx: unknown, token: { accountId?: string }) => {
        const user = token.accountId ? issuer.users.get(token.accountId) : undefined;
        if (!user) return undefined;
        return {
          ...(user.email !== undefined && { email: user.email, email_verified: user.emailVerified ?? true }),
          ...(user.groups && { groups: user.groups }),
          ...user.claims,
        };
      },
    });
    p.registerGrantType(
      TOKEN_EXCHANGE,
      async (ctx) => {
        const { subject_token: subjectToken, subject_token_type: subjectType, audience, scope } = ctx.oidc.params;
        const record: ExchangeRecord = { subjectSub: undefined, audience, scope, outcome: 'issued' };
        issuer.exchanges.push(record);
        try {
          if (subjectType !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('subject_token_type must be an access token');
          let claims;
          try {
            ({ payload: claims } = await jwtVerify(subjectToken ?? '', createLocalJWKSet({ keys: issuer.keys.map((key) => key.publicJwk) }), { issuer: url, audience: options.audience }));
          } catch {
            throw new errors.InvalidGrant('subject_token is not a valid access token of this issuer');
          }
          record.subjectSub = claims.sub;
          const user = claims.sub ? issuer.users.get(claims.sub) : undefined;
          if (user?.exchangeRefused) throw new errors.InvalidGrant('this subject may not be exchanged');
          if (!audience || !(audience in downstreams)) throw new errors.InvalidTarget('unknown audience');
          const allowed = downstreams[audience]!;
          const requested = (scope ?? '').split(' ').filter(Boolean);
          if (requested.some((s) => !allowed.includes(s))) throw new errors.InvalidScope('scope not allowed for this audience', scope);
          const token = new p.AccessToken({
            accountId: claims.sub,
            client: ctx.oidc.client,
            scope: requested.join(' ') || allowed.join(' '),
            gty: 'token-exchange',
            expiresIn: 300,
            resourceServer: new p.ResourceServer(audience, resourceServerInfo(audience, allowed.join(' '))),
          });
          const value = await token.save();
          ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: 300, scope: token.scope };
        } catch (error) {
          record.outcome = (error as { error?: string }).error ?? 'error';
          throw error;
        }
      },
      ['subject_token', 'subject_token_type', 'audience', 'scope', 'requested_token_type', 'actor_token', 'actor_token_type'],
      ['audience', 'resource'],
    );
    provider = p;
    handler = p.callback();
  }

  build();
  return issuer;
}

export function basic(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}
