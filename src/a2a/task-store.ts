/**
 * The task store: bounded by count and age, scoped by tenant and owner, cheap to load and save.
 *
 * The SDK's InMemoryTaskStore keeps every task forever and deep-copies on every load and save. The
 * SDK only ever replaces a task's top-level fields, appends to its arrays, or replaces an artifact's
 * fields, so copying the task object, its two arrays and its artifact objects isolates stored state
 * from the caller at a cost proportional to the number of entries, not to the size of their content.
 *
 * A task belongs to the caller that created it: another caller's load, list or cancel sees nothing,
 * exactly as if the task did not exist. Besides the limits on all tasks (count, characters held,
 * age), each caller may keep only so many: one busy caller evicts its own oldest tasks, not others'.
 */
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { ListTasksRequest, ListTasksResponse, Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { BoundedMap } from '../util/bounded-map.ts';
import { OwnerIndex } from '../util/owner-index.ts';

export interface TaskStoreLimits {
  maxTasks: number;
  maxAgeMs: number;
  /** Characters of text all tasks may hold together (messages and artifacts). */
  maxChars: number;
  maxTasksPerOwner: number;
}

export const DEFAULT_TASK_LIMITS: TaskStoreLimits = { maxTasks: 10_000, maxAgeMs: 60 * 60 * 1000, maxChars: 50_000_000, maxTasksPerOwner: 1_000 };

const SEP = '\u0000';

export class BoundedTaskStore implements TaskStore {
  readonly #tasks: BoundedMap<Task>;
  /**
   * Each caller's live task keys, for the per-caller quota (counted across tenants, which a caller
   * names freely) and so list() never walks other callers' tasks.
   */
  readonly #byOwner: OwnerIndex;

  constructor(limits: Partial<TaskStoreLimits> = {}, now?: () => number) {
    const { maxTasks, maxAgeMs, maxChars, maxTasksPerOwner } = { ...DEFAULT_TASK_LIMITS, ...limits };
    this.#tasks = new BoundedMap<Task>({
      maxEntries: maxTasks,
      maxAgeMs,
      maxWeight: maxChars,
      weigh: charactersIn,
      now,
      onEvict: (key) => this.#byOwner.remove(ownerOfKey(key), key),
    });
    this.#byOwner = new OwnerIndex(maxTasksPerOwner);
  }

  get size(): number {
    return this.#tasks.size;
  }

  /** Characters of text held by all tasks. */
  get chars(): number {
    return this.#tasks.weight;
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const task = this.#tasks.get(taskKey(context, taskId));
    return task && copyTask(task);
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const key = taskKey(context, task.id);
    this.#tasks.set(key, copyTask(task));
    const evicted = this.#byOwner.add(context.user?.userName ?? '', key);
    if (evicted !== undefined) this.#tasks.delete(evicted);
  }

  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const scope = scopeOf(context);
    const pageSize = params.pageSize ?? 50;
    const after = params.statusTimestampAfter ? Date.parse(params.statusTimestampAfter) : undefined;

    const prefix = keyOf(scope, '');
    const matching: Task[] = [];
    for (const key of this.#byOwner.keysOf(context.user?.userName ?? '')) {
      const task = key.startsWith(prefix) ? this.#tasks.get(key) : undefined;
      if (!task) continue;
      if (params.contextId && task.contextId !== params.contextId) continue;
      if (params.status && task.status?.state !== params.status) continue; // 0 is "unspecified": no filter
      if (after !== undefined && !(Date.parse(task.status?.timestamp ?? '') > after)) continue;
      matching.push(task);
    }
    // Newest first; ties broken by id so pages are stable.
    matching.sort((a, b) => compareDesc(timestampOf(a), timestampOf(b)) || compareDesc(a.id, b.id));

    let start = 0;
    if (params.pageToken) {
      const cursor = decodeCursor(params.pageToken);
      const index = matching.findIndex((t) => timestampOf(t) === cursor.timestamp && t.id === cursor.id);
      start = index === -1 ? matching.length : index + 1;
    }
    const page = matching.slice(start, start + pageSize);
    const last = page.at(-1);
    const hasMore = start + page.length < matching.length;
    return {
      tasks: page.map((task) => ({ ...copyTask(task), artifacts: params.includeArtifacts ? task.artifacts : [] })),
      nextPageToken: hasMore && last ? encodeCursor(timestampOf(last), last.id) : '',
      pageSize,
      totalSize: matching.length,
    };
  }

}

/** Who may see a task: the tenant and the authenticated caller (anonymous callers share one scope). */
function scopeOf(context: ServerCallContext | undefined): string {
  return `${context?.tenant ?? ''}${SEP}${context?.user?.userName ?? ''}`;
}

/** A task's key wherever per-task state is kept: the same id under another tenant or caller is another task. */
export function taskKey(context: ServerCallContext | undefined, taskId: string): string {
  return keyOf(scopeOf(context), taskId);
}

function keyOf(scope: string, taskId: string): string {
  return `${scope}${SEP}${taskId}`;
}

/** The caller part of a key (tenant, caller, task id): neither a tenant nor a caller id holds SEP. */
function ownerOfKey(key: string): string {
  const start = key.indexOf(SEP) + 1;
  return key.slice(start, key.indexOf(SEP, start));
}

function copyTask(task: Task): Task {
  return {
    ...task,
    history: task.history ? [...task.history] : [],
    artifacts: task.artifacts ? task.artifacts.map((artifact) => ({ ...artifact })) : [],
  };
}

/** Roughly what a task costs to keep: the characters of its text. */
function charactersIn(task: Task): number {
  let chars = partCharacters(task.status?.message?.parts);
  for (const message of task.history ?? []) chars += partCharacters(message.parts);
  for (const artifact of task.artifacts ?? []) chars += partCharacters(artifact.parts);
  return chars;
}

function partCharacters(parts: Task['history'][number]['parts'] | undefined): number {
  let chars = 0;
  for (const { content } of parts ?? []) {
    if (content?.$case === 'text' || content?.$case === 'url' || content?.$case === 'raw') chars += content.value.length;
    else if (content?.$case === 'data') chars += JSON.stringify(content.value ?? null).length;
  }
  return chars;
}

function timestampOf(task: Task): string {
  return task.status?.timestamp ?? '';
}

function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function encodeCursor(timestamp: string, id: string): string {
  return Buffer.from(`${timestamp}|${id}`).toString('base64url');
}

function decodeCursor(token: string): { timestamp: string; id: string } {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const bar = decoded.indexOf('|');
  if (bar === -1) throw new RequestMalformedError('pageToken is not a token this server issued');
  return { timestamp: decoded.slice(0, bar), id: decoded.slice(bar + 1) };
}
