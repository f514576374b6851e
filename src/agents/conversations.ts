/**
 * Conversation memory for `--instance-scope connection`: the turns of each (caller, tenant, agent,
 * contextId). Bounded by the owned map's limits (count, weight and age overall, count and weight per
 * caller, so one caller cannot push out another's) and per conversation in messages and characters
 * (oldest messages go first). Turns of one conversation run one at a time, so two messages sent at
 * once to the same context both see a consistent history.
 */
import { compositeKey } from '../util/flat.ts';
import { OwnedMap, type OwnedMapLimits } from '../util/owned-map.ts';
import { textBytes } from '../util/weigh.ts';
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

/**
 * A turn's hold on its conversation: the history it starts from, where it records its exchange,
 * and `release`, which lets the conversation's next turn begin. Release it whatever happens.
 */
export interface ConversationTurn {
  readonly history: readonly ChatMessage[];
  record(...messages: ChatMessage[]): void;
  release(): void;
}

export class Conversations {
  readonly #turns: OwnedMap<readonly ChatMessage[]>;
  readonly #limits: ConversationLimits;
  /** Conversations a turn holds, each with the turns waiting for it, first come first. */
  readonly #held = new Map<string, Array<() => void>>();

  constructor(limits: Partial<ConversationLimits> = {}) {
    this.#limits = { ...DEFAULT_CONVERSATION_LIMITS, ...limits };
    this.#turns = new OwnedMap({ limits: this.#limits, weigh: weightOf });
  }

  /** Weight held by all conversations. */
  get weight(): number {
    return this.#turns.weight;
  }

  /**
   * The conversation at `address` for a new turn, once every earlier turn of it has finished. A turn
   * that gives up while it waits (its signal aborts) leaves the others their order. The signal is
   * read only when there is something to wait for: making one costs more than a short turn.
   */
  async begin(address: ConversationAddress, abortable: { readonly signal: AbortSignal }): Promise<ConversationTurn> {
    const key = keyOf(address);
    const waiting = this.#held.get(key);
    if (waiting) await waitForTurn(waiting, abortable.signal);
    else this.#held.set(key, []);
    return this.#turn(address.owner, key);
  }

  #turn(owner: string, key: string): ConversationTurn {
    const history = this.#turns.get(key) ?? [];
    let released = false;
    return {
      history,
      record: (...messages) => {
        const turns = [...history, ...messages].slice(-this.#limits.maxMessages);
        let chars = characters(turns);
        while (turns.length > messages.length && chars > this.#limits.maxCharsPerConversation) chars -= turns.shift()!.content.length;
        this.#turns.set(owner, key, turns);
      },
      release: () => {
        if (released) return;
        released = true;
        const waiting = this.#held.get(key)!;
        const next = waiting.shift();
        if (next) next();
        else this.#held.delete(key);
      },
    };
  }
}

function keyOf({ owner, tenant, agent, contextId }: ConversationAddress): string {
  return compositeKey(owner, tenant, agent, contextId);
}

/** Queues in `waiting` until the turn before hands over (the turn is then this one's), or rejects when `signal` aborts. */
function waitForTurn(waiting: Array<() => void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onTurn = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      const at = waiting.indexOf(onTurn);
      if (at !== -1) waiting.splice(at, 1);
      reject(signal.reason);
    };
    waiting.push(onTurn);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function characters(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + message.content.length, 0);
}

function weightOf(messages: readonly ChatMessage[]): number {
  let weight = 0;
  for (const message of messages) {
    weight += MESSAGE_OVERHEAD + textBytes(message.content);
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) weight += textBytes(call.arguments) + textBytes(call.name);
  }
  return weight;
}
