/**
 * The model seam of the agent loop: a chat model takes messages (and the tools it may call) and
 * streams back text and tool calls.
 *
 * `passthrough` answers with the caller's last text, in pieces, with no network: local runs and
 * tests use it. `hf.*` models go to the HF inference router (src/hf/inference.ts).
 */

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
  /** The credential this call is made with; never stored by a model. */
  token: string | undefined;
}

export type ModelEvent = { type: 'text'; text: string } | { type: 'tool_call'; call: ToolCall };

export interface ChatModel {
  /**
   * Streams the answer: text as it comes, each tool call once it is complete. Throws ModelError
   * with words a caller can act on.
   */
  stream(request: ModelRequest): AsyncIterable<ModelEvent>;
}

/** A model failure explained for the person who sent the message. */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** Pieces a passthrough answer comes in, at most: enough to show streaming, few for a long text. */
const PASSTHROUGH_PIECES = 32;

export const passthroughModel: ChatModel = {
  async *stream({ messages, signal }) {
    const last = messages.findLast((message) => message.role === 'user')?.content ?? '';
    // Words with their trailing space, so the pieces join back to exactly the input.
    const words = last.match(/\S+\s*|\s+/g) ?? [];
    const perPiece = Math.ceil(words.length / PASSTHROUGH_PIECES);
    for (let i = 0; i < words.length; i += perPiece) {
      signal.throwIfAborted();
      yield { type: 'text', text: words.slice(i, i + perPiece).join('') };
    }
  },
};
