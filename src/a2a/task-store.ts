/**
 * The task store: bounded by count and age, scoped by tenant and owner, cheap to load and save.
 *
 * The SDK's InMemoryTaskStore keeps every task forever and deep-copies on every load and save. The
 * SDK only ever replaces a task's top-level fields, appends to its arrays, or replaces an artifact's
 * fields, so copying the task object, its two arrays and its artifact objects isolates stored state
 * from the caller at a cost proportional to the number of entries, not to the size of their content.
 *
 * A task belongs to the caller that created it: another caller's load, list or cancel sees nothing,
 * exactly as if the task did not exist.
 */
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { ListTasksRequest, ListTasksResponse, Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { BoundedMap } from '../util/bounded-map.ts';

export interface TaskStoreLimits {
  maxTasks: number;
  maxAgeMs: number;
}

export const DEFAULT_TASK_LIMITS: TaskStoreLimits = { maxTasks: 10_000, maxAgeMs: 60 * 60 * 1000 };

const SEP = '\u0000';

export class BoundedTaskStore implements TaskStore {
  readonly #tasks: BoundedMap<Task>;
  /** scope -> ids of its live tasks, so list() never walks other callers' tasks. */
  readonly #byScope = new Map<string, Set<string>>();

  constructor(limits: TaskStoreLimits = DEFAULT_TASK_LIMITS, now?: () => number) {
    this.#tasks = new BoundedMap<Task>({
      maxEntries: limits.maxTasks,
      maxAgeMs: limits.maxAgeMs,
      now,
      onEvict: (key) => this.#unindex(key),
    });
  }

  get size(): number {
    return this.#tasks.size;
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const task = this.#tasks.get(keyOf(scopeOf(context), taskId));
    return task && copyTask(task);
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const scope = scopeOf(context);
    this.#tasks.set(keyOf(scope, task.id), copyTask(task));
    let ids = this.#byScope.get(scope);
    if (!ids) this.#byScope.set(scope, (ids = new Set()));
    ids.add(task.id);
  }

  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const scope = scopeOf(context);
    const pageSize = params.pageSize ?? 50;
    const after = params.statusTimestampAfter ? Date.parse(params.statusTimestampAfter) : undefined;

    const matching: Task[] = [];
    for (const id of this.#byScope.get(scope) ?? []) {
      const task = this.#tasks.get(keyOf(scope, id));
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

  #unindex(key: string): void {
    const cut = key.lastIndexOf(SEP);
    const scope = key.slice(0, cut);
    const ids = this.#byScope.get(scope);
    if (!ids) return;
    ids.delete(key.slice(cut + 1));
    if (ids.size === 0) this.#byScope.delete(scope);
  }
}

/** Who may see a task: the tenant and the authenticated caller (anonymous callers share one scope). */
export function scopeOf(context: ServerCallContext): string {
  return `${context.tenant ?? ''}${SEP}${context.user?.userName ?? ''}`;
}

function keyOf(scope: string, taskId: string): string {
  return `${scope}${SEP}${taskId}`;
}

function copyTask(task: Task): Task {
  return {
    ...task,
    history: task.history ? [...task.history] : [],
    artifacts: task.artifacts ? task.artifacts.map((artifact) => ({ ...artifact })) : [],
  };
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
