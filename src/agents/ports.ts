/**
 * The agent loop's ports: what it needs from the outside, as interfaces that the outbound adapters
 * (src/hf) implement and src/server.ts injects. Nothing here knows HTTP, A2A or Hugging Face.
 *
 * - ChatModel: takes messages and the tools it may call, streams text and tool calls into a sink.
 * - ToolSession: the MCP tools of one turn, opened with the caller's credential, closed after.
 * - AgentError: the one failure a turn reports, with a kind that decides the task's end state.
 */
import type { Credential } from '../auth/credentials.ts';
import type { Caller } from '../auth/caller.ts';
import type { McpServerSpec } from './agent-set.ts';

/** A call the model asks for; `arguments` is the JSON text exactly as the model wrote it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A tool offered to the model, as an OpenAI-style function. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ModelRequest {
  messages: ChatMessage[];
  tools: ToolSpec[];
  temperature: number | undefined;
  maxTokens: number | undefined;
  /** Aborted when the task is canceled; the model call must stop. */
  signal: AbortSignal;
  /** What this call is made with; never stored by a model. */
  credential: Credential | undefined;
}

/**
 * Where a model reports its answer as it comes. Pushed rather than yielded: each event through an
 * async generator costs a promise round trip per layer it crosses, which measured as a tenth of a
 * short turn's CPU. A sink's methods return at once and never throw.
 */
export interface ModelSink {
  /** A piece of the answer's text. */
  text(delta: string): void;
  /** A call the model asks for, once it is complete. */
  toolCall(call: ToolCall): void;
}

export interface ChatModel {
  /** Streams the answer into `sink`; settles once the answer is complete. Throws AgentError. */
  stream(request: ModelRequest, sink: ModelSink): Promise<void>;
}

export interface ToolOutcome {
  ok: boolean;
  /** What goes back to the model. */
  text: string;
}

/** The tools of one turn's MCP servers, connected as one caller. */
export interface ToolSession {
  /** Every tool the servers offer; servers that could not be listed are named in `problems`. */
  listTools(signal: AbortSignal): Promise<{ tools: ToolSpec[]; problems: string[] }>;
  /** Where a tool the model named lives, for progress messages. */
  describe(name: string): { server: string; tool: string } | undefined;
  /** Runs one call; a tool's own failure comes back as an outcome, not an exception. */
  call(name: string, argumentsJson: string, signal: AbortSignal): Promise<ToolOutcome>;
  /** Ends the session's connections. */
  close(): Promise<void>;
}

export type ToolSessionFactory = (servers: readonly McpServerSpec[], caller: Caller) => ToolSession;

/**
 * How a turn failed, in words for the person who sent the message:
 * - `failed`: the work cannot be done as asked (the task ends failed);
 * - `auth-required`: a credential was refused; the caller can send again with a better one.
 */
export type AgentErrorKind = 'failed' | 'auth-required';

export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    readonly kind: AgentErrorKind,
    message: string,
  ) {
    super(message);
  }
}
