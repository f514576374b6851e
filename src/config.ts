/**
 * Environment and command-line flags -> one typed, validated Config.
 *
 * Every flag mirrors `fast-agent serve a2a` and has an environment variable; a flag wins over its
 * variable. Nothing else in the project reads process.env, so a test builds a Config from a plain
 * object and two servers with different settings can run in one process.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { AllowList } from './auth/access.ts';
import { isHfPrefixed, isJwtShaped } from './auth/bearer.ts';
import { ASYMMETRIC_ALGORITHMS, isAllowedUrl } from './auth/oidc.ts';
import { isLevel, LEVELS, type Level } from './util/log.ts';

export type InstanceScope = 'connection' | 'request';

/**
 * Who may call, as a union by mode: with `huggingface`, every A2A action needs a Hub-verified bearer
 * token and work runs on that token; with `off`, callers are anonymous and work runs on the server's
 * own HF_TOKEN, if any.
 */
export type AuthConfig =
  | {
      mode: 'huggingface';
      /** Scopes advertised on the card and in the RFC 9728 metadata, and checked where visible. */
      scopes: string[];
    }
  | {
      mode: 'off';
      /** The server's own HF_TOKEN, which every anonymous caller's work uses. */
      serverToken: string | undefined;
    };

/** A2A_API_KEYS: static keys, each with an id that logs name instead of the key. */
export interface ApiKeysConfig {
  keys: Array<{ id: string; key: string }>;
  /** A2A_API_KEYS_CREDENTIAL: what these callers' Hugging Face calls carry: the server's HF_TOKEN, or nothing. */
  credential: 'server' | 'none';
}

/** A2A_OIDC_*: JWT access tokens from a company's OpenID Connect issuer. */
export interface OidcConfig {
  /** Exactly as the issuer writes it in its tokens' `iss` (Auth0's ends with a slash). */
  issuer: string;
  audience: string;
  /** Undefined: the jwks_uri of the issuer's discovery document. */
  jwksUrl: string | undefined;
  /** Accepted JWS algorithms: asymmetric ones only (default: all of them). */
  algorithms: string[];
  /** The claim that lists groups or roles; a dotted path reaches into objects (default `groups`). */
  groupsClaim: string;
  /**
   * A2A_OIDC_CREDENTIAL: what these callers' Hugging Face calls carry: a token exchanged for their
   * verified email with the organization's OAuth app (HF_EXCHANGE_*), the server's HF_TOKEN, or nothing.
   */
  credential: { kind: 'hf-exchange'; clientId: string; clientSecret: string; scope: string } | { kind: 'server' } | { kind: 'none' };
  /** A2A_OIDC_CLIENT_ID/SECRET: this server's client at the issuer, for RFC 8693 exchanges of MCP `auth.exchange` entries. */
  client: { id: string; secret: string } | undefined;
}

/** Company identity: the schemes besides Hugging Face tokens, and the server's allow-list. */
export interface IdentityConfig {
  apiKeys: ApiKeysConfig | undefined;
  oidc: OidcConfig | undefined;
  /**
   * A2A_ALLOW_USERS, A2A_ALLOW_ORGS, A2A_ALLOW_GROUPS: when any is set, only callers on one of them
   * get in; API keys are allowed by being configured (every key id is on the list).
   */
  allow: AllowList | undefined;
}

export interface Config {
  host: string;
  port: number;
  agentCardsDir: string;
  /** Model for agent cards that name none. */
  defaultModel: string | undefined;
  /** `connection`: turns sharing a contextId see each other; `request`: every message stands alone. */
  instanceScope: InstanceScope;
  /** The Hugging Face scheme (FAST_AGENT_SERVE_OAUTH), as a union by mode. */
  auth: AuthConfig;
  /** API keys, OIDC, allow-lists; callers authenticate when this or `auth` configures any scheme. */
  identity: IdentityConfig;
  /** The RFC 9728 `resource`: this server's public base URL, when known. */
  resourceUrl: string | undefined;
  /** The base URL advertised in the agent card, when known; else the listen address is used. */
  publicUrl: string | undefined;
  /** The server's own HF_TOKEN, whatever the mode: known so that it is redacted and never put in a card. */
  serverToken: string | undefined;
  /** Running on a Hugging Face Space (SPACE_HOST is set). */
  onSpace: boolean;
  hubUrl: string;
  inferenceUrl: string;
  /** LOG_LEVEL: lines below it are not written. */
  logLevel: Level;
  /** METRICS_TOKEN: when set, /metrics is served to requests bearing it; else it does not exist. */
  metricsToken: string | undefined;
  /** Requests per second (bursts of five times as many) each verified caller may make; 0: no limit. */
  callerRate: number;
  /** Requests per second (bursts of five times as many) each client address may make; 0: no limit. */
  addressRate: number;
  /** Proxies in front of the server whose X-Forwarded-For entry names the client (1 on a Space). */
  trustedProxies: number;
  /**
   * Sign in with Hugging Face on the page. A Space whose README front matter says `hf_oauth: true`
   * gets an OAuth app of its own (OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_SCOPES,
   * OPENID_PROVIDER_URL); without one, the page signs in as a public client whose id is this
   * server's Client ID Metadata Document URL.
   */
  oauth: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    /** Scopes the page asks for (always including openid and inference-api). */
    scopes: string[];
    /** The OpenID provider (the Hub). */
    providerUrl: string;
  };
  /** The Space's id (`owner/name`), when running on one. */
  spaceId: string | undefined;
}

