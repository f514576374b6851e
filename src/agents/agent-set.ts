/**
 * The set of agents this server serves, read from agent card files: `agents/*.md`, YAML front matter
 * plus a Markdown body that is the instruction. The fields are a subset of fast-agent's card format,
 * so a card written for one works in the other.
 *
 * Everything is checked at start-up: a bad file stops the server with an error that names the file
 * and the field, rather than failing later on a caller's request.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { AccessRule, AllowList } from '../auth/access.ts';
import { tokenHeaderFor } from '../auth/host-policy.ts';

export type ModelSpec = { kind: 'passthrough' } | { kind: 'hf'; id: string };

export interface McpServerSpec {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Send the caller's HF token under the host policy. */
  forwardHfToken: boolean;
  /** Send a token traded for the caller's own at the OIDC issuer (RFC 8693), bound to this audience and scope. */
  exchange?: { audience: string; scope: string | undefined };
}

export interface AgentSpec {
  name: string;
  description: string;
  model: ModelSpec;
  /** The model as written, for display. */
  modelName: string;
  /** Marked `default: true` in its file (the set's default is AgentSet.default). */
  markedDefault: boolean;
  useHistory: boolean;
  tags: string[];
  examples: string[];
  instruction: string;
  mcpServers: McpServerSpec[];
  temperature: number | undefined;
  maxTokens: number | undefined;
  maxIterations: number;
  /** Who may use the agent: scopes a token must carry, and an allow-list (`scopes:` and `allow:`). */
  access: AccessRule;
  /** The turn needs a Hugging Face credential: an `hf.` model, or an MCP server that gets the caller's HF token. */
  callsHuggingFace: boolean;
  file: string;
}

export interface LoadOptions {
  /** Model for cards that name none. */
  defaultModel: string | undefined;
  env: Record<string, string | undefined>;
  hubUrl: string;
  /** Callers bring their own tokens (a scheme is configured): the server's own may not be put in a card. */
  callersAuthenticate?: boolean;
  /**
   * The inbound schemes configured, which `scopes:`, `allow:` and `auth.exchange` are checked
   * against, so that a card asking for what no caller can bring does not start (default: none).
   */
  schemes?: {
    /** Hugging Face tokens, whose callers hold the scopes the server advertises. */
    huggingface?: { scopes: readonly string[] };
    apiKeys?: boolean;
    /** OIDC access tokens; `exchange`: a client for RFC 8693 exchanges is configured. */
    oidc?: { exchange: boolean };
  };
}

/** The variables that hold the server's own Hugging Face token. */
const SERVER_TOKEN_VARIABLES = new Set(['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']);

export class AgentCardError extends Error {
  override name = 'AgentCardError';
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(field ? `${file}: field "${field}": ${detail}` : `${file}: ${detail}`);
  }
}

const FIELDS = new Set([
  'type', 'name', 'description', 'model', 'default', 'use_history', 'tags', 'examples',
  'mcp_connect', 'request_params', 'instruction', 'scopes', 'allow',
]);
const ALLOW_FIELDS = new Set(['users', 'orgs', 'groups', 'keys']);
/** RFC 6749 §3.3 scope-token: printable ASCII without space, quote or backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const REQUEST_PARAMS = new Set(['temperature', 'max_tokens', 'max_iterations']);
const MCP_FIELDS = new Set(['name', 'target', 'headers', 'auth']);
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DEFAULT_MAX_ITERATIONS = 8;

/** The agents, with the one that answers messages naming none worked out once. */
export class AgentSet {
  readonly all: readonly AgentSpec[];
  /** The agent marked default, else the first file's. */
  readonly default: AgentSpec;
  readonly #byName: ReadonlyMap<string, AgentSpec>;

  constructor(agents: readonly AgentSpec[]) {
    if (agents.length === 0) throw new RangeError('an agent set needs at least one agent');
    this.all = agents;
    this.default = agents.find((agent) => agent.markedDefault) ?? agents[0]!;
    this.#byName = new Map(agents.map((agent) => [agent.name, agent]));
  }

