/**
 * The task store stays bounded by count and age, never evicts a task whose turn is running, and
 * scopes tasks to their owner and tenant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { newTaskRecord, TaskStore, type TaskRecord } from '../src/a2a/task-store.ts';
import type { TaskRun } from '../src/a2a/task-run.ts';
import { withTestServer } from './support/server.ts';

const LIMITS = { maxEntries: 100, maxWeight: 1_000_000, maxAgeMs: 60_000, maxEntriesPerOwner: 100, maxWeightPerOwner: 1_000_000 };

function record(id: string, { owner = '', tenant = '', timestamp = new Date().toISOString(), state = TaskState.TASK_STATE_COMPLETED, weight = 10 } = {}): TaskRecord {
  const task: Task = { id, contextId: 'ctx', status: { state, message: undefined, timestamp }, artifacts: [], history: [], metadata: {} };
  return newTaskRecord({ owner, tenant }, task, weight);
}

const scope = (owner = '', tenant = '') => ({ owner, tenant });

test('over its count limit, the oldest write goes first; a change counts as a write', () => {
  const store = new TaskStore({ ...LIMITS, maxEntries: 3 });
  const [t1, t2, t3, t4] = ['t1', 't2', 't3', 't4'].map((id) => record(id));
  for (const r of [t1!, t2!, t3!]) store.add(r);
  store.changed(t1!);
  store.add(t4!);
  assert.equal(store.size, 3);
  assert.equal(store.get(scope(), 't2'), undefined);
  assert.ok(store.get(scope(), 't1'));
  assert.ok(store.get(scope(), 't4'));
  assert.equal(store.list(scope(), { pageSize: 50 }).totalSize, 3, 'evicted tasks leave the listing too');
});

test('a change weighs the task again: grown past the weight limit, the oldest others go, and the store holds the new weight', () => {
  const store = new TaskStore({ ...LIMITS, maxWeight: 100 });
  const [t1, t2, t3] = ['t1', 't2', 't3'].map((id) => record(id, { weight: 10 }));
  for (const r of [t1!, t2!, t3!]) store.add(r);
  assert.equal(store.weight, 30);
  t1!.weight = 85;
  store.changed(t1!);
  assert.equal(store.get(scope(), 't2'), undefined, 'the oldest write other than the changed task goes');
  assert.ok(store.get(scope(), 't1'));
  assert.ok(store.get(scope(), 't3'));
  assert.equal(store.weight, 95);
  t1!.weight = 5;
  store.changed(t1!);
  assert.equal(store.weight, 15, 'a task that shrank frees its weight');
});

test('past its age limit a task is gone', () => {
  let now = 1_000;
  const store = new TaskStore({ ...LIMITS, maxAgeMs: 500 }, () => now);
  store.add(record('old'));
  now += 400;
  store.add(record('young'));
  now += 200;
  assert.equal(store.get(scope(), 'old'), undefined);
  assert.ok(store.get(scope(), 'young'));
  now += 1_000;
  store.add(record('newest'));
  assert.equal(store.size, 1, 'expired tasks are swept on write');
});

test('a task whose turn is running is never evicted, by count or by age; the others go instead', () => {
  let now = 1_000;
  const store = new TaskStore({ ...LIMITS, maxEntries: 2, maxAgeMs: 500 }, () => now);
  const running = record('running');
  running.run = {} as TaskRun;
  store.add(running);
  store.add(record('a'));
  store.add(record('b'));
  assert.ok(store.get(scope(), 'running'), 'the oldest, but running');
  assert.equal(store.get(scope(), 'a'), undefined);
  now += 10_000;
  assert.ok(store.get(scope(), 'running'), 'older than the age limit, but running');
  running.run = undefined;
  assert.equal(store.get(scope(), 'running'), undefined, 'once it ends, the limits apply again');
});

test('tasks belong to their owner and tenant: others see nothing', () => {
  const store = new TaskStore(LIMITS);
  store.add(record('alice-task', { owner: 'alice' }));
  store.add(record('tenant-task', { owner: 'alice', tenant: 'acme' }));
  assert.ok(store.get(scope('alice'), 'alice-task'));
  assert.equal(store.get(scope('bob'), 'alice-task'), undefined);
  assert.equal(store.get(scope(''), 'alice-task'), undefined);
  assert.equal(store.get(scope('alice'), 'tenant-task'), undefined);
  assert.ok(store.get(scope('alice', 'acme'), 'tenant-task'));
  assert.equal(store.list(scope('bob'), { pageSize: 50 }).totalSize, 0);
});

test('list filters by context, state and time, pages newest first, and refuses a forged page token', () => {
  const store = new TaskStore(LIMITS);
  const u = { owner: 'u' };
  store.add(record('a', { ...u, timestamp: '2026-01-01T00:00:01.000Z' }));
  store.add(record('b', { ...u, timestamp: '2026-01-01T00:00:02.000Z' }));
  store.add(record('c', { ...u, timestamp: '2026-01-01T00:00:03.000Z', state: TaskState.TASK_STATE_FAILED }));
  const ids = (page: { records: TaskRecord[] }) => page.records.map((r) => r.task.id);
  assert.deepEqual(ids(store.list(scope('u'), { pageSize: 50, state: TaskState.TASK_STATE_FAILED })), ['c']);
  assert.deepEqual(ids(store.list(scope('u'), { pageSize: 50, changedAfter: Date.parse('2026-01-01T00:00:01.500Z') })), ['c', 'b']);
  assert.deepEqual(ids(store.list(scope('u'), { pageSize: 50, contextId: 'other' })), []);
  const page1 = store.list(scope('u'), { pageSize: 2 });
  assert.deepEqual(ids(page1), ['c', 'b']);
  const page2 = store.list(scope('u'), { pageSize: 2, pageToken: page1.nextPageToken });
  assert.deepEqual(ids(page2), ['a']);
  assert.equal(page2.nextPageToken, '');
  assert.throws(() => store.list(scope('u'), { pageSize: 2, pageToken: 'bm90LWEtdG9rZW4' }), /pageToken/);
});

test('paging goes on from where the cursor was, even when the task the cursor names has changed or gone since', () => {
  const store = new TaskStore(LIMITS);
  for (let i = 0; i < 5; i++) store.add(record(`t${i}`, { owner: 'u', timestamp: `2026-01-01T00:00:0${i}.000Z` }));
  const page1 = store.list(scope('u'), { pageSize: 2 });
  assert.deepEqual(page1.records.map((r) => r.task.id), ['t4', 't3']);
  // The cursor's task (t3) changes status: it now sorts first.
  store.get(scope('u'), 't3')!.task.status!.timestamp = '2026-01-01T00:00:09.000Z';
  const page2 = store.list(scope('u'), { pageSize: 2, pageToken: page1.nextPageToken });
  assert.deepEqual(page2.records.map((r) => r.task.id), ['t2', 't1']);
  const page3 = store.list(scope('u'), { pageSize: 2, pageToken: page2.nextPageToken });
  assert.deepEqual(page3.records.map((r) => r.task.id), ['t0']);
  assert.equal(page3.nextPageToken, '');
});

test('through the server: old tasks are evicted once the limit is reached', async () => {
  await withTestServer({ taskLimits: { maxEntries: 5 } }, async (server) => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${server.url}/a2a/jsonrpc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0' },
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'SendMessage', params: { message: { messageId: `m${i}`, role: 'ROLE_USER', parts: [{ text: `n${i}` }] } } }),
      });
      ids.push((await response.json()).result.task.id);
    }
    assert.equal(server.tasks.size, 5);
    const get = async (id: string) =>
      (await (await fetch(`${server.url}/a2a/rest/tasks/${id}`, { headers: { 'A2A-Version': '1.0' } })).json()) as { id?: string; error?: { code: number } };
    assert.equal((await get(ids[0]!)).error?.code, 404);
    assert.equal((await get(ids[7]!)).id, ids[7]);
  });
});
