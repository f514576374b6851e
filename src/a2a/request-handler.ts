/**
 * The A2A task lifecycle, from a message to its final event: this server's own request handler,
 * behind the SDK's `A2ARequestHandler` interface so that the SDK's JSON-RPC transports (1.0 and the
 * 0.3 compatibility layer) and our REST binding call it unchanged.
 *
 * A message starts one turn of one agent on a task (new, or an interrupted one it continues). The
 * turn changes its task in place (task-run.ts); a blocking send waits for it to end, a
 * `returnImmediately` send answers with a snapshot at once, a streamed send and SubscribeToTask
 * watch it. Nothing is copied per event and nothing is built for nobody: the SDK's default handler
 * loads, clones and saves the task on every event, which measured as most of a request's CPU.
 *
 * Callers see only their own tasks (owner and tenant): anything else is "task not found".
 *
 * Every agent can also be served as an A2A agent of its own (forAgent): the same tasks and limits,
 * with the agent fixed, whatever a message names, and only that agent's tasks in view. Methods take
 * that agent as an optional last argument, which the SDK's transports never pass.
 */
import { TaskState, type AgentCard, type CancelTaskRequest, type GetTaskRequest, type ListTasksRequest, type ListTasksResponse, type Message, type SendMessageRequest, type StreamResponse, type SubscribeToTaskRequest, type Task, type TaskPushNotificationConfig } from '@a2a-js/sdk';
import {
  PushNotificationNotSupportedError,
  RequestMalformedError,
  TaskNotCancelableError,
  TaskNotFoundError,
  UnsupportedOperationError,
} from '@a2a-js/sdk/errors';
import type { A2ARequestHandler, ServerCallContext } from '@a2a-js/sdk/server';
import type { AgentSpec } from '../agents/agent-set.ts';
import { AgentError } from '../agents/ports.ts';
import type { AgentRunner } from '../agents/runner.ts';
import { denial } from '../auth/access.ts';
import { Caller } from '../auth/caller.ts';
import { DownstreamUnavailable, type AccessDenied } from '../auth/errors.ts';
import { isoNow } from '../util/iso-time.ts';
import { randomUuid } from '../util/uuid.ts';
import { forV03, isLegacyVersion } from './card.ts';
import { callerMessage, copyTask, isFinal, StopReason, TaskRun, type Subscriber } from './task-run.ts';
import { newTaskRecord, type TaskRecord, type TaskScope, type TaskStore } from './task-store.ts';
import { listedWeight, TASK_OVERHEAD, weighMessage } from './task-weight.ts';

export interface TaskHandlerLimits {
  /** The longest an answer chunk waits before it is sent to watchers, in ms (default 50). */
  flushMs: number;
  /** Events a watcher may fall behind by before it is dropped (default 1,000). */
  maxQueuedEvents: number;
  /** Wall-clock limit of one turn, in ms (default 15 min); past it the task fails. */
  maxTurnMs: number;
  /** How long a canceled turn may take to stop before its task is ended without it, in ms (default 5 s). */
  stopGraceMs: number;
  /** Turns one caller may have running at once (default 16). */
  maxRunningPerCaller: number;
  /** Streams (streamed sends and subscriptions) one caller may have open at once (default 32). */
  maxWatchingPerCaller: number;
}

const DEFAULT_HANDLER_LIMITS: TaskHandlerLimits = {
  flushMs: 50,
  maxQueuedEvents: 1_000,
  maxTurnMs: 15 * 60 * 1000,
  stopGraceMs: 5_000,
  maxRunningPerCaller: 16,
  maxWatchingPerCaller: 32,
};

/** ListTasks: tasks per page when the caller names no size, and the most it may ask for (the spec's). */
const LIST_PAGE_SIZE = { default: 50, max: 100 } as const;

/**
 * ListTasks: messages of history per task when the caller names no number (a list is for finding
 * tasks; GetTask reads one in full), and the most it returns whatever the caller asks.
 */
