/**
 * The agent loop: one turn of one agent for one caller. Builds the prompt from the card's
 * instruction, the conversation so far and the new message, streams the model's answer, and records
 * the turn when it completes. Knows nothing about A2A or HTTP.
 */
import type { AgentSpec } from './card-file.ts';
import { Conversations } from './conversations.ts';
import type { ChatMessage, ChatModel } from './model.ts';

export interface Turn {
  agent: AgentSpec;
  /** Who the conversation belongs to (the caller's identity). */
  owner: string;
  contextId: string;
  text: string;
  /** The credential the model call uses. */
  token: string | undefined;
  signal: AbortSignal;
}

export class AgentRunner {
  readonly agents: readonly AgentSpec[];
  readonly defaultAgent: AgentSpec;
  readonly #models: ReadonlyMap<string, ChatModel>;
  /** Undefined in `request` scope, where every message stands alone. */
  readonly #conversations: Conversations | undefined;

  constructor(agents: readonly AgentSpec[], modelFor: (agent: AgentSpec) => ChatModel, conversations: Conversations | undefined) {
    this.agents = agents;
    this.defaultAgent = agents.find((agent) => agent.isDefault) ?? agents[0]!;
    this.#models = new Map(agents.map((agent) => [agent.name, modelFor(agent)]));
    this.#conversations = conversations;
  }

  /** The agent a message names, the default one when it names none, undefined for an unknown name. */
  select(name: string | undefined): AgentSpec | undefined {
    return name === undefined ? this.defaultAgent : this.agents.find((agent) => agent.name === name);
  }

  /** Streams the answer as text deltas. */
  async *run(turn: Turn): AsyncGenerator<string, void, undefined> {
    const { agent, signal } = turn;
    const conversations = agent.useHistory ? this.#conversations : undefined;
    const key = Conversations.key(turn.owner, agent.name, turn.contextId);
    const release = await conversations?.acquire(key, signal);
    try {
      const user: ChatMessage = { role: 'user', content: turn.text };
      const messages: ChatMessage[] = [
        ...(agent.instruction ? [{ role: 'system' as const, content: agent.instruction }] : []),
        ...(conversations?.history(key) ?? []),
        user,
      ];
      let answer = '';
      for await (const delta of this.#models.get(agent.name)!.stream({
        messages,
        temperature: agent.temperature,
        maxTokens: agent.maxTokens,
        signal,
        token: turn.token,
      })) {
        answer += delta;
        yield delta;
      }
      conversations?.record(key, user, { role: 'assistant', content: answer });
    } finally {
      release?.();
    }
  }
}
