/**
 * MCP tools for one agent turn, called as the caller: the agent loop's ToolSession port over the
 * MCP SDK's Streamable HTTP client.
 *
 * A McpSession belongs to exactly one turn of one caller: its connections carry that caller's token
 * (under the host policy) and are closed when the turn ends, so no connection made with one
 * caller's token is ever used for another. Tool listings are cached for a short time per server and
 * caller, so a conversation does not list on every turn; a cached listing means no connection at
 * all until the model actually calls a tool.
 */
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { McpServerSpec } from '../agents/agent-set.ts';
import { AgentError, type ToolOutcome, type ToolSession, type ToolSessionFactory, type ToolSpec } from '../agents/ports.ts';
import type { Caller } from '../auth/caller.ts';
import type { Credential } from '../auth/credentials.ts';
import { DownstreamUnavailable } from '../auth/errors.ts';
import { BoundedMap } from '../util/bounded-map.ts';
import { callerFetch } from './caller-fetch.ts';

export interface McpLimits {
  connectTimeoutMs: number;
  listTimeoutMs: number;
  callTimeoutMs: number;
  /** Longer tool results are cut to this many characters, with a note saying so. */
  maxResultChars: number;
  /** A larger HTTP response from an MCP server is abandoned rather than read into memory. */
  maxResponseBytes: number;
}

const DEFAULT_MCP_LIMITS: McpLimits = {
  connectTimeoutMs: 15_000,
  listTimeoutMs: 15_000,
  callTimeoutMs: 60_000,
  maxResultChars: 20_000,
  maxResponseBytes: 4 * 1024 * 1024,
};

/** A tool as listed by its server, before it is offered to a model. */
interface ListedTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** Tool listings per (server, caller), shared by all turns; entries never cross callers. */
export type ToolListings = BoundedMap<ListedTool[]>;

export function toolListingCache(maxAgeMs = 60_000): ToolListings {
  return new BoundedMap<ListedTool[]>({ maxEntries: 2_000, maxAgeMs });
}

/** A forwarded server refused the caller's credential: the caller must bring another, then send again. */
function credentialRefused(server: string, host: string, status: number, tokenSent: boolean): AgentError {
  return new AgentError(
    'auth-required',
    tokenSent
      ? `The MCP server "${server}" (${host}) refused your Hugging Face token (HTTP ${status}). ` +
          'Use a token that is valid and allowed to use this server (for the Hugging Face MCP server, any valid token with read access), then send the message again.'
      : `The MCP server "${server}" (${host}) needs a Hugging Face token (HTTP ${status}), and none came with this message. ` +
          'Call this agent with "Authorization: Bearer <your HF token>" (or set HF_TOKEN when the server runs without inbound auth).',
  );
}

/**
 * One schema validator for every session: building one per client costs each turn a fresh Ajv. It
 * holds only compiled tool schemas, never anything of a caller's.
 */
const schemaValidator = new AjvJsonSchemaValidator();

export interface McpOptions {
  hubUrl: string;
  listings: ToolListings;
  limits?: Partial<McpLimits>;
  /** The fetch MCP requests go through (the global one unless a test routes hosts elsewhere). */
  fetch?: typeof fetch;
}

/** The agent loop's tool-session factory: each turn gets a session of its own, as its caller. */
export function mcpTools(options: McpOptions): ToolSessionFactory {
  const limits = { ...DEFAULT_MCP_LIMITS, ...options.limits };
  return (servers, caller) => new McpSession(servers, caller, { ...options, limits });
}

interface OfferedTool extends ToolSpec {
  server: McpServerSpec;
  toolName: string;
}

class McpSession implements ToolSession {
  readonly #servers: readonly McpServerSpec[];
  readonly #caller: Caller;
  readonly #options: McpOptions;
  readonly #limits: McpLimits;
  readonly #clients = new Map<string, Promise<Client>>();
  readonly #tools = new Map<string, OfferedTool>();
  /** Tokens exchanged for this turn's servers, to scrub from what they send back. */
  readonly #exchanged: Credential[] = [];

  constructor(servers: readonly McpServerSpec[], caller: Caller, options: McpOptions & { limits: McpLimits }) {
    this.#servers = servers;
    this.#caller = caller;
    this.#options = options;
    this.#limits = options.limits;
  }

