/**
 * Environment and command-line flags -> one typed, validated Config.
 *
 * Every flag mirrors `fast-agent serve a2a` and has an environment variable; a flag wins over its
 * variable. Nothing else in the project reads process.env, so a test builds a Config from a plain
 * object and two servers with different settings can run in one process.
 */
import { parseArgs } from 'node:util';

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
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const USAGE = `Usage: npm start -- [--host H] [--port P] [--agent-cards DIR] [--model M] [--instance-scope connection|request]`;

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
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${USAGE}`);
  }

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
    onSpace: nonEmpty(env.SPACE_HOST) !== undefined,
    hubUrl: optionalUrl('HF_ENDPOINT', env.HF_ENDPOINT) ?? 'https://huggingface.co',
    inferenceUrl: optionalUrl('HF_INFERENCE_ENDPOINT', env.HF_INFERENCE_ENDPOINT) ?? 'https://router.huggingface.co',
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
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
