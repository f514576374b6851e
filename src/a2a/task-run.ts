/**
 * One turn running on a task: the live object the agent loop reports into and subscribers watch.
 *
 * The turn changes its task in place. The answer accumulates as one string: nobody watching means
 * no event is built at all, and a finished task holds its answer as one text part, however many
 * pieces the model streamed it in. Subscribers (a streamed send, SubscribeToTask) get the answer as
 * artifact chunks: the first words at once, then at most one chunk per `flushMs`, the last one
 * marked `lastChunk`; the same event object goes to every subscriber, and none is built for nobody.
 *
 * Whatever the work does (returns, throws, ignores its abort signal), the task ends in exactly one
 * final state with a status message that says why, and never stays `working`.
 */
import { Role, TaskState, type Artifact, type Message, type Part, type StreamResponse, type Task } from '@a2a-js/sdk';
import { AgentError } from '../agents/ports.ts';
import type { TurnSink } from '../agents/runner.ts';
import type { Caller } from '../auth/caller.ts';
import { describeError, log } from '../util/log.ts';
import { flat } from '../util/flat.ts';
import { isoNow } from '../util/iso-time.ts';
import { redact } from '../util/redact.ts';
import { randomUuid } from '../util/uuid.ts';
import type { TaskRecord } from './task-store.ts';
import { weighMessage, weighParts } from './task-weight.ts';

const RESPONSE_ARTIFACT = 'response';

/** Why a run's signal was aborted: the words the task ends with. */
export class StopReason extends Error {
  override name = 'StopReason';
  constructor(
    readonly state: TaskState.TASK_STATE_CANCELED | TaskState.TASK_STATE_FAILED,
    message: string,
  ) {
    super(message);
  }
}

export interface TaskRunOptions {
  /** The longest an answer chunk waits before it is sent to subscribers. */
  flushMs: number;
  /** Events a subscriber may have waiting before it is dropped (it can subscribe again). */
  maxQueuedEvents: number;
  /** Called once, after the task has reached its end state. */
  onEnd: (run: TaskRun) => void;
}

const FINAL_STATES = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

/** Whether a task in this state is over for good (an interrupted one can take another message). */
export function isFinal(state: TaskState | undefined): boolean {
  return state !== undefined && FINAL_STATES.has(state);
}