/** Thrown for --help: the usage text, for app.ts to print before exiting successfully. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const USAGE = `Usage: npm start -- [options]

Serves the agents in a folder of agent cards over A2A (1.0 and 0.3, JSON-RPC and REST).

Options (each also has an environment variable; the flag wins):
  --host H                  listen address (HOST; default 127.0.0.1)
  --port P                  listen port, 0 for any free one (PORT; default 7860)
  --agent-cards DIR         folder of agent cards, *.md (FAST_AGENT_AGENT_CARDS; default agents)
  --model M                 model for cards that name none (FAST_AGENT_MODEL)
  --instance-scope S        connection: turns sharing a contextId see each other; request: every
                            message stands alone (FAST_AGENT_INSTANCE_SCOPE; default connection)
  --help                    print this and exit

Every other setting is an environment variable; the README lists them all.`;

export function loadConfig(argv: readonly string[], env: Env): Config {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'agent-cards': { type: 'string' },
        model: { type: 'string' },
        'instance-scope': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${USAGE}`);
  }
  if (flags.help) throw new HelpRequested(USAGE);

  const instanceScope = flags['instance-scope'] ?? env.FAST_AGENT_INSTANCE_SCOPE ?? 'connection';
  if (instanceScope !== 'connection' && instanceScope !== 'request') {
    throw new ConfigError(`--instance-scope must be "connection" or "request", not "${instanceScope}"`);
  }

  const authMode = nonEmpty(env.FAST_AGENT_SERVE_OAUTH);
  if (authMode !== undefined && authMode.toLowerCase() !== 'huggingface') {
    throw new ConfigError(
      `FAST_AGENT_SERVE_OAUTH must be "huggingface" or unset, not "${authMode}"`,
    );
  }

  const resourceUrl =
    optionalUrl('FAST_AGENT_OAUTH_RESOURCE_URL', env.FAST_AGENT_OAUTH_RESOURCE_URL) ?? spaceUrl(env.SPACE_HOST);

  const scopes = (nonEmpty(env.FAST_AGENT_OAUTH_SCOPES) ?? 'inference-api').split(/[\s,]+/).filter(Boolean);
  const badScope = scopes.find((scope) => !/^[A-Za-z0-9._:/-]+$/.test(scope));
  if (badScope !== undefined) throw new ConfigError(`FAST_AGENT_OAUTH_SCOPES has a scope with characters a scope cannot have: ${JSON.stringify(badScope)}`);

  const serverToken = nonEmpty(env.HF_TOKEN);
  const identity = identityConfig(env, { huggingface: authMode !== undefined, serverToken });
  const logLevel = (nonEmpty(env.LOG_LEVEL) ?? 'info').toLowerCase();
  if (!isLevel(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, not "${env.LOG_LEVEL}"`);
  const onSpace = nonEmpty(env.SPACE_HOST) !== undefined;
  const hubUrl = optionalUrl('HF_ENDPOINT', env.HF_ENDPOINT) ?? 'https://huggingface.co';
  return {
    host: flags.host ?? nonEmpty(env.HOST) ?? '127.0.0.1',
    port: parsePort(flags.port ?? nonEmpty(env.PORT) ?? '7860'),
    agentCardsDir: flags['agent-cards'] ?? nonEmpty(env.FAST_AGENT_AGENT_CARDS) ?? 'agents',
    defaultModel: flags.model ?? nonEmpty(env.FAST_AGENT_MODEL),
    instanceScope,
    auth: authMode ? { mode: 'huggingface', scopes } : { mode: 'off', serverToken },
    identity,
    resourceUrl,
    publicUrl: optionalUrl('FAST_AGENT_PUBLIC_URL', env.FAST_AGENT_PUBLIC_URL) ?? resourceUrl,
    serverToken,
    onSpace,
    hubUrl,
    inferenceUrl: optionalUrl('HF_INFERENCE_ENDPOINT', env.HF_INFERENCE_ENDPOINT) ?? 'https://router.huggingface.co',
    logLevel,
    metricsToken: optionalSecret('METRICS_TOKEN', env.METRICS_TOKEN),
    callerRate: count('RATE_LIMIT_PER_CALLER', env.RATE_LIMIT_PER_CALLER, 20),
    addressRate: count('RATE_LIMIT_PER_ADDRESS', env.RATE_LIMIT_PER_ADDRESS, 50),
    // The Spaces proxy appends the client's address to X-Forwarded-For; elsewhere nothing is trusted unless configured.
    trustedProxies: count('FAST_AGENT_TRUSTED_PROXIES', env.FAST_AGENT_TRUSTED_PROXIES, onSpace ? 1 : 0),
    oauth: {
      clientId: nonEmpty(env.OAUTH_CLIENT_ID),
      clientSecret: nonEmpty(env.OAUTH_CLIENT_SECRET),
      scopes: [...new Set(['openid', 'profile', 'inference-api', ...(nonEmpty(env.OAUTH_SCOPES)?.split(/[\s,]+/).filter(Boolean) ?? [])])],
      providerUrl: optionalUrl('OPENID_PROVIDER_URL', env.OPENID_PROVIDER_URL) ?? hubUrl,
    },
    spaceId: nonEmpty(env.SPACE_ID),
  };
}

/** Whether callers must authenticate: some scheme is configured. */
export function callersAuthenticate(config: Pick<Config, 'auth' | 'identity'>): boolean {
  return config.auth.mode === 'huggingface' || config.identity.apiKeys !== undefined || config.identity.oidc !== undefined;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY = /^[A-Za-z0-9\-._~+/]+=*$/;
const MIN_KEY_LENGTH = 16;

function identityConfig(env: Env, { huggingface, serverToken }: { huggingface: boolean; serverToken: string | undefined }): IdentityConfig {
  const apiKeys = apiKeysConfig(env, serverToken);
  const oidc = oidcConfig(env, serverToken);
  const users = list(env.A2A_ALLOW_USERS);
  const orgs = list(env.A2A_ALLOW_ORGS);
  const groups = list(env.A2A_ALLOW_GROUPS);
  if ((users.length || orgs.length) && !huggingface) {
    throw new ConfigError(`${users.length ? 'A2A_ALLOW_USERS' : 'A2A_ALLOW_ORGS'} lists Hugging Face accounts, but Hugging Face tokens are not taken; set FAST_AGENT_SERVE_OAUTH=huggingface or remove it`);
  }
  if (groups.length && !oidc) throw new ConfigError('A2A_ALLOW_GROUPS lists OIDC groups, but no OIDC issuer is configured; set A2A_OIDC_ISSUER or remove it');
  const allow = users.length || orgs.length || groups.length ? { users, orgs, groups, keys: apiKeys?.keys.map((key) => key.id) ?? [] } : undefined;
  return { apiKeys, oidc, allow };
}

function apiKeysConfig(env: Env, serverToken: string | undefined): ApiKeysConfig | undefined {
  const raw = nonEmpty(env.A2A_API_KEYS);
  const credential = nonEmpty(env.A2A_API_KEYS_CREDENTIAL);
  if (raw === undefined) {
    if (credential !== undefined) throw new ConfigError('A2A_API_KEYS_CREDENTIAL is set, but A2A_API_KEYS is not; set the keys, or remove it');
    return undefined;
  }
  const keys: ApiKeysConfig['keys'] = [];
  for (const entry of raw.split(/[\s,]+/).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const key = colon >= 0 ? entry.slice(colon + 1) : entry;
    // Unnamed keys are named by a short fingerprint: enough to tell them apart in a log, useless to a guesser of a 16+ character key.
    const id = colon >= 0 ? entry.slice(0, colon) : `key-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
    const which = `entry ${keys.length + 1}${colon >= 0 ? ` ("${KEY_ID.test(id) ? id : '?'}")` : ''}`;
    if (!KEY_ID.test(id)) throw new ConfigError(`A2A_API_KEYS ${which}: a key id must be 1-64 letters, digits, ".", "_" or "-"`);
    if (key.length < MIN_KEY_LENGTH) throw new ConfigError(`A2A_API_KEYS ${which}: a key must be at least ${MIN_KEY_LENGTH} characters long`);
    if (!KEY.test(key)) throw new ConfigError(`A2A_API_KEYS ${which}: a key may hold only letters, digits and - . _ ~ + / (and = at its end), so it can travel in a header`);
    if (isHfPrefixed(key) || isJwtShaped(key)) throw new ConfigError(`A2A_API_KEYS ${which}: a key must not look like a Hugging Face token (hf_...) or a JWT, or it could be taken for one`);
    if (keys.some((other) => other.id === id)) throw new ConfigError(`A2A_API_KEYS ${which}: the id "${id}" is used twice`);
    if (keys.some((other) => other.key === key)) throw new ConfigError(`A2A_API_KEYS ${which}: the same key is listed twice`);
    keys.push({ id, key });
  }
  if (keys.length === 0) throw new ConfigError('A2A_API_KEYS is set but holds no key; list keys separated by commas (optionally as id:key), or unset it');
  if (credential === undefined) {
    throw new ConfigError(
      'A2A_API_KEYS_CREDENTIAL must say what the Hugging Face calls of API-key callers use: "server" (the Space\'s HF_TOKEN pays for them) or "none" (agents that call Hugging Face fail for them)',
    );
  }
  if (credential !== 'server' && credential !== 'none') throw new ConfigError(`A2A_API_KEYS_CREDENTIAL must be "server" or "none", not "${credential}"`);
  if (credential === 'server' && !serverToken) throw new ConfigError('A2A_API_KEYS_CREDENTIAL=server needs HF_TOKEN, the token those calls are to use');
  return { keys, credential };
}

function oidcConfig(env: Env, serverToken: string | undefined): OidcConfig | undefined {
  const issuer = nonEmpty(env.A2A_OIDC_ISSUER);
  const audience = nonEmpty(env.A2A_OIDC_AUDIENCE);
  const exchangeId = nonEmpty(env.HF_EXCHANGE_CLIENT_ID);
  const exchangeSecret = nonEmpty(env.HF_EXCHANGE_CLIENT_SECRET);
  const exchangeScope = nonEmpty(env.HF_EXCHANGE_SCOPE);
  if (issuer === undefined) {
    const stray = ['A2A_OIDC_AUDIENCE', 'A2A_OIDC_JWKS_URL', 'A2A_OIDC_CREDENTIAL', 'A2A_OIDC_ALGORITHMS', 'A2A_OIDC_GROUPS_CLAIM', 'A2A_OIDC_CLIENT_ID', 'A2A_OIDC_CLIENT_SECRET'].find((name) => nonEmpty(env[name]) !== undefined);
    if (stray) throw new ConfigError(`${stray} is set, but A2A_OIDC_ISSUER is not; set the issuer too, or remove it`);
    if (exchangeId || exchangeSecret || exchangeScope) throw new ConfigError('HF_EXCHANGE_* is set, but Hugging Face token exchange needs OIDC callers: set A2A_OIDC_ISSUER and A2A_OIDC_CREDENTIAL=hf-exchange, or remove it');
    return undefined;
  }
  if (!isAllowedUrl(issuer)) throw new ConfigError(`A2A_OIDC_ISSUER must be an https URL (plain http only to this machine), not "${issuer}"`);
  if (audience === undefined) throw new ConfigError('A2A_OIDC_AUDIENCE must be set with A2A_OIDC_ISSUER: the audience (aud) this server\'s access tokens are issued for');
  const jwksUrl = nonEmpty(env.A2A_OIDC_JWKS_URL);
  if (jwksUrl !== undefined && !isAllowedUrl(jwksUrl)) throw new ConfigError(`A2A_OIDC_JWKS_URL must be an https URL (plain http only to this machine), not "${jwksUrl}"`);

  const algorithms = list(env.A2A_OIDC_ALGORITHMS);
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigError(`A2A_OIDC_ALGORITHMS: "${alg}" cannot be accepted; only asymmetric algorithms can (${ASYMMETRIC_ALGORITHMS.join(', ')}), never none or HS*`);
    }
  }
  const groupsClaim = nonEmpty(env.A2A_OIDC_GROUPS_CLAIM) ?? 'groups';
  if (!/^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$/.test(groupsClaim)) throw new ConfigError(`A2A_OIDC_GROUPS_CLAIM must be a claim name or a dotted path, not "${groupsClaim}"`);

  const kind = nonEmpty(env.A2A_OIDC_CREDENTIAL);
  if (kind === undefined) {
    throw new ConfigError(
      'A2A_OIDC_CREDENTIAL must say what the Hugging Face calls of OIDC callers use: "hf-exchange" (a token of their own, exchanged for their verified email; needs HF_EXCHANGE_CLIENT_ID and HF_EXCHANGE_CLIENT_SECRET), "server" (the Space\'s HF_TOKEN pays) or "none"',
    );
  }
  let credential: OidcConfig['credential'];
  if (kind === 'hf-exchange') {
    if (!exchangeId) throw new ConfigError('A2A_OIDC_CREDENTIAL=hf-exchange needs HF_EXCHANGE_CLIENT_ID: the client id of an OAuth app bound to your organization with the token-exchange privilege');
    if (!exchangeSecret) throw new ConfigError('A2A_OIDC_CREDENTIAL=hf-exchange needs HF_EXCHANGE_CLIENT_SECRET, the secret of that OAuth app');
    const scope = exchangeScope ?? 'inference-api';
    if (!/^[A-Za-z0-9._:/-]+( [A-Za-z0-9._:/-]+)*$/.test(scope)) throw new ConfigError(`HF_EXCHANGE_SCOPE must be space-separated scopes, not "${scope}"`);
    credential = { kind, clientId: exchangeId, clientSecret: exchangeSecret, scope };
  } else if (kind === 'server' || kind === 'none') {
    if (exchangeId || exchangeSecret || exchangeScope) throw new ConfigError(`HF_EXCHANGE_* is set, but A2A_OIDC_CREDENTIAL is "${kind}"; set A2A_OIDC_CREDENTIAL=hf-exchange to use it, or remove it`);
    if (kind === 'server' && !serverToken) throw new ConfigError('A2A_OIDC_CREDENTIAL=server needs HF_TOKEN, the token those calls are to use');
    credential = { kind };
  } else {
    throw new ConfigError(`A2A_OIDC_CREDENTIAL must be "hf-exchange", "server" or "none", not "${kind}"`);
  }

  const clientId = nonEmpty(env.A2A_OIDC_CLIENT_ID);
  const clientSecret = nonEmpty(env.A2A_OIDC_CLIENT_SECRET);
  if (clientId && !clientSecret) throw new ConfigError('A2A_OIDC_CLIENT_ID is set without A2A_OIDC_CLIENT_SECRET; token exchange needs both');
  if (clientSecret && !clientId) throw new ConfigError('A2A_OIDC_CLIENT_SECRET is set without A2A_OIDC_CLIENT_ID; token exchange needs both');
  return {
    issuer,
    audience,
    jwksUrl,
    algorithms: algorithms.length ? algorithms : [...ASYMMETRIC_ALGORITHMS],
    groupsClaim,
    credential,
    client: clientId && clientSecret ? { id: clientId, secret: clientSecret } : undefined,
  };
}

/** A comma- or space-separated list; empty when unset. */
function list(value: string | undefined): string[] {
  return (nonEmpty(value) ?? '').split(/[\s,]+/).filter(Boolean);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** A non-negative whole number from the environment, or `fallback` when unset. */
function count(name: string, value: string | undefined, fallback: number): number {
  const raw = nonEmpty(value);
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new ConfigError(`${name} must be a whole number (0 or more), not "${raw}"`);
  return Number(raw);
}

/** A secret long enough to resist guessing, or undefined when unset. */
function optionalSecret(name: string, value: string | undefined): string | undefined {
  const raw = nonEmpty(value);
  if (raw !== undefined && raw.length < 16) throw new ConfigError(`${name} must be at least 16 characters long`);
  return raw;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`port must be an integer from 0 to 65535, not "${value}"`);
  }
  return port;
}

/** An http(s) base URL without a trailing slash, or undefined when the variable is unset. */
function optionalUrl(name: string, value: string | undefined): string | undefined {
  const raw = nonEmpty(value);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, not "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL, not "${raw}"`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`${name} must be a plain base URL without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

/** A Space is reached over https at the first host the platform lists in SPACE_HOST. */
function spaceUrl(spaceHost: string | undefined): string | undefined {
  const first = nonEmpty(spaceHost)?.split(',')[0]?.trim();
  return first ? optionalUrl('SPACE_HOST', `https://${first}`) : undefined;
}
