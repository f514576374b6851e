/**
 * The agent loop: one turn of one agent for one caller. Builds the prompt from the card's
 * instruction, the conversation so far and the new message; offers the agent's MCP tools to the
 * model; runs the calls it asks for and feeds the results back, until it answers or its tool rounds
 * (`request_params.max_iterations`) are spent, when it must answer without tools. Records the turn
 * when it completes. Knows nothing about A2A or HTTP.
 */
import { defaultAgentOf, type AgentSpec } from './card-file.ts';
import { Conversations } from './conversations.ts';
import type { ChatMessage, ChatModel, ToolCall, ToolSpec } from './model.ts';
import { McpSession, type McpLimits, type ToolListings } from '../hf/mcp.ts';
import { redact } from '../util/redact.ts';

export interface Turn {
  agent: AgentSpec;
  /** Who the conversation belongs to (the caller's identity). */
  owner: string;
  contextId: string;
  text: string;
  /** The credential the model and tool calls use. */
  token: string | undefined;
  signal: AbortSignal;
}

/** What a turn reports as it goes: answer text, and progress a person watching would want to see. */
export type TurnEvent = { type: 'text'; text: string } | { type: 'progress'; text: string };

export interface RunnerOptions {
  /** Undefined in `request` scope, where every message stands alone. */
  conversations: Conversations | undefined;
  hubUrl: string;
  listings: ToolListings;
  mcpLimits?: Partial<McpLimits>;
  mcpFetch?: typeof fetch;
}

const LAST_ROUND = 'You have made every tool call allowed for this message. Answer now, from what you already have.';

export class AgentRunner {
  readonly agents: readonly AgentSpec[];
  readonly defaultAgent: AgentSpec;
  readonly #models: ReadonlyMap<string, ChatModel>;
  readonly #options: RunnerOptions;

  constructor(agents: readonly AgentSpec[], modelFor: (agent: AgentSpec) => ChatModel, options: RunnerOptions) {
    this.agents = agents;
    this.defaultAgent = defaultAgentOf(agents);
    this.#models = new Map(agents.map((agent) => [agent.name, modelFor(agent)]));
    this.#options = options;
  }

  /** The agent a message names, the default one when it names none, undefined for an unknown name. */
  select(name: string | undefined): AgentSpec | undefined {
    return name === undefined ? this.defaultAgent : this.agents.find((agent) => agent.name === name);
  }

  async *run(turn: Turn): AsyncGenerator<TurnEvent, void, undefined> {
    const { agent, signal, token } = turn;
    const conversations = agent.useHistory ? this.#options.conversations : undefined;
    const key = Conversations.key(turn.owner, agent.name, turn.contextId);
    const release = await conversations?.acquire(key, signal);
    const tools =
      agent.mcpServers.length > 0
        ? new McpSession(agent.mcpServers, { hubUrl: this.#options.hubUrl, token, owner: turn.owner, listings: this.#options.listings, limits: this.#options.mcpLimits, fetch: this.#options.mcpFetch })
        : undefined;
    try {
      let offered: ToolSpec[] = [];
      if (tools) {
        const listed = await tools.listTools(signal);
        offered = listed.tools;
        for (const problem of listed.problems) yield { type: 'progress', text: problem };
      }

      const user: ChatMessage = { role: 'user', content: turn.text };
      const messages: ChatMessage[] = [
        ...(agent.instruction ? [{ role: 'system' as const, content: agent.instruction }] : []),
        ...(conversations?.history(key) ?? []),
        user,
      ];
      const model = this.#models.get(agent.name)!;
      let answer = '';
      for (let round = 0; ; round++) {
        signal.throwIfAborted();
        const lastRound = round >= agent.maxIterations;
        if (lastRound && offered.length > 0) messages.push({ role: 'user', content: LAST_ROUND });
        let text = '';
        const calls: ToolCall[] = [];
        for await (const event of model.stream({ messages, tools: lastRound ? [] : offered, temperature: agent.temperature, maxTokens: agent.maxTokens, signal, token })) {
          if (event.type === 'text') {
            // Text from an earlier round (before a tool call) and this one are separate paragraphs.
            if (!text && answer && !/\s$/.test(answer)) {
              answer += '\n\n';
              yield { type: 'text', text: '\n\n' };
            }
            text += event.text;
            yield event;
          } else {
            calls.push(event.call);
          }
        }
        answer += text;
        if (calls.length === 0 || lastRound || !tools) break;

        messages.push({ role: 'assistant', content: text, toolCalls: calls });
        for (const call of calls) {
          const where = tools.describe(call.name);
          const label = where ? `${where.server}/${where.tool}` : call.name;
          yield { type: 'progress', text: `Calling ${label}${summarize(call.arguments)}` };
          const outcome = await tools.call(call.name, call.arguments, signal);
          yield { type: 'progress', text: outcome.ok ? `${label} returned ${outcome.text.length} characters` : `${label} failed: ${clip(outcome.text, 300)}` };
          messages.push({ role: 'tool', toolCallId: call.id, content: outcome.text });
        }
      }
      conversations?.record(key, user, { role: 'assistant', content: answer });
    } finally {
      await tools?.close();
      release?.();
    }
  }
}

const SECRET_KEY = /token|secret|passw|authori[sz]ation|api[-_]?key|credential|cookie/i;

/** A short, secret-free view of a tool call's arguments for progress messages. */
function summarize(argumentsJson: string): string {
  let args: unknown;
  try {
    args = JSON.parse(argumentsJson || '{}');
  } catch {
    return ' (arguments are not valid JSON)';
  }
  if (typeof args !== 'object' || args === null) return '';
  const shown = Object.entries(args).map(([name, value]) => `${name}: ${SECRET_KEY.test(name) ? '[redacted]' : clip(JSON.stringify(value) ?? '', 60)}`);
  return shown.length ? ` (${clip(redact(shown.join(', ')), 240)})` : '';
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
