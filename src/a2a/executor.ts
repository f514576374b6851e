/**
 * The AgentExecutor: turns one A2A message into one agent turn and the turn's progress into A2A
 * events. A task goes submitted -> working -> (answer streamed as chunks of one artifact) ->
 * completed, or ends failed, canceled or rejected with a status message that says why.
 */
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import type { AgentRunner } from '../agents/runner.ts';
import { ModelError } from '../agents/model.ts';
import { McpCredentialRefused } from '../hf/mcp.ts';
import { Caller } from '../auth/caller.ts';
import { ANSWER_WANTED_WHOLE } from './request-handler.ts';
import { describeError, log } from '../util/log.ts';
import { redact } from '../util/redact.ts';

export const RESPONSE_ARTIFACT = 'response';
/** The longest a piece of the answer waits before it is sent. */
const FLUSH_MS = 50;

export class AgentTaskExecutor implements AgentExecutor {
  readonly #runner: AgentRunner;
  /** Turns in flight, so cancel can abort the model and tool calls of exactly that task. */
  readonly #running = new Map<string, AbortController>();

  constructor(runner: AgentRunner) {
    this.#runner = runner;
  }

  execute = async (request: RequestContext, bus: ExecutionEventBus): Promise<void> => {
    const { taskId, contextId } = request;
    const events = new TaskEvents(bus, taskId, contextId, request.context.state.get(ANSWER_WANTED_WHOLE) === true);
    const message = request.userMessage;
    const requested = message.metadata?.agent ?? request.request.metadata?.agent;
    const agent = typeof requested === 'string' || requested === undefined ? this.#runner.select(requested) : undefined;

    events.start(request.task, message, agent?.name);
    if (!agent) {
      const names = this.#runner.agents.map((a) => a.name).join(', ');
      return events.end(TaskState.TASK_STATE_REJECTED, `There is no agent named ${JSON.stringify(requested)} here. Available agents: ${names}.`);
    }
    const text = textOf(message);
    if (!text.trim()) {
      return events.end(TaskState.TASK_STATE_REJECTED, 'The message has no text. Send at least one text part.');
    }

    const controller = new AbortController();
    this.#running.set(taskId, controller);
    const caller = request.context.user instanceof Caller ? request.context.user : undefined;
    try {
      if (request.task) events.working();
      const answer = this.#runner.run({
        agent,
        owner: caller?.userName ?? '',
        contextId,
        text,
        token: caller?.token,
        signal: controller.signal,
      });
      for await (const event of answer) {
        if (event.type === 'text') events.chunk(event.text);
        else events.progress(redact(event.text));
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      events.lastChunk();
      events.end(TaskState.TASK_STATE_COMPLETED);
    } catch (error) {
      if (controller.signal.aborted) {
        events.end(TaskState.TASK_STATE_CANCELED, 'Canceled at the caller\'s request.');
      } else if (error instanceof McpCredentialRefused) {
        // Not terminal: the caller can send the message again with a credential that works.
        events.end(TaskState.TASK_STATE_AUTH_REQUIRED, error.message);
      } else if (error instanceof ModelError) {
        events.end(TaskState.TASK_STATE_FAILED, redact(error.message));
      } else {
        log.error('agent turn failed', { taskId, agent: agent.name, error: describeError(error) });
        events.end(TaskState.TASK_STATE_FAILED, 'The agent failed unexpectedly. The server log has the details; try again.');
      }
    } finally {
      this.#running.delete(taskId);
    }
  };

  cancelTask = async (taskId: string, bus: ExecutionEventBus): Promise<void> => {
    const controller = this.#running.get(taskId);
    if (controller) {
      // execute() sees the abort, stops the model call and publishes the canceled status itself.
      controller.abort(new DOMException('The task was canceled.', 'AbortError'));
      return;
    }
    // A bus with no turn behind it (the turn has just ended): say canceled so the cancel can finish.
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId: '', status: status(TaskState.TASK_STATE_CANCELED, undefined), metadata: {} }));
  };
}

/** Publishes one task's events in the order A2A requires. */
class TaskEvents {
  #chunks = 0;
  #pending = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: ExecutionEventBus,
    private readonly taskId: string,
    private readonly contextId: string,
    /** Nobody waits for the first words, so they need not go out at once. */
    private readonly wantedWhole: boolean,
  ) {}

  /**
   * Every turn begins with the task, new or continued. A new task that an agent will take starts out
   * working: a separate "submitted" step would only cost every task one more event.
   */
  start(existing: Task | undefined, message: Message, agent: string | undefined): void {
    this.bus.publish(
      AgentEvent.task(
        existing ?? {
          id: this.taskId,
          contextId: this.contextId,
          status: status(agent ? TaskState.TASK_STATE_WORKING : TaskState.TASK_STATE_SUBMITTED, undefined),
          artifacts: [],
          history: [message],
          metadata: agent ? { agent } : {},
        },
      ),
    );
  }

  working(): void {
    this.#status(TaskState.TASK_STATE_WORKING, undefined);
  }

  /** Still working, with a word on what is happening (a tool starting or ending). */
  progress(text: string): void {
    this.#flush(false);
    this.#status(TaskState.TASK_STATE_WORKING, agentMessage(text, this.taskId, this.contextId));
  }

  /**
   * The answer streams as it comes, but at most one chunk per FLUSH_MS after the first: every chunk
   * is an event the SDK stores (copying the whole task each time) and every client must parse, so a
   * chunk per token would make a long answer cost the square of its length. The first delta goes out
   * at once, so the first words show without delay, unless the caller waits for the whole answer.
   */
  chunk(delta: string): void {
    this.#pending += delta;
    if (this.#chunks === 0 && !this.wantedWhole) this.#flush(false);
    else this.#timer ??= setTimeout(() => this.#flush(false), FLUSH_MS);
  }

  /** The model has stopped: what is left goes out marked as the last chunk (empty if nothing is). */
  lastChunk(): void {
    this.#flush(true);
  }

  end(state: TaskState, text?: string): void {
    this.#flush(false);
    this.#status(state, text === undefined ? undefined : agentMessage(text, this.taskId, this.contextId));
  }

  #flush(last: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending || last) this.#artifact(this.#pending, last);
    this.#pending = '';
  }

  #status(state: TaskState, message: Message | undefined): void {
    this.bus.publish(AgentEvent.statusUpdate({ taskId: this.taskId, contextId: this.contextId, status: status(state, message), metadata: {} }));
  }

  #artifact(text: string, last: boolean): void {
    this.bus.publish(
      AgentEvent.artifactUpdate({
        taskId: this.taskId,
        contextId: this.contextId,
        artifact: { artifactId: RESPONSE_ARTIFACT, name: RESPONSE_ARTIFACT, description: '', parts: [textPart(text)], metadata: undefined, extensions: [] },
        append: this.#chunks++ > 0,
        lastChunk: last,
        metadata: undefined,
      }),
    );
  }
}

function status(state: TaskState, message: Message | undefined) {
  return { state, message, timestamp: new Date().toISOString() };
}

function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined };
}

function agentMessage(text: string, taskId: string, contextId: string): Message {
  return {
    messageId: crypto.randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

/** The prompt a message carries: its text parts, and its data parts as JSON. */
function textOf(message: Message): string {
  const pieces: string[] = [];
  for (const part of message.parts ?? []) {
    if (part.content?.$case === 'text') pieces.push(part.content.value);
    else if (part.content?.$case === 'data') pieces.push(JSON.stringify(part.content.value));
  }
  return pieces.join('\n');
}