export class TaskRun implements TurnSink {
  readonly record: TaskRecord;
  readonly caller: Caller;
  /** Epoch ms the run was made, for the wall-clock limit. */
  readonly startedAt = Date.now();
  /** Made on first use: an AbortController costs more than the rest of a short turn. */
  #controller: AbortController | undefined;
  readonly #subscribers = new Set<Subscriber>();
  readonly #options: TaskRunOptions;
  /** Everything the agent has said this turn. */
  #answer = '';
  /** How much of the answer subscribers have (in chunks, or in the task they were first sent). */
  #flushed = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #toolCalls = 0;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(record: TaskRecord, caller: Caller, options: TaskRunOptions) {
    this.record = record;
    this.caller = caller;
    this.#options = options;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    record.run = this;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#controller?.signal.aborted ?? false;
  }

  /** Settles once the task has reached its end state (or an interrupted one). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Everything the agent has said this turn so far. */
  get answer(): string {
    return this.#answer;
  }

  /** Tool calls the turn has made. */
  get toolCalls(): number {
    return this.#toolCalls;
  }

  /** Runs `work` and ends the task by how it settles. */
  start(work: (run: TaskRun) => Promise<void>): void {
    let settled: Promise<void>;
    try {
      settled = work(this);
    } catch (error) {
      settled = Promise.reject(error);
    }
    settled.then(
      () => (this.aborted ? this.#stopped() : this.end(TaskState.TASK_STATE_COMPLETED)),
      (error: unknown) => this.#failed(error),
    );
  }

  /** Aborts the work; the task ends in the reason's state once the work has stopped (see stop()). */
  abort(reason: StopReason): void {
    if (this.#ended || this.aborted) return;
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }

  /**
   * Aborts the work and waits for the task to end; work that ignores its signal past `graceMs` is
   * left behind, and the task ends anyway.
   */
  async stop(reason: StopReason, graceMs: number): Promise<void> {
    this.abort(reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#done, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    if (!this.#ended) {
      log.error('a turn ignored its abort signal; its task was ended without it', { taskId: this.record.task.id });
      this.#stopped();
    }
  }

  // The agent loop's sink.

  text(delta: string): void {
    if (this.#ended || !delta) return;
    this.#answer += delta;
    if (this.#subscribers.size === 0) return;
    if (this.#flushed === 0) this.#flush(false);
    else this.#timer ??= setTimeout(() => this.#flush(false), this.#options.flushMs);
  }

  toolCalled(): void {
    this.#toolCalls++;
  }

  /** The task is being worked on (again): a continued task leaves its interrupted state. */
  working(): void {
    if (!this.#ended) this.#setStatus(TaskState.TASK_STATE_WORKING, undefined);
  }

  progress(text: string): void {
    if (this.#ended) return;
    this.#flush(false);
    this.#setStatus(TaskState.TASK_STATE_WORKING, text);
  }

  /** Ends the task in `state`, with `text` as its status message when given. */
  end(state: TaskState, text?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const { task } = this.record;
    this.#flush(state === TaskState.TASK_STATE_COMPLETED);
    if (this.#answer || state === TaskState.TASK_STATE_COMPLETED) {
      const answer = [textPart(flat(this.#answer))];
      task.artifacts = [responseArtifact(answer)];
      this.record.weight += weighParts(answer);
      // The answer is also the agent's message in the task's history, so a client that reads
      // messages and not artifacts still sees it; both hold the one list of parts, which nothing
      // changes once stored. Not in the status message: clients that read both (the Vercel AI
      // SDK's a2a-ai-provider) would show it twice.
      if (state === TaskState.TASK_STATE_COMPLETED && this.#answer) this.#remember(agentMessage(answer, task));
    }
    this.#setStatus(state, text);
    for (const subscriber of this.#subscribers) subscriber.close();
    this.#subscribers.clear();
    this.record.run = undefined;
    try {
      this.#options.onEnd(this);
    } finally {
      this.#resolveDone();
    }
  }

  // What watchers see.

  /**
   * Adds a subscriber. Take the subscriber's first frame (snapshotForSubscribers) just before: any
   * answer text it does not show is sent to the new subscriber (and everyone) right away.
   */
  subscribe(): Subscriber {
    const subscriber = new Subscriber(this.#options.maxQueuedEvents, () => this.#subscribers.delete(subscriber));
    this.#subscribers.add(subscriber);
    if (this.#answer.length > this.#flushed) this.#flush(false);
    return subscriber;
  }

  /** The task as subscribers know it: the answer up to what has been sent to them. */
  snapshotForSubscribers(historyLength?: number): Task {
    return copyTask(this.record.task, historyLength, this.#flushed > 0 ? this.#answer.slice(0, this.#flushed) : undefined);
  }

  /** The task with everything the agent has said so far. */
  snapshot(historyLength?: number): Task {
    return copyTask(this.record.task, historyLength, this.#answer || undefined);
  }

  #flush(last: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#subscribers.size === 0) return;
    const chunk = this.#answer.slice(this.#flushed);
    if (!chunk && !last) return;
    const append = this.#flushed > 0;
    this.#flushed = this.#answer.length;
    const { task } = this.record;
    this.#publish({
      payload: {
        $case: 'artifactUpdate',
        value: { taskId: task.id, contextId: task.contextId, artifact: responseArtifact([textPart(chunk)]), append, lastChunk: last, metadata: undefined },
      },
    });
  }

  /** Sets the status, with `text` as its message. */
  #setStatus(state: TaskState, text: string | undefined): void {
    const { task } = this.record;
    const message = text === undefined ? undefined : agentMessage([textPart(this.#say(text))], task);
    task.status = { state, message, timestamp: isoNow() };
    if (message) this.#remember(message);
    if (this.#subscribers.size > 0) {
      this.#publish({ payload: { $case: 'statusUpdate', value: { taskId: task.id, contextId: task.contextId, status: task.status, metadata: undefined } } });
    }
  }

  /** Adds an agent message to the task's history, and its weight to the task's. */
  #remember(message: Message): void {
    this.record.task.history.push(message);
    this.record.weight += weighMessage(message);
  }

  #publish(event: StreamResponse): void {
    for (const subscriber of this.#subscribers) subscriber.push(event);
  }

  /** Status text leaves the process: nothing shaped like a secret, and never the caller's own. */
  #say(text: string): string {
    const scrubbed = this.caller.credential ? this.caller.credential.scrub(text) : text;
    return redact(scrubbed);
  }

  #stopped(): void {
    const reason = this.#controller?.signal.reason;
    if (reason instanceof StopReason) this.end(reason.state, reason.message);
    else this.end(TaskState.TASK_STATE_CANCELED, 'Canceled.');
  }

  #failed(error: unknown): void {
    if (this.aborted) return this.#stopped();
    if (error instanceof AgentError) {
      // auth-required is not final: the caller can send the message again with a credential that works.
      return this.end(error.kind === 'auth-required' ? TaskState.TASK_STATE_AUTH_REQUIRED : TaskState.TASK_STATE_FAILED, error.message);
    }
    log.error('agent turn failed', { taskId: this.record.task.id, error: describeError(error) });
    this.end(TaskState.TASK_STATE_FAILED, 'The agent failed unexpectedly. The server log has the details; try again.');
  }
}

/**
 * One watcher's queue of events, read as an async iterator. Pushing never waits: a watcher that
 * lets `maxQueued` events pile up is dropped rather than holding memory for them.
 */
export class Subscriber implements AsyncIterableIterator<StreamResponse> {
  readonly #queue: StreamResponse[] = [];
  readonly #maxQueued: number;
  readonly #leave: () => void;
  #waiting: ((result: IteratorResult<StreamResponse>) => void) | undefined;
  #closed = false;
  #overflowed = false;

  constructor(maxQueued: number, leave: () => void) {
    this.#maxQueued = maxQueued;
    this.#leave = leave;
  }

  push(event: StreamResponse): void {
    if (this.#closed) return;
    if (this.#waiting) {
      const wake = this.#waiting;
      this.#waiting = undefined;
      wake({ value: event, done: false });
    } else if (this.#queue.length < this.#maxQueued) {
      this.#queue.push(event);
    } else {
      this.#overflowed = true;
      this.#leave();
      this.close();
    }
  }

  /** No more events: the iterator ends once the queue is read. */
  close(): void {
    this.#closed = true;
    if (this.#waiting && this.#queue.length === 0) {
      const wake = this.#waiting;
      this.#waiting = undefined;
      wake({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<StreamResponse>> {
    const event = this.#queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#overflowed) return Promise.reject(new FellBehind());
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** The watcher leaves. */
  return(): Promise<IteratorResult<StreamResponse>> {
    this.#queue.length = 0;
    this.#leave();
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A watcher stopped reading for so long that its events were dropped. */
class FellBehind extends Error {
  override name = 'FellBehind';
  constructor() {
    super('This stream fell too far behind the task and was stopped; subscribe to the task again to catch up.');
  }
}

/**
 * A copy of a task that later changes to the live one cannot reach: the top level and its arrays
 * are copied (messages are never changed once stored), history cut to its last `historyLength`
 * messages, and the response artifact shown with `answer` when given. Fields are written out rather
 * than spread, so that every task handed on has one shape.
 */
export function copyTask(task: Task, historyLength: number | undefined, answer?: string): Task {
  const history = historyLength === undefined ? [...task.history] : historyLength === 0 ? [] : task.history.slice(-historyLength);
  const artifacts = answer === undefined ? [...task.artifacts] : [responseArtifact([textPart(answer)])];
  return { id: task.id, contextId: task.contextId, status: task.status, artifacts, history, metadata: task.metadata };
}

/**
 * The empty list every stored message and artifact without extensions or references shares: a
 * stored task is copied by each young-generation collection it survives and marked by every full
 * one, so each object it need not hold is work saved, ten thousand times over. Frozen, because it is
 * shared: nothing pushes into a stored message's lists.
 */
const NO_STRINGS = Object.freeze([]) as unknown as string[];

function responseArtifact(parts: Part[]): Artifact {
  return { artifactId: RESPONSE_ARTIFACT, name: RESPONSE_ARTIFACT, description: '', parts, metadata: undefined, extensions: NO_STRINGS };
}

export function textPart(text: string): Part {
  // In the order the SDK's decoder gives a caller's parts: one shape for every part a task holds.
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function agentMessage(parts: Part[], task: Task): Message {
  return {
    messageId: randomUuid(),
    contextId: task.contextId,
    taskId: task.id,
    role: Role.ROLE_AGENT,
    parts,
    metadata: undefined,
    extensions: NO_STRINGS,
    referenceTaskIds: NO_STRINGS,
  };
}

/** The caller's `message` as its task keeps it: in `task`'s context, under its id. */
export function callerMessage(message: Message, task: { id: string; contextId: string }): Message {
  // Fields written out in agentMessage's order rather than spread: every message in a history then
  // has one shape, which the code that reads and serialises them runs measurably faster on.
  return {
    messageId: message.messageId,
    contextId: task.contextId,
    taskId: task.id,
    role: message.role,
    parts: message.parts,
    metadata: message.metadata,
    extensions: message.extensions.length > 0 ? message.extensions : NO_STRINGS,
    referenceTaskIds: message.referenceTaskIds.length > 0 ? message.referenceTaskIds : NO_STRINGS,
  };
}