  /** The agent a message names, or the default one when it names none; undefined for an unknown name. */
  select(name: string | undefined): AgentSpec | undefined {
    return name === undefined ? this.default : this.#byName.get(name);
  }

  /** Every agent's name, for messages that list them. */
  get names(): string {
    return this.all.map((agent) => agent.name).join(', ');
  }
}

/** Reads every `*.md` in `dir`, in name order, and checks the set as a whole. */
export async function loadAgentSet(dir: string, options: LoadOptions): Promise<AgentSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.md')).sort();
  } catch (error) {
    throw new AgentCardError(dir, undefined, `cannot read the agent cards folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (names.length === 0) throw new AgentCardError(dir, undefined, 'no agent cards (*.md) found');

  const agents: AgentSpec[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    agents.push(parseAgentCard(file, await readFile(file, 'utf8'), options));
  }

  const seen = new Map<string, string>();
  for (const agent of agents) {
    const other = seen.get(agent.name);
    if (other) throw new AgentCardError(agent.file, 'name', `"${agent.name}" is also the name of ${other}`);
    seen.set(agent.name, agent.file);
  }
  const defaults = agents.filter((agent) => agent.markedDefault);
  if (defaults.length > 1) {
    throw new AgentCardError(defaults[1]!.file, 'default', `only one agent may be the default; ${defaults[0]!.file} already is`);
  }
  return new AgentSet(agents);
}

export function parseAgentCard(file: string, text: string, options: LoadOptions): AgentSpec {
  const { frontMatter, body } = splitFrontMatter(file, text);
  const fail = (field: string | undefined, detail: string): never => {
    throw new AgentCardError(file, field, detail);
  };
  // Placeholders are resolved only where a card needs deployment settings; text that is shown to
  // callers (name, description, instruction) is taken literally so a secret can never leak into it.
  const fields: Fields = { ...frontMatter };
  for (const key of ['model', 'mcp_connect']) {
    if (key in fields) fields[key] = resolvePlaceholders(file, fields[key], options, key);
  }

  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) fail(key, `unknown field; the fields read here are: ${[...FIELDS].join(', ')}`);
  }
  if (fields.type !== undefined && fields.type !== 'agent') fail('type', `only "agent" cards can be served, not ${JSON.stringify(fields.type)}`);

  const stem = path.basename(file, '.md');
  const name = optionalString(fields.name, 'name', fail) ?? stem;
  if (!NAME_PATTERN.test(name)) fail('name', `"${name}" must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`);

  const frontInstruction = optionalString(fields.instruction, 'instruction', fail);
  if (frontInstruction && body.trim()) fail('instruction', 'give the instruction either in the front matter or in the body, not both');
  const instruction = (frontInstruction ?? body).trim();

  const modelName = optionalString(fields.model, 'model', fail) ?? options.defaultModel;
  if (!modelName) fail('model', 'no model given, and neither --model nor FAST_AGENT_MODEL is set');
  const model = parseModelSpec(modelName!);
  if (!model) fail('model', `"${modelName}" is not a model this server can run; use "passthrough" or "hf.<org>/<model>[:<provider>]"`);

  const params = optionalObject(fields.request_params, 'request_params', fail) ?? {};
  for (const key of Object.keys(params)) {
    if (!REQUEST_PARAMS.has(key)) fail(`request_params.${key}`, `unknown field; the fields read here are: ${[...REQUEST_PARAMS].join(', ')}`);
  }
  const temperature = optionalNumber(params.temperature, 'request_params.temperature', fail, 0, 2, false);
  const maxTokens = optionalNumber(params.max_tokens, 'request_params.max_tokens', fail, 1, 1_000_000, true);
  const maxIterations = optionalNumber(params.max_iterations, 'request_params.max_iterations', fail, 1, 100, true);
  const mcpServers = parseMcpConnect(fields.mcp_connect, fail, options);
  const access = parseAccess(fields, fail, options);

  return {
    name,
    description: optionalString(fields.description, 'description', fail) ?? firstSentence(instruction) ?? `The ${name} agent.`,
    model: model!,
    modelName: modelName!,
    markedDefault: optionalBoolean(fields.default, 'default', fail) ?? false,
    useHistory: optionalBoolean(fields.use_history, 'use_history', fail) ?? true,
    tags: optionalStrings(fields.tags, 'tags', fail) ?? [],
    examples: optionalStrings(fields.examples, 'examples', fail) ?? [],
    instruction,
    mcpServers,
    temperature,
    maxTokens,
    maxIterations: maxIterations ?? DEFAULT_MAX_ITERATIONS,
    access,
    callsHuggingFace: model!.kind === 'hf' || mcpServers.some((server) => server.forwardHfToken),
    file,
  };
}

/** `passthrough`, or `hf.<org>/<model>[:<provider|fastest|cheapest>]` for the HF inference router. */
function parseModelSpec(name: string): ModelSpec | undefined {
  if (name === 'passthrough') return { kind: 'passthrough' };
  const match = /^hf\.([A-Za-z0-9][\w.-]*\/[\w.-]+)(:[\w.-]+)?$/.exec(name);
  return match ? { kind: 'hf', id: `${match[1]}${match[2] ?? ''}` } : undefined;
}

type Fail = (field: string | undefined, detail: string) => never;
type Fields = Record<string, unknown>;

function splitFrontMatter(file: string, text: string): { frontMatter: Fields; body: string } {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (!/^---[ \t]*\n/.test(normalized)) return { frontMatter: {}, body: normalized };
  const match = /^---[ \t]*\n(?:([\s\S]*?)\n)?---[ \t]*(?:\n|$)/.exec(normalized);
  if (!match) throw new AgentCardError(file, undefined, 'the front matter opened with "---" is never closed by a "---" line');
  const yamlText = match[1] ?? '';
  const body = normalized.slice(match[0].length);
  const doc = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const line = error.linePos?.[0].line;
    throw new AgentCardError(file, undefined, `front matter is not valid YAML${line ? ` (line ${line + 1})` : ''}: ${error.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    // Aliases are expanded with a limit: a few lines of anchors can otherwise stand for billions of values.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new AgentCardError(file, undefined, `front matter cannot be read: ${(error as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return { frontMatter: {}, body };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AgentCardError(file, undefined, 'front matter must be a YAML mapping of field: value');
  }
  return { frontMatter: value as Fields, body };
}

/** Replaces `${NAME}` and `${NAME:-fallback}` in every string of `value`. */
function resolvePlaceholders(file: string, value: unknown, options: LoadOptions, field: string): any {
  const { env, callersAuthenticate } = options;
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
      if (callersAuthenticate && SERVER_TOKEN_VARIABLES.has(name)) {
        throw new AgentCardError(
          file,
          field,
          `\${${name}} would send the server's own token with every caller's requests; callers bring their own tokens here, so use "auth: {forward: huggingface}" instead`,
        );
      }
      const resolved = env[name] ?? fallback;
      if (resolved === undefined) {
        throw new AgentCardError(file, field, `environment variable ${name} is not set`);
      }
      // The same token under another name (a second secret holding it) is the same mistake.
      if (callersAuthenticate && resolved && [...SERVER_TOKEN_VARIABLES].some((variable) => env[variable] === resolved)) {
        throw new AgentCardError(file, field, `\${${name}} holds the server's own token, which would go out with every caller's requests; use "auth: {forward: huggingface}" instead`);
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => resolvePlaceholders(file, item, options, `${field}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolvePlaceholders(file, item, options, `${field}.${key}`)]));
  }
  return value;
}

/** `scopes:` and `allow:`, checked against the schemes configured: a rule no caller could pass does not start. */
function parseAccess(fields: Fields, fail: Fail, options: LoadOptions): AccessRule {
  const schemes = options.schemes ?? {};
  const scopes = optionalStrings(fields.scopes, 'scopes', fail) ?? [];
  for (const scope of scopes) if (!SCOPE_TOKEN.test(scope)) fail('scopes', `"${scope}" is not a scope (no spaces, quotes or backslashes)`);
  if (scopes.length > 0 && !schemes.oidc) {
    const held = schemes.huggingface?.scopes ?? [];
    if (!schemes.huggingface || scopes.some((scope) => !held.includes(scope))) {
      fail(
        'scopes',
        'no configured scheme gives callers these scopes: OIDC access tokens carry scopes (set A2A_OIDC_ISSUER), Hugging Face callers hold only the FAST_AGENT_OAUTH_SCOPES, and API keys hold none',
      );
    }
  }
  let allow: AllowList | undefined;
  const raw = optionalObject(fields.allow, 'allow', fail);
  if (raw) {
    for (const key of Object.keys(raw)) if (!ALLOW_FIELDS.has(key)) fail(`allow.${key}`, `unknown field; the fields read here are: ${[...ALLOW_FIELDS].join(', ')}`);
    const entries = (key: string) => {
      const values = optionalStrings(raw[key], `allow.${key}`, fail) ?? [];
      for (const value of values) if (!value.trim()) fail(`allow.${key}`, 'entries must be non-empty');
      return values.map((value) => value.trim());
    };
    allow = { users: entries('users'), orgs: entries('orgs'), groups: entries('groups'), keys: entries('keys') };
    if (!allow.users.length && !allow.orgs.length && !allow.groups.length && !allow.keys.length) fail('allow', 'lists no one; add users, orgs, groups or keys, or remove it');
    if ((allow.users.length || allow.orgs.length) && !schemes.huggingface) fail(allow.users.length ? 'allow.users' : 'allow.orgs', 'names Hugging Face accounts, but Hugging Face tokens are not taken (FAST_AGENT_SERVE_OAUTH is not huggingface)');
    if (allow.groups.length && !schemes.oidc) fail('allow.groups', 'names OIDC groups, but no OIDC issuer is configured (A2A_OIDC_ISSUER)');
    if (allow.keys.length && !schemes.apiKeys) fail('allow.keys', 'names API keys, but no API keys are configured (A2A_API_KEYS)');
  }
  return { scopes, allow };
}

function parseMcpConnect(value: unknown, fail: Fail, options: LoadOptions): McpServerSpec[] {
  const { hubUrl } = options;
  if (value === undefined || value === null) return [];
  // fast-agent accepts a map of name -> settings (canonical) or a list of settings with a name.
  const entries: Array<[string | undefined, unknown, string]> = Array.isArray(value)
    ? value.map((entry, i) => [undefined, entry, `mcp_connect[${i}]`])
    : typeof value === 'object'
      ? Object.entries(value).map(([name, entry]) => [name, entry, `mcp_connect.${name}`])
      : fail('mcp_connect', 'must be a list or a map of MCP servers');

  const servers: McpServerSpec[] = [];
  for (const [key, raw, field] of entries) {
    const entry = optionalObject(raw, field, fail) ?? fail(field, 'must be a map with at least a "target"');
    for (const name of Object.keys(entry)) {
      if (!MCP_FIELDS.has(name)) fail(`${field}.${name}`, `unknown field; the fields read here are: ${[...MCP_FIELDS].join(', ')}`);
    }
    const target = optionalString(entry.target, `${field}.target`, fail) ?? fail(`${field}.target`, 'is required');
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return fail(`${field}.target`, `"${target}" is not a URL; only remote MCP servers (Streamable HTTP) can be used here`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${field}.target`, 'must be an http(s) URL');
    if (url.username || url.password) fail(`${field}.target`, 'must not carry credentials in the URL; use "headers"');

    const name = key ?? optionalString(entry.name, `${field}.name`, fail) ?? url.hostname;
    if (!NAME_PATTERN.test(name)) fail(`${field}.name`, `"${name}" must be 1-64 letters, digits, "_", "." or "-"`);
    if (servers.some((server) => server.name === name)) fail(`${field}.name`, `"${name}" is used by two MCP servers`);

    const headers = optionalObject(entry.headers, `${field}.headers`, fail) ?? {};
    for (const [header, headerValue] of Object.entries(headers)) {
      if (typeof headerValue !== 'string') fail(`${field}.headers.${header}`, 'must be a string');
    }

    const auth = optionalObject(entry.auth, `${field}.auth`, fail) ?? {};
    for (const authKey of Object.keys(auth)) {
      if (authKey !== 'forward' && authKey !== 'exchange') fail(`${field}.auth.${authKey}`, 'unknown field; the fields read here are: forward, exchange');
    }
    if (auth.forward !== undefined && auth.exchange !== undefined) fail(`${field}.auth`, 'give either "forward" or "exchange", not both');
    const exchange = parseExchange(auth.exchange, `${field}.auth.exchange`, url, headers, fail, options);
    const forward = auth.forward;
    if (forward !== undefined && forward !== 'huggingface') fail(`${field}.auth.forward`, 'the only supported value is "huggingface"');
    if (forward === 'huggingface' && !tokenHeaderFor(url, hubUrl)) {
      fail(
        `${field}.auth.forward`,
        `will not forward a Hugging Face token to ${url.host}: only https://huggingface.co, https://hf.co, the HF_ENDPOINT host and https://*.hf.space may receive one`,
      );
    }
    servers.push({ name, url: url.href, headers: headers as Record<string, string>, forwardHfToken: forward === 'huggingface', ...(exchange && { exchange }) });
  }
  return servers;
}

/** `auth.exchange: {audience, scope}`: the server trades the caller's OIDC token for one bound to this server. */
function parseExchange(value: unknown, field: string, url: URL, headers: Fields, fail: Fail, options: LoadOptions): McpServerSpec['exchange'] {
  const exchange = optionalObject(value, field, fail);
  if (!exchange) return undefined;
  for (const key of Object.keys(exchange)) if (key !== 'audience' && key !== 'scope') fail(`${field}.${key}`, 'unknown field; the fields read here are: audience, scope');
  const audience = optionalString(exchange.audience, `${field}.audience`, fail) ?? fail(`${field}.audience`, 'is required: the audience the exchanged token is issued for');
  const scope = optionalString(exchange.scope, `${field}.scope`, fail);
  if (scope !== undefined && scope.split(' ').some((token) => !SCOPE_TOKEN.test(token))) fail(`${field}.scope`, 'must be space-separated scopes');
  // The exchanged token goes to this server alone, so it must not be readable on the way.
  if (url.protocol !== 'https:' && !/^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname)) fail(field, 'needs an https target (plain http only to this machine): the token must not travel in the clear');
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) fail(field, 'the entry also sets an Authorization header; the exchanged token is sent as Authorization, so remove one');
  if (!options.schemes?.oidc) fail(field, 'needs OIDC callers, whose tokens can be exchanged; set A2A_OIDC_ISSUER');
  if (!options.schemes?.oidc?.exchange) fail(field, "needs this server's client at the issuer; set A2A_OIDC_CLIENT_ID and A2A_OIDC_CLIENT_SECRET");
  return { audience, scope };
}

function optionalString(value: unknown, field: string, fail: Fail): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !value.trim()) return fail(field, 'must be a non-empty string');
  return value.trim();
}

function optionalBoolean(value: unknown, field: string, fail: Fail): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') return fail(field, 'must be true or false');
  return value;
}

function optionalStrings(value: unknown, field: string, fail: Fail): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) return fail(field, 'must be a list of strings');
  return value as string[];
}

function optionalObject(value: unknown, field: string, fail: Fail): Fields | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return fail(field, 'must be a map of field: value');
  return value as Fields;
}

function optionalNumber(value: unknown, field: string, fail: Fail, min: number, max: number, integer: boolean): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    return fail(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

function firstSentence(text: string): string | undefined {
  const line = text.split('\n').find((l) => l.trim() && !l.startsWith('#'))?.trim();
  if (!line) return undefined;
  const sentence = /^(.*?[.!?])(\s|$)/.exec(line)?.[1] ?? line;
  return sentence.length > 200 ? `${sentence.slice(0, 197)}...` : sentence;
}
