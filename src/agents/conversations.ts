/**
 * Conversation memory for `--instance-scope connection`: the turns of each (caller, agent,
 * contextId), bounded in count, age and length. Turns of one conversation run one at a time, so
 * two messages sent at once to the same context both see a consistent history.
 */
import { BoundedMap } from '../util/bounded-map.ts';
import type { ChatMessage } from './model.ts';

export interface ConversationLimits {
  maxConversations: number;
  maxAgeMs: number;
  /** Older messages are dropped first once a conversation holds this many. */
  maxMessages: number;
}

export const DEFAULT_CONVERSATION_LIMITS: ConversationLimits = {
  maxConversations: 5_000,
  maxAgeMs: 60 * 60 * 1000,
  maxMessages: 40,
};

export class Conversations {
  readonly #turns: BoundedMap<readonly ChatMessage[]>;
  readonly #maxMessages: number;
  readonly #queues = new Map<string, Promise<void>>();

  constructor(limits: ConversationLimits = DEFAULT_CONVERSATION_LIMITS) {
    this.#turns = new BoundedMap({ maxEntries: limits.maxConversations, maxAgeMs: limits.maxAgeMs });
    this.#maxMessages = limits.maxMessages;
  }

  get size(): number {
    return this.#turns.size;
  }

  static key(owner: string, agent: string, contextId: string): string {
    return `${owner}\u0000${agent}\u0000${contextId}`;
  }

  history(key: string): readonly ChatMessage[] {
    return this.#turns.get(key) ?? [];
  }

  record(key: string, ...messages: ChatMessage[]): void {
    this.#turns.set(key, [...this.history(key), ...messages].slice(-this.#maxMessages));
  }

  /**
   * Waits until every earlier turn of the conversation has finished, then returns the function that
   * lets the next one start. Turns that give up while waiting (aborted) still keep the order.
   */
  async acquire(key: string, signal: AbortSignal): Promise<() => void> {
    const previous = this.#queues.get(key);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => released) : released;
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    if (previous) {
      try {
        await waitUnlessAborted(previous, signal);
      } catch (error) {
        release();
        throw error;
      }
    }
    return release;
  }
}

function waitUnlessAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
