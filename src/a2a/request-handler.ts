/**
 * The SDK's request handler, with one rule added: a task takes one message at a time. The SDK
 * accepts a message for a task that is still working, which would run a second turn on the same
 * task and event bus; here that message is refused until the first turn ends.
 */
import { TaskState, type AgentCard, type Message, type SendMessageRequest, type StreamResponse, type Task } from '@a2a-js/sdk';
import { UnsupportedOperationError } from '@a2a-js/sdk/errors';
import { DefaultRequestHandler, type AgentExecutor, type ExecutionEventBusManager, type ServerCallContext, type TaskStore } from '@a2a-js/sdk/server';

const BUSY = new Set([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING]);

/**
 * Set in a call's state when the caller waits for the finished task rather than watching it: its
 * answer need not go out word by word (see the executor).
 */
export const ANSWER_WANTED_WHOLE = 'agent-host.answer-wanted-whole';

export class AgentRequestHandler extends DefaultRequestHandler {
  readonly #tasks: TaskStore;

  constructor(card: AgentCard, tasks: TaskStore, executor: AgentExecutor, buses: ExecutionEventBusManager) {
    // No task keeps its event bus once its turn ends: this executor never pauses a task for input,
    // and one waiting for the caller's credential runs again when the caller sends again.
    super(card, tasks, executor, buses, undefined, undefined, undefined, undefined, { keepBusAliveStates: [] });
    this.#tasks = tasks;
  }

  override async sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Message | Task> {
    await this.#refuseIfBusy(params, context);
    if (!params.configuration?.returnImmediately) context.state.set(ANSWER_WANTED_WHOLE, true);
    return super.sendMessage(params, context);
  }

  override async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    await this.#refuseIfBusy(params, context);
    yield* super.sendMessageStream(params, context);
  }

  async #refuseIfBusy(params: SendMessageRequest, context: ServerCallContext): Promise<void> {
    const taskId = params.message?.taskId;
    if (!taskId) return;
    const state = (await this.#tasks.load(taskId, context))?.status?.state;
    if (state !== undefined && BUSY.has(state)) {
      throw new UnsupportedOperationError(`Task ${taskId} is still working on an earlier message. Wait until it ends, or cancel it, before sending another.`);
    }
  }
}
