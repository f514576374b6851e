/**
 * Conversation memory for `--instance-scope connection`: the turns of each (caller, tenant, agent,
 * contextId). Bounded by the owned map's limits (count, weight and age overall, count and weight per
 * caller, so one caller cannot push out another's) and per conversation in messages and characters
 * (oldest messages go first). Turns of one conversation run one at a time, so two messages sent at
 * once to the same context both see a consistent history.
 */
import { OwnedMap, type OwnedMapLimits } from '../util/owned-map.ts';
import type { ChatMessage } from './ports.ts';

export interface ConversationLimits extends OwnedMapLimits {
  /** Older messages are dropped first once a conversation holds more than this many... */
  maxMessages: number;
  /** ...or more than this many characters. */
  maxCharsPerConversation: number;
}

const DEFAULT_CONVERSATION_LIMITS: ConversationLimits = {
  maxEntries: 5_000,
  maxWeight: 32 * 1024 * 1024,
  maxAgeMs: 60 * 60 * 1000,
  maxEntriesPerOwner: 200,
  maxWeightPerOwner: 4 * 1024 * 1024,
  maxMessages: 40,
  maxCharsPerConversation: 256 * 1024,
};

/** Where a conversation lives: whose it is, and under which tenant, agent and context. */
export interface ConversationAddress {
  owner: string;
  tenant: string;
  agent: string;
  contextId: string;
}

/** What a message costs to keep beyond its text: its object and its place in the array. */
const MESSAGE_OVERHEAD = 64;
const SEP = '\u0000';

export class Conversations {
  readonly #turns: OwnedMap<readonly ChatMessage[]>;
  readonly #limits: ConversationLimits;
  readonly #queues = new Map<string, Promise<void>>();

  constructor(limits: Partial<ConversationLimits> = {}) {
    this.#limits = { ...DEFAULT_CONVERSATION_LIMITS, ...limits };
    this.#turns = new OwnedMap({ limits: this.#limits, weigh: weightOf });
  }

  /** Weight held by all conversations. */
  get weight(): number {
    return this.#turns.weight;
  }

  history(address: ConversationAddress): readonly ChatMessage[] {
    return this.#turns.get(keyOf(address)) ?? [];
  }

  record(address: ConversationAddress, ...messages: ChatMessage[]): void {
    const turns = [...this.history(address), ...messages].slice(-this.#limits.maxMessages);
    let chars = characters(turns);
    while (turns.length > messages.length && chars > this.#limits.maxCharsPerConversation) chars -= turns.shift()!.content.length;
    this.#turns.set(address.owner, keyOf(address), turns);
  }

  /**
   * Waits until every earlier turn of the conversation has finished, then returns the function that
   * lets the next one start. Turns that give up while waiting (aborted) still keep the order.
   */
  async acquire(address: ConversationAddress, abortable: { readonly signal: AbortSignal }): Promise<() => void> {
    const key = keyOf(address);
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
        await waitUnlessAborted(previous, abortable.signal);
      } catch (error) {
        release();
        throw error;
      }
    }
    return release;
  }
}

function keyOf({ owner, tenant, agent, contextId }: ConversationAddress): string {
  return `${owner}${SEP}${tenant}${SEP}${agent}${SEP}${contextId}`;
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

function characters(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + message.content.length, 0);
}

function weightOf(messages: readonly ChatMessage[]): number {
  let weight = 0;
  for (const message of messages) {
    weight += MESSAGE_OVERHEAD + message.content.length;
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) weight += call.arguments.length + call.name.length;
  }
  return weight;
}
