/**
 * The agent loop: one turn of one agent for one caller. Builds the prompt from the card's
 * instruction, the conversation so far and the new message; offers the agent's MCP tools to the
 * model; runs the calls it asks for and feeds the results back, until it answers or its tool rounds
 * (`request_params.max_iterations`) are spent, when it must answer without tools. Records the turn
 * when it completes.
 *
 * It reports as it goes through a sink (answer text, and progress a person watching would want to
 * see) rather than by yielding: a push costs nothing per event, where each yield of an async
 * generator costs every event a promise round trip. Knows nothing about A2A, HTTP or Hugging Face:
 * models and tool sessions come in through the ports.
 */
import type { Caller } from '../auth/caller.ts';
import { SECRET_NAME, type Credential } from '../auth/credentials.ts';
import { clip } from '../util/clip.ts';
import { flat } from '../util/flat.ts';
import { redact } from '../util/redact.ts';
import type { AgentSet, AgentSpec } from './agent-set.ts';
import type { Conversations } from './conversations.ts';
import type { ChatMessage, ChatModel, ModelRequest, ToolCall, ToolSession, ToolSessionFactory, ToolSpec } from './ports.ts';

export interface Turn {
  agent: AgentSpec;
  /** Who the turn works for: owns the conversation, and lends its credential to every call. */
  caller: Caller;
  /** The tenant and context the conversation lives under. */
  tenant: string;
  contextId: string;
  text: string;
}

/**
 * Where a turn reports (answer text as it streams, progress such as a tool starting or ending, each
 * tool call made), and what tells it to stop.
 */
export interface TurnSink {
  /**
   * Aborted when the turn must stop (a cancel, a time limit, a restart). Read it only where it is
   * needed: a run makes its AbortController on first use, which costs more than the rest of a short
   * turn.
   */
  readonly signal: AbortSignal;
  text(delta: string): void;
  progress(text: string): void;
  toolCalled(): void;
}

export interface RunnerParts {
  agents: AgentSet;
  /** The model each agent runs on. */
  modelFor: (agent: AgentSpec) => ChatModel;
  /** Opens a turn's MCP tools as its caller. */
  openTools: ToolSessionFactory;
  /** Undefined in `request` scope, where every message stands alone. */
  conversations: Conversations | undefined;
}

const LAST_ROUND = 'You have made every tool call allowed for this message. Answer now, from what you already have.';

export class AgentRunner {
  readonly agents: AgentSet;
  readonly #models: ReadonlyMap<string, ChatModel>;
  readonly #openTools: ToolSessionFactory;
  readonly #conversations: Conversations | undefined;

  constructor({ agents, modelFor, openTools, conversations }: RunnerParts) {
    this.agents = agents;
    this.#models = new Map(agents.all.map((agent) => [agent.name, modelFor(agent)]));
    this.#openTools = openTools;
    this.#conversations = conversations;
  }

  /** Runs the turn to its end; throws AgentError, or the signal's reason once it is aborted. */
  async run(turn: Turn, sink: TurnSink): Promise<void> {
    const { agent, caller } = turn;
    const conversations = agent.useHistory ? this.#conversations : undefined;
    const conversation = conversations && (await conversations.begin({ owner: caller.id, tenant: turn.tenant, agent: agent.name, contextId: turn.contextId }, sink));
    let tools: ToolSession | undefined;
    try {
      // Opened inside the try: whatever happens from here, the conversation is released.
      tools = agent.mcpServers.length > 0 ? this.#openTools(agent.mcpServers, caller) : undefined;
      let offered: ToolSpec[] = [];
      if (tools) {
        const listed = await tools.listTools(sink.signal);
        offered = listed.tools;
        for (const problem of listed.problems) sink.progress(problem);
      }

      const user: ChatMessage = { role: 'user', content: turn.text };
      const messages: ChatMessage[] = agent.instruction ? [{ role: 'system', content: agent.instruction }] : [];
      if (conversation) for (const message of conversation.history) messages.push(message);
      messages.push(user);
      const model = this.#models.get(agent.name)!;
      let answer = '';
      for (let round = 0; ; round++) {
        if (round > 0) sink.signal.throwIfAborted();
        const lastRound = round >= agent.maxIterations;
        if (lastRound && offered.length > 0) messages.push({ role: 'user', content: LAST_ROUND });
        let text = '';
        const calls: ToolCall[] = [];
        const request = new RoundRequest(messages, lastRound ? [] : offered, agent, caller, sink);
        await model.stream(request, {
          text(delta) {
            // Text from an earlier round (before a tool call) and this one are separate paragraphs.
            if (!text && answer && !/\s$/.test(answer)) {
              answer += '\n\n';
              sink.text('\n\n');
            }
            text += delta;
            sink.text(delta);
          },
          toolCall(call) {
            calls.push(call);
          },
        });
        answer += text;
        if (calls.length === 0 || lastRound || !tools) break;

        messages.push({ role: 'assistant', content: text, toolCalls: calls });
        for (const call of calls) {
          const where = tools.describe(call.name);
          const label = where ? `${where.server}/${where.tool}` : call.name;
          sink.progress(`Calling ${label}${summarize(call.arguments)}`);
          sink.toolCalled();
          const outcome = await tools.call(call.name, call.arguments, sink.signal);
          const result = boundForModel(outcome.text, caller);
          sink.progress(outcome.ok ? `${label} returned ${result.length} characters` : `${label} failed: ${clip(result, 300)}`);
          messages.push({ role: 'tool', toolCallId: call.id, content: result });
        }
      }
      conversation?.record(user, { role: 'assistant', content: flat(answer) });
    } finally {
      if (tools) await tools.close();
      conversation?.release();
    }
  }
}

/**
 * One round's request to the model. Its signal is the turn's, read only if the model reads it: a
 * class, because an object literal with a getter is built through a slow path every time.
 */
class RoundRequest implements ModelRequest {
  readonly temperature: number | undefined;
  readonly maxTokens: number | undefined;
  readonly credential: Credential | undefined;
  readonly #sink: TurnSink;

  constructor(
    readonly messages: ChatMessage[],
    readonly tools: ToolSpec[],
    agent: AgentSpec,
    caller: Caller,
    sink: TurnSink,
  ) {
    this.temperature = agent.temperature;
    this.maxTokens = agent.maxTokens;
    this.credential = caller.credential;
    this.#sink = sink;
  }

  get signal(): AbortSignal {
    return this.#sink.signal;
  }
}

/**
 * A tool result is text bound for the model: a server that echoes the request it got (headers
 * included) must not put the caller's token into the prompt, and from there into the answer.
 */
function boundForModel(text: string, caller: Caller): string {
  return redact(caller.credential ? caller.credential.scrub(text) : text);
}

/**
 * A short view of a tool call's arguments for progress messages, with secret-named values hidden.
 * Values are redacted before they are clipped: a clip can cut a secret below the length its
 * pattern needs to be recognised later.
 */
function summarize(argumentsJson: string): string {
  let args: unknown;
  try {
    args = JSON.parse(argumentsJson || '{}');
  } catch {
    return ' (arguments are not valid JSON)';
  }
  if (typeof args !== 'object' || args === null) return '';
  const shown = Object.entries(args).map(([name, value]) => `${name}: ${SECRET_NAME.test(name) ? '[redacted]' : clip(redact(JSON.stringify(value) ?? ''), 60)}`);
  return shown.length ? ` (${clip(shown.join(', '), 240)})` : '';
}