const LIST_HISTORY_LENGTH = { default: 0, max: 20 } as const;

/**
 * Where a binding that serves a stream puts, in the call's context state, an AbortSignal that fires
 * when the client leaves. The handler then lets go of the stream at once: an async generator waiting
 * for its next event cannot be returned until that event comes, which could hold the caller's stream
 * slot for as long as a tool call or a silent model takes.
 */
export const CLIENT_GONE = 'a2a-host.client-gone';

/**
 * Where the handler puts, in the context state of a blocking send, how the turn it waited for ended
 * (a TurnEnded): the binding hands it to the request's log line, so such a request is one line.
 */
export const TURN_ENDED = 'a2a-host.turn-ended';

/**
 * A caller has reached one of its caps on concurrent work. On the wire it is an
 * UnsupportedOperationError (the protocol has no "busy"), whose ErrorInfo metadata carries
 * `retryAfterSeconds`; the bindings answer it with HTTP 429 and Retry-After.
 */
export class CallerBusyError extends UnsupportedOperationError {
  // The SDK maps errors to codes by name: keep the protocol's.
  override name = 'UnsupportedOperationError';
  constructor(
    message: string,
    /** Seconds after which trying again makes sense. */
    readonly retryAfterSeconds: number,
  ) {
    super({ message, metadata: { retryAfterSeconds: String(retryAfterSeconds) } });
  }
}

/**
 * The caller may not use the agent a request addresses (its `scopes:` or `allow:`), so nothing ran.
 * On the wire an UnsupportedOperationError (the protocol has no "forbidden"), whose ErrorInfo
 * metadata carries `httpStatus` 403 and, for a missing scope, `scope`: the bindings answer it with
 * HTTP 403 and, for a scope, an RFC 6750 insufficient_scope challenge.
 */
export class AgentAccessDeniedError extends UnsupportedOperationError {
  // The SDK maps errors to codes by name: keep the protocol's.
  override name = 'UnsupportedOperationError';
  constructor(readonly denied: AccessDenied) {
    super({ message: denied.message, metadata: { httpStatus: '403', reason: denied.code, ...(denied.scopes.length > 0 && { scope: denied.scopes.join(' ') }) } });
  }
}

/** What a turn came to, for the log line and the metrics of each task end. */
export interface TurnEnded {
  taskId: string;
  caller: string;
  agent: string;
  model: string;
  state: string;
  toolCalls: number;
  ms: number;
  /** A blocking send waited for the turn: its request reports the turn (TURN_ENDED), so no line of its own is needed. */
  reportedByRequest: boolean;
}

export interface TaskHandlerParts {
  card: AgentCard;
  store: TaskStore;
  runner: AgentRunner;
  limits?: Partial<TaskHandlerLimits>;
  /** Called as each turn ends (default: nothing). */
  onTurnEnd?: (ended: TurnEnded) => void;
}

const ANONYMOUS = new Caller({ id: '', credential: undefined, authenticated: false });

export class TaskHandler implements A2ARequestHandler {
  readonly #card: AgentCard;
  readonly #store: TaskStore;
  readonly #runner: AgentRunner;
  readonly #limits: TaskHandlerLimits;
  /** Every turn in flight, with its agent: for the wall-clock limit, shutdown, and each turn's report. */
  readonly #running = new Map<TaskRun, AgentSpec>();
  /**
   * A new task's metadata by agent name: one frozen object per agent, shared by all its tasks (one
   * object fewer per stored task; see NO_STRINGS in task-run.ts). A continued task gets a new object.
   */
  readonly #metadataOf: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly #runningByCaller = new Map<string, number>();
  readonly #watchingByCaller = new Map<string, number>();
  #watching = 0;
  readonly #onTurnEnd: (ended: TurnEnded) => void;
  /** One timer for every turn's wall-clock limit, rather than a timer per request. */
  readonly #sweep: NodeJS.Timeout;

