/**
 * The task store: where tasks live between requests, and the one place that knows their bounds.
 *
 * A task is kept as one record whose `task` is changed in place by the turn that runs on it, so
 * nothing is loaded, copied or saved per event. A record belongs to the caller that created it:
 * another caller's get, list or cancel finds nothing, exactly as if the task did not exist.
 *
 * Bounds (the owned map's): count, weight and age overall; count and weight per caller, counted
 * across tenants (which a caller names freely). A task with a turn still running is never evicted.
 */
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { Task, TaskState } from '@a2a-js/sdk';
import { compositeKey } from '../util/flat.ts';
import { OwnedMap, type OwnedMapLimits } from '../util/owned-map.ts';
import type { TaskRun } from './task-run.ts';

export type TaskStoreLimits = OwnedMapLimits;

const DEFAULT_TASK_LIMITS: TaskStoreLimits = {
  maxEntries: 10_000,
  maxWeight: 64 * 1024 * 1024,
  maxAgeMs: 60 * 60 * 1000,
  maxEntriesPerOwner: 1_000,
  maxWeightPerOwner: 8 * 1024 * 1024,
};

/** Who may see a task: its owner (the caller's stable id; '' for anonymous callers) under a tenant. */
export interface TaskScope {
  owner: string;
  tenant: string;
}

export interface TaskRecord extends TaskScope {
  /** Where the store keeps it: owner, tenant and task id, joined once (a key built per lookup is hashed per lookup). */
  readonly key: string;
  /** The A2A task, changed in place by its turn. */
  readonly task: Task;
  /** Roughly the bytes the task holds (its JSON size), kept up to date by whoever changes it. */
  weight: number;
  /** The turn running on this task, while one is. */
  run: TaskRun | undefined;
}

export interface TaskQuery {
  contextId?: string;
  /** Only tasks this agent worked on. */
  agent?: string;
  /** Only tasks in this state (undefined: any). */
  state?: TaskState;
  /** Only tasks whose status changed after this time (epoch ms). */
  changedAfter?: number;
  pageSize: number;
  pageToken?: string;
  /** What a task will hold in the page, for its MAX_PAGE_WEIGHT (default: the whole task's weight). */
  listedWeight?: (record: TaskRecord) => number;
}

export interface TaskPage {
  records: TaskRecord[];
  /** '' on the last page. */
  nextPageToken: string;
  totalSize: number;
}

/**
 * A ListTasks page holds tasks up to this weight (at least one, whatever it weighs): `pageSize` alone
 * would let one request for 100 tasks of a megabyte each build an answer of 100 MB, held in memory
 * for as long as its client takes to read it. The page ends early and its token leads on.
 */
export const MAX_PAGE_WEIGHT = 4 * 1024 * 1024;

export class TaskStore {
  readonly #records: OwnedMap<TaskRecord>;

  constructor(limits: Partial<TaskStoreLimits> = {}, now?: () => number) {
    this.#records = new OwnedMap<TaskRecord>({
      limits: { ...DEFAULT_TASK_LIMITS, ...limits },
      weigh: (record) => record.weight,
      isPinned: (record) => record.run !== undefined,
      now,
    });
  }

  get size(): number {
    return this.#records.size;
  }

  /** Weight held by all tasks. */
  get weight(): number {
    return this.#records.weight;
  }

  get(scope: TaskScope, id: string): TaskRecord | undefined {
    return this.#records.get(keyOf(scope, id));
  }

  add(record: TaskRecord): void {
    this.#records.set(record.owner, record.key, record);
  }

  /** The record has changed (a turn ended, its weight grew): weigh it again and refresh its age, if it is still here. */
  changed(record: TaskRecord): void {
    this.#records.touch(record.key, record);
  }

  /** One scope's tasks, newest status first (ties by id), a page at a time. */
  list(scope: TaskScope, query: TaskQuery): TaskPage {
    const matching: TaskRecord[] = [];
    for (const record of this.#records.valuesOf(scope.owner)) {
      const { task } = record;
      if (record.tenant !== scope.tenant) continue;
      if (query.contextId && task.contextId !== query.contextId) continue;
      if (query.agent && task.metadata?.agent !== query.agent) continue;
      if (query.state !== undefined && task.status?.state !== query.state) continue;
      if (query.changedAfter !== undefined && !(Date.parse(task.status?.timestamp ?? '') > query.changedAfter)) continue;
      matching.push(record);
    }
    matching.sort((a, b) => compareDesc(timestampOf(a), timestampOf(b)) || compareDesc(a.task.id, b.task.id));

    let start = 0;
    if (query.pageToken) {
      // The page starts with the first task that sorts after the cursor: the cursor's own task may
      // have changed (and moved) or gone since, and the rest of the list must not go with it.
      const cursor = decodeCursor(query.pageToken);
      const after = matching.findIndex((r) => compareDesc(timestampOf(r), cursor.timestamp) > 0 || (timestampOf(r) === cursor.timestamp && compareDesc(r.task.id, cursor.id) > 0));
      start = after === -1 ? matching.length : after;
    }
    const records: TaskRecord[] = [];
    const listedWeight = query.listedWeight ?? ((record: TaskRecord) => record.weight);
    let weight = 0;
    for (let i = start; i < matching.length && records.length < query.pageSize; i++) {
      const record = matching[i]!;
      const listed = listedWeight(record);
      if (records.length > 0 && weight + listed > MAX_PAGE_WEIGHT) break;
      records.push(record);
      weight += listed;
    }
    const last = records.at(-1);
    const hasMore = start + records.length < matching.length;
    return { records, nextPageToken: hasMore && last ? encodeCursor(timestampOf(last), last.task.id) : '', totalSize: matching.length };
  }
}

/** A record of `task` for `scope`, not stored yet (see TaskStore.add). */
export function newTaskRecord(scope: TaskScope, task: Task, weight: number): TaskRecord {
  return { owner: scope.owner, tenant: scope.tenant, key: keyOf(scope, task.id), task, weight, run: undefined };
}

/** The same id under another tenant or owner is another task. */
function keyOf(scope: TaskScope, id: string): string {
  return compositeKey(scope.owner, scope.tenant, id);
}

function timestampOf(record: TaskRecord): string {
  return record.task.status?.timestamp ?? '';
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
  if (bar === -1) throw new RequestMalformedError('Invalid params: pageToken is not a token this server issued; send the nextPageToken of a previous page, or none.');
  return { timestamp: decoded.slice(0, bar), id: decoded.slice(bar + 1) };
}