  /**
   * The tools of every server that answers, named `<server>__<tool>` for the model. A server that
   * cannot be listed is left out and reported in `problems`, except a forwarded server that refuses
   * the caller's credential, which throws McpCredentialRefused.
   */
  async listTools(signal: AbortSignal): Promise<{ tools: ToolSpec[]; problems: string[] }> {
    const problems: string[] = [];
    const listed = await Promise.all(
      this.#servers.map(async (server) => {
        try {
          return { server, tools: await this.#listing(server, signal) };
        } catch (error) {
          signal.throwIfAborted();
          this.#throwIfCredentialRefused(server, error);
          problems.push(`MCP server "${server.name}" (${new URL(server.url).host}) is unavailable: ${reason(error)}.`);
          return { server, tools: [] };
        }
      }),
    );
    for (const { server, tools } of listed) {
      for (const tool of tools) {
        const name = this.#uniqueName(server.name, tool.name);
        this.#tools.set(name, { name, description: tool.description, parameters: tool.inputSchema, server, toolName: tool.name });
      }
    }
    return { tools: [...this.#tools.values()].map(({ name, description, parameters }) => ({ name, description, parameters })), problems };
  }

  /** Where a tool the model named lives, for progress messages. */
  describe(name: string): { server: string; tool: string } | undefined {
    const tool = this.#tools.get(name);
    return tool && { server: tool.server.name, tool: tool.toolName };
  }

  /** Runs one tool call; failures come back as text for the model, not as exceptions. */
  async call(name: string, argumentsJson: string, signal: AbortSignal): Promise<ToolOutcome> {
    const tool = this.#tools.get(name);
    if (!tool) return { ok: false, text: `There is no tool named "${name}". The tools are: ${[...this.#tools.keys()].join(', ') || 'none'}.` };
    let args: unknown;
    try {
      args = argumentsJson.trim() ? JSON.parse(argumentsJson) : {};
    } catch (error) {
      return { ok: false, text: `The arguments for ${name} are not valid JSON (${(error as Error).message}). Call it again with a JSON object.` };
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return { ok: false, text: `The arguments for ${name} must be a JSON object.` };
    }
    try {
      const client = await this.#client(tool.server, signal);
      const result = await client.callTool({ name: tool.toolName, arguments: args as Record<string, unknown> }, undefined, {
        signal: callSignal(signal),
        timeout: this.#limits.callTimeoutMs,
      });
      // A server that echoes what it was sent must not hand the model a token exchanged for it (the
      // runner scrubs the caller's own).
      const text = this.#truncate(this.#exchanged.reduce((out, credential) => credential.scrub(out), resultText(result)));
      return result.isError ? { ok: false, text: `The tool reported an error: ${text}` } : { ok: true, text };
    } catch (error) {
      signal.throwIfAborted();
      this.#throwIfCredentialRefused(tool.server, error);
      return { ok: false, text: `The tool ${tool.toolName} on MCP server "${tool.server.name}" failed: ${reason(error)}.` };
    }
  }

  /** Ends every session this turn opened (so a stateful server can free it) and closes its connection. */
  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(
      clients.map(async (pending) => {
        const client = await pending.catch(() => undefined);
        const transport = client?.transport as StreamableHTTPClientTransport | undefined;
        // Ending the session is a courtesy: a server that does not answer it must not hold the turn.
        if (transport?.sessionId) await withinMs(transport.terminateSession(), this.#limits.connectTimeoutMs);
        await client?.close().catch(() => {});
      }),
    );
  }

  async #listing(server: McpServerSpec, signal: AbortSignal): Promise<ListedTool[]> {
    // Everything that can change the answer is in the key: the caller, and the server with the headers it is sent.
    const key = `${this.#caller.id}\u0000${serverKey(server)}`;
    const cached = this.#options.listings.get(key);
    if (cached) return cached;
    const client = await this.#client(server, signal);
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    // A few pages at most: a server that pages forever is not waited for.
    for (let page = 0; page < 10; page++) {
      const result = await client.listTools(cursor ? { cursor } : undefined, { signal: callSignal(signal), timeout: this.#limits.listTimeoutMs });
      for (const tool of result.tools) {
        tools.push({ name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema as Record<string, unknown> });
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    this.#options.listings.set(key, tools);
    return tools;
  }

  #client(server: McpServerSpec, signal: AbortSignal): Promise<Client> {
    let pending = this.#clients.get(server.name);
    if (!pending) {
      pending = this.#connect(server, signal);
      // A failed connection is not kept: the next use tries again.
      pending.catch(() => this.#clients.delete(server.name));
      this.#clients.set(server.name, pending);
    }
    return pending;
  }

  async #connect(server: McpServerSpec, signal: AbortSignal): Promise<Client> {
    // An `auth.exchange` entry gets a token traded for the caller's own, bound to its audience: sent to that server alone, as Authorization.
    const exchanged = server.exchange ? await this.#caller.exchangeFor(server.exchange, signal) : undefined;
    if (exchanged) this.#exchanged.push(exchanged);
    const send = callerFetch({ credential: server.forwardHfToken ? this.#caller.credential : undefined, hubUrl: this.#options.hubUrl, fetch: this.#options.fetch });
    const transport = new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: exchanged ? { ...server.headers, Authorization: `Bearer ${exchanged.reveal()}` } : server.headers },
      fetch: sizeLimitedFetch(this.#limits.maxResponseBytes, send),
    });
    const client = new Client({ name: 'a2a-hf-space', version: '0.1.0' }, { jsonSchemaValidator: schemaValidator });
    await client.connect(transport, { signal: callSignal(signal), timeout: this.#limits.connectTimeoutMs });
    return client;
  }

  #throwIfCredentialRefused(server: McpServerSpec, error: unknown): void {
    if (error instanceof DownstreamUnavailable) throw new AgentError(error.kind, `The MCP server "${server.name}" (${new URL(server.url).host}) could not be used: ${error.message}`);
    const status = error instanceof StreamableHTTPError ? error.code : undefined;
    if (server.forwardHfToken && (status === 401 || status === 403)) {
      throw credentialRefused(server.name, new URL(server.url).host, status, this.#caller.credential !== undefined);
    }
    if (server.exchange && (status === 401 || status === 403)) {
      throw new AgentError(
        'auth-required',
        `The MCP server "${server.name}" (${new URL(server.url).host}) refused the token exchanged for you (HTTP ${status}). Sign in with an account allowed to use it, then send the message again.`,
      );
    }
  }

  #uniqueName(server: string, tool: string): string {
    const base = `${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
    let name = base;
    for (let n = 2; this.#tools.has(name); n++) name = `${base.slice(0, 60)}_${n}`;
    return name;
  }

  #truncate(text: string): string {
    const max = this.#limits.maxResultChars;
    return text.length <= max ? text : `${text.slice(0, max)}\n[truncated: ${text.length - max} more characters were left out]`;
  }
}

const serverKeys = new WeakMap<McpServerSpec, string>();

/** A server's URL and headers, hashed once per agent card entry. */
function serverKey(server: McpServerSpec): string {
  let key = serverKeys.get(server);
  if (!key) serverKeys.set(server, (key = createHash('sha256').update(JSON.stringify([server.url, server.headers])).digest('base64url')));
  return key;
}

/** Waits for `work` for at most `ms`, whatever it does; its failure is of no interest. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * A signal of the request's own that follows the turn's: the MCP SDK adds an abort listener to the
 * signal of every request and never removes it, so passing the turn's signal itself would pile
 * listeners onto it (Node warns past ten) for as long as the turn lasts.
 */
function callSignal(turn: AbortSignal): AbortSignal {
  return AbortSignal.any([turn]);
}

/** fetch for MCP requests that gives up on a response body larger than `maxBytes`. */
function sizeLimitedFetch(maxBytes: number, send: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await send(input, init);
    if (!response.body) return response;
    let seen = 0;
    const limited = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) controller.error(new Error(`it sent more than ${maxBytes} bytes`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The text of a tool result: text content as is, anything else described. */
function resultText(result: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const item of (Array.isArray(result.content) ? result.content : []) as Array<Record<string, any>>) {
    if (item.type === 'text') parts.push(String(item.text ?? ''));
    else if (item.type === 'resource') parts.push(typeof item.resource?.text === 'string' ? item.resource.text : `[resource ${item.resource?.uri ?? ''}]`);
    else if (item.type === 'resource_link') parts.push(`[link ${item.uri ?? ''}]`);
    else parts.push(`[${item.type ?? 'content'}${item.mimeType ? ` ${item.mimeType}` : ''} left out]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  return parts.join('\n');
}

/** Why an MCP request failed, in a few words (redacted where it leaves: the model's prompt, a status message). */
function reason(error: unknown): string {
  if (error instanceof StreamableHTTPError) return `it answered HTTP ${error.code}`;
  const name = (error as Error)?.name;
  const message = String((error as Error)?.message ?? error);
  if (/timed out|timeout/i.test(message) || name === 'TimeoutError') return 'it did not answer in time';
  if (/sent more than \d+ bytes/.test(message)) return /it sent more than \d+ bytes/.exec(message)![0];
  if (error instanceof TypeError && /fetch failed/i.test(message)) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `it could not be reached${cause ? ` (${cause})` : ''}`;
  }
  return message.slice(0, 200);
}