  constructor({ card, store, runner, limits, onTurnEnd = () => {} }: TaskHandlerParts) {
    this.#card = card;
    this.#onTurnEnd = onTurnEnd;
    this.#store = store;
    this.#runner = runner;
    this.#metadataOf = new Map(runner.agents.all.map((agent) => [agent.name, Object.freeze({ agent: agent.name })]));
    this.#limits = { ...DEFAULT_HANDLER_LIMITS, ...limits };
    this.#sweep = setInterval(() => this.#stopOverdue(), Math.min(1_000, this.#limits.maxTurnMs)).unref();
  }

  /** Turns in flight. */
  get running(): number {
    return this.#running.size;
  }

  /** Streams (streamed sends and subscriptions) open. */
  get watching(): number {
    return this.#watching;
  }

  async getAgentCard(): Promise<AgentCard> {
    return this.#card;
  }

  /**
   * The card as this caller may use it: the skills of the agents they may use. Without inbound
   * authentication the card says `extendedAgentCard: false`, for which the spec requires
   * UnsupportedOperationError.
   */
  async getAuthenticatedExtendedAgentCard(_params?: unknown, context?: ServerCallContext): Promise<AgentCard> {
    if (!this.#card.capabilities?.extendedAgentCard) {
      throw new UnsupportedOperationError('This agent has no extended card; its public card at /.well-known/agent-card.json is complete.');
    }
    const caller = context ? callerOf(context) : ANONYMOUS;
    const card = {
      ...this.#card,
      skills: this.#card.skills.filter((skill) => {
        const agent = this.#runner.agents.select(skill.id);
        return agent !== undefined && denial(caller, agent.access, '') === undefined;
      }),
    };
    return versioned(card, context);
  }

  /** A view of this handler that serves `agent` alone, under its own card; a caller who may not use the agent gets 403 for everything. */
  forAgent(agent: AgentSpec, card: AgentCard): A2ARequestHandler {
    const allowed = (context: ServerCallContext) => authorize(callerOf(context), agent);
    return {
      getAgentCard: async () => card,
      getAuthenticatedExtendedAgentCard: async (_params, context) => {
        if (!card.capabilities?.extendedAgentCard) return this.getAuthenticatedExtendedAgentCard();
        allowed(context);
        return versioned(card, context);
      },
      sendMessage: (params, context) => this.sendMessage(params, context, agent),
      sendMessageStream: (params, context) => this.sendMessageStream(params, context, agent),
      resubscribe: (params, context) => this.#checked(allowed, context, this.resubscribe(params, context, agent)),
      getTask: async (params, context) => (allowed(context), this.getTask(params, context, agent)),
      listTasks: async (params, context) => (allowed(context), this.listTasks(params, context, agent)),
      cancelTask: async (params, context) => (allowed(context), this.cancelTask(params, context, agent)),
      createTaskPushNotificationConfig: () => this.createTaskPushNotificationConfig(),
      getTaskPushNotificationConfig: () => this.getTaskPushNotificationConfig(),
      listTaskPushNotificationConfigs: () => this.listTaskPushNotificationConfigs(),
      deleteTaskPushNotificationConfig: () => this.deleteTaskPushNotificationConfig(),
    };
  }

  /** `events`, once `check` has passed: a refusal comes from the first step, as a stream's other early failures do. */
  async *#checked(check: (context: ServerCallContext) => void, context: ServerCallContext, events: AsyncGenerator<StreamResponse, void, undefined>): AsyncGenerator<StreamResponse, void, undefined> {
    check(context);
    yield* events;
  }

  async sendMessage(params: SendMessageRequest, context: ServerCallContext, only?: AgentSpec): Promise<Message | Task> {
    const immediate = params.configuration?.returnImmediately === true;
    const { run, start } = this.#begin(params, context, only, immediate ? undefined : context);
    const historyLength = params.configuration?.historyLength;
    start();
    if (immediate) return run.snapshot(historyLength);
    await run.done;
    return copyTask(run.record.task, historyLength);
  }

  async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext, only?: AgentSpec): AsyncGenerator<StreamResponse, void, undefined> {
    const caller = callerOf(context);
    this.#checkWatching(caller);
    const { run, start } = this.#begin(params, context, only);
    const first = run.snapshotForSubscribers(params.configuration?.historyLength);
    const subscriber = this.#watch(run, caller, context);
    start();
    try {
      yield { payload: { $case: 'task', value: first } };
      yield* subscriber;
    } finally {
      this.#unwatch(caller, subscriber);
    }
  }

  async *resubscribe(params: SubscribeToTaskRequest, context: ServerCallContext, only?: AgentSpec): AsyncGenerator<StreamResponse, void, undefined> {
    const record = this.#find(params, context, only);
    const state = record.task.status?.state;
    if (isFinal(state)) {
      throw new UnsupportedOperationError(`Task ${record.task.id} has already ended (${stateName(state)}), so there is nothing to follow; read it with GetTask.`);
    }
    const run = record.run;
    if (!run) {
      // Interrupted, waiting for the caller's next message: the task as it is is all there is.
      yield { payload: { $case: 'task', value: copyTask(record.task, undefined) } };
      return;
    }
    const caller = callerOf(context);
    this.#checkWatching(caller);
    const first = run.snapshotForSubscribers();
    const subscriber = this.#watch(run, caller, context);
    try {
      yield { payload: { $case: 'task', value: first } };
      yield* subscriber;
    } finally {
      this.#unwatch(caller, subscriber);
    }
  }

  async getTask(params: GetTaskRequest, context: ServerCallContext, only?: AgentSpec): Promise<Task> {
    const record = this.#find(params, context, only);
    return record.run ? record.run.snapshot(params.historyLength) : copyTask(record.task, params.historyLength);
  }

  async listTasks(params: ListTasksRequest, context: ServerCallContext, only?: AgentSpec): Promise<ListTasksResponse> {
    const pageSize = Math.min(params.pageSize || LIST_PAGE_SIZE.default, LIST_PAGE_SIZE.max);
    const historyLength = Math.min(params.historyLength ?? LIST_HISTORY_LENGTH.default, LIST_HISTORY_LENGTH.max);
    const page = this.#store.list(this.#scope(params.tenant, context), {
      contextId: params.contextId || undefined,
      agent: only?.name,
      state: params.status || undefined, // 0 is "unspecified": no filter
      changedAfter: params.statusTimestampAfter ? Date.parse(params.statusTimestampAfter) : undefined,
      pageSize,
      pageToken: params.pageToken || undefined,
      listedWeight: (record) => listedWeight(record, historyLength, params.includeArtifacts === true),
    });
    const tasks = page.records.map((record) => {
      const task = record.run ? record.run.snapshot(historyLength) : copyTask(record.task, historyLength);
      if (!params.includeArtifacts) task.artifacts = [];
      return task;
    });
    return { tasks, nextPageToken: page.nextPageToken, pageSize, totalSize: page.totalSize };
  }

  async cancelTask(params: CancelTaskRequest, context: ServerCallContext, only?: AgentSpec): Promise<Task> {
    const record = this.#find(params, context, only);
    const state = record.task.status?.state;
    if (isFinal(state)) {
      throw new TaskNotCancelableError(`Task ${record.task.id} is not cancelable: it has already ended (${stateName(state)}).`);
    }
    const reason = new StopReason(TaskState.TASK_STATE_CANCELED, "Canceled at the caller's request.");
    if (record.run) await record.run.stop(reason, this.#limits.stopGraceMs);
    else this.#newRun(record, callerOf(context)).end(reason.state, reason.message);
    if (record.task.status?.state !== TaskState.TASK_STATE_CANCELED) {
      throw new TaskNotCancelableError(`Task ${record.task.id} is not cancelable: it ended (${stateName(record.task.status?.state)}) before the cancel reached it.`);
    }
    return copyTask(record.task, undefined);
  }

  async createTaskPushNotificationConfig(): Promise<TaskPushNotificationConfig> {
    throw pushNotSupported();
  }

  async getTaskPushNotificationConfig(): Promise<TaskPushNotificationConfig> {
    throw pushNotSupported();
  }

  async listTaskPushNotificationConfigs(): Promise<never> {
    throw pushNotSupported();
  }

  async deleteTaskPushNotificationConfig(): Promise<void> {
    throw pushNotSupported();
  }

  /**
   * For a restart: lets the turns in flight finish for up to `drainMs`, then ends the rest with
   * `reason` (waiting up to the stop grace for each to stop), and stops the handler's timer.
   */
  async close(reason: StopReason, drainMs: number): Promise<void> {
    const deadline = Date.now() + drainMs;
    while (this.#running.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.#running.keys()].map((run) => run.done)), new Promise((resolve) => setTimeout(resolve, deadline - Date.now()))]);
    }
    clearInterval(this.#sweep);
    await Promise.all([...this.#running.keys()].map((run) => run.stop(reason, this.#limits.stopGraceMs)));
  }

  /**
   * Takes a message: checks it against the task it continues (if any), records it, and prepares the
   * turn, which begins when `start` is called (after a streamed send has subscribed).
   */
  #begin(params: SendMessageRequest, context: ServerCallContext, only: AgentSpec | undefined, waiting?: ServerCallContext): { run: TaskRun; start: () => void } {
    const message = params.message;
    if (!message) throw new RequestMalformedError('Invalid params: "message" is required.');
    const caller = callerOf(context);
    const scope = this.#scope(params.tenant, context);
    const named = agentNamed(message, params);

    let record: TaskRecord;
    let agent: AgentSpec | undefined;
    if (message.taskId) {
      record = this.#find({ id: message.taskId, tenant: params.tenant }, context, only);
      const { task } = record;
      if (record.run) {
        throw new UnsupportedOperationError(`Task ${task.id} is still working on an earlier message. Wait until it ends, or cancel it, before sending another.`);
      }
      if (isFinal(task.status?.state)) {
        throw new UnsupportedOperationError(
          `Task ${task.id} has already ended (${stateName(task.status?.state)}) and takes no more messages; send the message without a taskId, with contextId "${task.contextId}" to continue the conversation.`,
        );
      }
      if (message.contextId && message.contextId !== task.contextId) {
        throw new RequestMalformedError(`Invalid params: message.contextId "${message.contextId}" is not the context of task ${task.id} ("${task.contextId}").`);
      }
      this.#checkRunning(caller);
      // The task's own agent unless the message names another; an unknown name is refused here,
      // leaving the task as it was, rather than ending a task the caller could still continue.
      const wanted = named ?? task.metadata?.agent;
      agent = only ?? (wanted === undefined ? this.#runner.agents.default : typeof wanted === 'string' ? this.#runner.agents.select(wanted) : undefined);
      if (!agent) throw new RequestMalformedError(`Invalid params: there is no agent named ${JSON.stringify(wanted)} here. Available agents: ${this.#runner.agents.names}.`);
      authorize(caller, agent);
      task.metadata = { ...task.metadata, agent: agent.name };
      task.history.push(callerMessage(message, task));
      record.weight += weighMessage(message);
    } else {
      this.#checkRunning(caller);
      agent = only ?? (named === undefined ? this.#runner.agents.default : typeof named === 'string' ? this.#runner.agents.select(named) : undefined);
      if (agent) authorize(caller, agent);
      const id = randomUuid();
      const contextId = message.contextId || randomUuid();
      const task: Task = {
        id,
        contextId,
        // A task that an agent will take starts out working: a separate "submitted" step would only cost an event.
        status: { state: agent ? TaskState.TASK_STATE_WORKING : TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: isoNow() },
        artifacts: [],
        history: [callerMessage(message, { id, contextId })],
        metadata: agent ? (this.#metadataOf.get(agent.name) ?? { agent: agent.name }) : {},
      };
      record = newTaskRecord(scope, task, TASK_OVERHEAD + weighMessage(message));
    }

    // The run exists before the record is stored, so the store sees a running (pinned) task.
    const run = this.#newRun(record, caller, waiting);
    if (!message.taskId) this.#store.add(record);
    const start = () => {
      if (!agent) return run.end(TaskState.TASK_STATE_REJECTED, `There is no agent named ${JSON.stringify(named)} here. Available agents: ${this.#runner.agents.names}.`);
      const text = promptOf(message);
      if (!text.trim()) return run.end(TaskState.TASK_STATE_REJECTED, 'The message has no text. Send at least one text part.');
      if (record.task.status?.state !== TaskState.TASK_STATE_WORKING) run.working();
      this.#counted(this.#runningByCaller, caller.id, +1);
      this.#running.set(run, agent);
      const turn = (acting: Caller, sink: TaskRun) => this.#runner.run({ agent, caller: acting, tenant: record.tenant, contextId: record.task.contextId, text }, sink);
      // A credential obtained per turn (an exchanged Hugging Face token) is had before the loop runs, and only when the agent calls Hugging Face.
      run.start(caller.downstreamReady || !agent.callsHuggingFace ? (sink) => turn(caller, sink) : async (sink) => turn(await downstreamCaller(caller, sink.signal), sink));
    };
    return { run, start };
  }

  /** A run of `record`'s task for `caller`; `waiting`: the call of a blocking send, told how the turn ended. */
  #newRun(record: TaskRecord, caller: Caller, waiting?: ServerCallContext): TaskRun {
    return new TaskRun(record, caller, {
      flushMs: this.#limits.flushMs,
      maxQueuedEvents: this.#limits.maxQueuedEvents,
      onEnd: (run) => {
        const agent = this.#running.get(run);
        if (agent) {
          this.#running.delete(run);
          this.#counted(this.#runningByCaller, caller.id, -1);
          const { task } = record;
          const ended = { taskId: task.id, caller: caller.id, agent: agent.name, model: agent.modelName, state: stateName(task.status?.state), toolCalls: run.toolCalls, ms: Date.now() - run.startedAt, reportedByRequest: waiting !== undefined };
          waiting?.state.set(TURN_ENDED, ended);
          this.#onTurnEnd(ended);
        }
        // Weigh the finished task again (its answer is in now) and start its age from its end.
        this.#store.changed(record);
      },
    });
  }

  #checkRunning(caller: Caller): void {
    if ((this.#runningByCaller.get(caller.id) ?? 0) >= this.#limits.maxRunningPerCaller) {
      throw new CallerBusyError(`You already have ${this.#limits.maxRunningPerCaller} tasks running. Wait for one to end, or cancel one, then send again.`, 5);
    }
  }

  #checkWatching(caller: Caller): void {
    if ((this.#watchingByCaller.get(caller.id) ?? 0) >= this.#limits.maxWatchingPerCaller) {
      throw new CallerBusyError(`You already have ${this.#limits.maxWatchingPerCaller} streams open. Close one before opening another.`, 5);
    }
  }

  #watch(run: TaskRun, caller: Caller, context: ServerCallContext): Subscriber {
    this.#counted(this.#watchingByCaller, caller.id, +1);
    this.#watching++;
    const subscriber = run.subscribe();
    const gone = context.state.get(CLIENT_GONE);
    if (gone instanceof AbortSignal) gone.addEventListener('abort', () => subscriber.close(), { once: true });
    return subscriber;
  }

  #unwatch(caller: Caller, subscriber: Subscriber): void {
    void subscriber.return();
    this.#counted(this.#watchingByCaller, caller.id, -1);
    this.#watching--;
  }

  #counted(counts: Map<string, number>, key: string, delta: number): void {
    const next = (counts.get(key) ?? 0) + delta;
    if (next > 0) counts.set(key, next);
    else counts.delete(key);
  }

  #stopOverdue(): void {
    const deadline = Date.now() - this.#limits.maxTurnMs;
    for (const run of this.#running.keys()) {
      if (run.startedAt > deadline || run.aborted) continue;
      // stop, not abort: a turn that ignores its signal still ends, after the grace.
      void run.stop(new StopReason(TaskState.TASK_STATE_FAILED, `The agent took longer than ${Math.round(this.#limits.maxTurnMs / 1000)} s, so its turn was stopped. Ask for something smaller, or try again.`), this.#limits.stopGraceMs);
    }
  }

  /** The caller's task `params.id` (one of `only`'s, when given), or TaskNotFound. */
  #find(params: { id: string; tenant?: string }, context: ServerCallContext, only: AgentSpec | undefined): TaskRecord {
    if (!params.id) throw new RequestMalformedError('Invalid params: "id" (the task id) is required.');
    const record = this.#store.get(this.#scope(params.tenant, context), params.id);
    if (!record || (only && record.task.metadata?.agent !== only.name)) notFound(params.id);
    return record;
  }

  #scope(tenant: string | undefined, context: ServerCallContext): TaskScope {
    return { owner: callerOf(context).id, tenant: tenant || context.tenant || '' };
  }
}

