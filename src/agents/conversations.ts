/**
 * Conversation memory for `--instance-scope connection`: the turns of each (caller, agent,
 * contextId). Bounded in count, characters and age overall; in messages and characters per
 * conversation (oldest messages go first); and in conversations per caller, so one caller cannot
 * push out everyone else's. Turns of one conversation run one at a time, so two messages sent at
 * once to the same context both see a consistent history.
 */
import { BoundedMap } from '../util/bounded-map.ts';
import { OwnerIndex } from '../util/owner-index.ts';
import type { ChatMessage } from './model.ts';

export interface ConversationLimits {
  maxConversations: number;
  maxAgeMs: number;
  /** Characters all conversations may hold together. */
  maxChars: number;
  maxConversationsPerOwner: number;
  /** Older messages are dropped first once a conversation holds this many, or this many characters. */
  maxMessages: number;
  maxCharsPerConversation: number;
}

export const DEFAULT_CONVERSATION_LIMITS: ConversationLimits = {
  maxConversations: 5_000,
  maxAgeMs: 60 * 60 * 1000,
  maxChars: 20_000_000,
  maxConversationsPerOwner: 200,
  maxMessages: 40,
  maxCharsPerConversation: 200_000,
};

const SEP = '\u0000';

export class Conversations {
  readonly #turns: BoundedMap<readonly ChatMessage[]>;
  readonly #owners: OwnerIndex;
  readonly #limits: ConversationLimits;
  readonly #queues = new Map<string, Promise<void>>();

  constructor(limits: Partial<ConversationLimits> = {}) {
    this.#limits = { ...DEFAULT_CONVERSATION_LIMITS, ...limits };
    this.#owners = new OwnerIndex(this.#limits.maxConversationsPerOwner);
    this.#turns = new BoundedMap({
      maxEntries: this.#limits.maxConversations,
      maxAgeMs: this.#limits.maxAgeMs,
      maxWeight: this.#limits.maxChars,
      weigh: characters,
      onEvict: (key) => this.#owners.remove(ownerOf(key), key),
    });
  }

  static key(owner: string, agent: string, contextId: string): string {
    return `${owner}${SEP}${agent}${SEP}${contextId}`;
  }

  history(key: string): readonly ChatMessage[] {
    return this.#turns.get(key) ?? [];
  }

  record(key: string, ...messages: ChatMessage[]): void {
    const turns = [...this.history(key), ...messages].slice(-this.#limits.maxMessages);
    let chars = characters(turns);
    while (turns.length > messages.length && chars > this.#limits.maxCharsPerConversation) chars -= turns.shift()!.content.length;
    this.#turns.set(key, turns);
    const evicted = this.#owners.add(ownerOf(key), key);
    if (evicted !== undefined) this.#turns.delete(evicted);
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

function ownerOf(key: string): string {
  return key.slice(0, key.indexOf(SEP));
}

function characters(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + message.content.length, 0);
}
