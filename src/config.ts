/**
 * Environment and command-line flags -> one typed, validated Config.
 *
 * Every flag mirrors `fast-agent serve a2a` and has an environment variable; a flag wins over its
 * variable. Nothing else in the project reads process.env, so a test builds a Config from a plain
 * object and two servers with different settings can run in one process.
 */
import { parseArgs } from 'node:util';
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

export interface Config {
  host: string;
  port: number;
  agentCardsDir: string;
  /** Model for agent cards that name none. */
  defaultModel: string | undefined;
  /** `connection`: turns sharing a contextId see each other; `request`: every message stands alone. */
  instanceScope: InstanceScope;
  auth: AuthConfig;
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