/** The card in what the request's protocol version can say (an A2A 0.3 request gets what 0.3 clients can read). */
function versioned(card: AgentCard, context: ServerCallContext | undefined): AgentCard {
  return isLegacyVersion(context?.requestedVersion) ? forV03(card) : card;
}

/** Throws the 403 for a caller who may not use `agent`. */
function authorize(caller: Caller, agent: AgentSpec): void {
  const denied = denial(caller, agent.access, `The agent ${agent.name}`);
  if (denied) throw new AgentAccessDeniedError(denied);
}

/** The caller with their downstream credential in hand; a failure to get it is the turn's failure, in words that say what to do. */
async function downstreamCaller(caller: Caller, signal: AbortSignal): Promise<Caller> {
  try {
    return await caller.forTurn(signal);
  } catch (error) {
    if (error instanceof DownstreamUnavailable) throw new AgentError(error.kind, error.message);
    throw error;
  }
}

/** The caller a binding put in the context; anonymous when none did. */
function callerOf(context: ServerCallContext): Caller {
  return context.user instanceof Caller ? context.user : ANONYMOUS;
}

/** The agent a message names (`metadata.agent`, on the message or the request); not a string is an unknown name. */
function agentNamed(message: Message, params: SendMessageRequest): unknown {
  return message.metadata?.agent ?? params.metadata?.agent;
}

/** "Not yours" looks exactly like "not there". */
function notFound(id: string): never {
  throw new TaskNotFoundError(`Task not found: ${id}. Tasks are kept for an hour after they last changed, and only their creator can see them.`);
}

function pushNotSupported(): PushNotificationNotSupportedError {
  return new PushNotificationNotSupportedError('This agent does not send push notifications; follow a task with SendStreamingMessage or SubscribeToTask instead.');
}

/** Each state's short name (completed, input-required, ...), worked out once rather than at each turn's end. */
const STATE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(TaskState)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, state]) => [state, name.replace(/^TASK_STATE_/, '').toLowerCase().replace('_', '-')]),
);

function stateName(state: TaskState | undefined): string {
  return STATE_NAMES[state ?? 0] ?? 'unknown';
}

/** The prompt a message carries: its text parts, and its data parts as JSON. */
function promptOf(message: Message): string {
  const pieces: string[] = [];
  for (const part of message.parts) {
    if (part.content?.$case === 'text') pieces.push(part.content.value);
    else if (part.content?.$case === 'data') pieces.push(JSON.stringify(part.content.value));
  }
  return pieces.join('\n');
}
