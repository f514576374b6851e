/**
 * The model seam of the agent loop: a chat model takes messages and streams text back.
 *
 * `passthrough` answers with the caller's last text, in pieces, with no network: local runs and
 * tests use it. `hf.*` models go to the HF inference router (src/hf/inference.ts).
 */
import type { ModelSpec } from './card-file.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelRequest {
  messages: ChatMessage[];
  temperature: number | undefined;
  maxTokens: number | undefined;
  /** Aborted when the task is canceled; the model call must stop. */
  signal: AbortSignal;
  /** The credential this call is made with; never stored by a model. */
  token: string | undefined;
}

export interface ChatModel {
  /** Streams the answer as text deltas. Throws ModelError with words a caller can act on. */
  stream(request: ModelRequest): AsyncIterable<string>;
}

/** A model failure explained for the person who sent the message. */
export class ModelError extends Error {
  override name = 'ModelError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type ModelFactory = (spec: ModelSpec) => ChatModel;

export const passthroughModel: ChatModel = {
  async *stream({ messages, signal }) {
    const last = messages.findLast((message) => message.role === 'user')?.content ?? '';
    // Words with their trailing space, so the pieces join back to exactly the input.
    for (const piece of last.match(/\S+\s*|\s+/g) ?? []) {
      signal.throwIfAborted();
      yield piece;
    }
  },
};
