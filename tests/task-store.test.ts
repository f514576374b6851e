/**
 * The task store stays bounded by count and age, keeps callers' copies apart from what it stores,
 * and scopes tasks to their owner and tenant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type Task } from '@a2a-js/sdk';
import { ServerCallContext } from '@a2a-js/sdk/server';
import { BoundedTaskStore } from '../src/a2a/task-store.ts';
import { Caller } from '../src/auth/caller.ts';
import { withTestServer } from './support/server.ts';

const contextFor = (user = '', tenant?: string) => new ServerCallContext({ user: new Caller(user, undefined, user !== ''), tenant });

function task(id: string, timestamp = new Date().toISOString(), contextId = 'ctx'): Task {
  return {
    id,
    contextId,
    status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp },
    artifacts: [{ artifactId: 'a', name: '', description: '', parts: [], metadata: undefined, extensions: [] }],
    history: [],
    metadata: {},
  };
}

test('over its count limit, the oldest write goes first', async () => {
  const store = new BoundedTaskStore({ maxTasks: 3, maxAgeMs: 60_000 });
  const ctx = contextFor();
  for (const id of ['t1', 't2', 't3']) await store.save(task(id), ctx);
  await store.save(task('t1'), ctx); // a write refreshes t1
  await store.save(task('t4'), ctx);
  assert.equal(store.size, 3);
  assert.equal(await store.load('t2', ctx), undefined);
  assert.ok(await store.load('t1', ctx));
  assert.ok(await store.load('t4', ctx));
  const listed = await store.list({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }, ctx);
  assert.equal(listed.totalSize, 3, 'evicted tasks leave the listing too');
});

test('past its age limit a task is gone', async () => {
  let now = 1_000;
  const store = new BoundedTaskStore({ maxTasks: 100, maxAgeMs: 500 }, () => now);
  const ctx = contextFor();
  await store.save(task('old'), ctx);
  now += 400;
  await store.save(task('young'), ctx);
  now += 200;
  assert.equal(await store.load('old', ctx), undefined);
  assert.ok(await store.load('young', ctx));
  now += 1_000;
  await store.save(task('newest'), ctx);
  assert.equal(store.size, 1, 'expired tasks are swept on write');
});

test('what a caller changes on a loaded or saved task does not change the stored task', async () => {
  const store = new BoundedTaskStore();
  const ctx = contextFor();
  const original = task('t');
  await store.save(original, ctx);
  original.history.push({} as never);
  original.artifacts[0]!.parts = [{ content: { $case: 'text', value: 'x' }, mediaType: '', filename: '', metadata: undefined }];
  const loaded = (await store.load('t', ctx))!;
  assert.equal(loaded.history.length, 0);
  assert.equal(loaded.artifacts[0]!.parts.length, 0);
  loaded.history = [{} as never];
  loaded.artifacts.push({} as never);
  loaded.status = undefined;
  const again = (await store.load('t', ctx))!;
  assert.equal(again.history.length, 0);
  assert.equal(again.artifacts.length, 1);
  assert.ok(again.status);
});

test('tasks belong to their owner and tenant: others see nothing', async () => {
  const store = new BoundedTaskStore();
  await store.save(task('alice-task'), contextFor('alice'));
  await store.save(task('tenant-task'), contextFor('alice', 'acme'));
  assert.ok(await store.load('alice-task', contextFor('alice')));
  assert.equal(await store.load('alice-task', contextFor('bob')), undefined);
  assert.equal(await store.load('alice-task', contextFor('')), undefined);
  assert.equal(await store.load('tenant-task', contextFor('alice')), undefined);
  const bobs = await store.list({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }, contextFor('bob'));
  assert.equal(bobs.totalSize, 0);
});

test('list filters by state and time, pages newest first, and refuses a forged page token', async () => {
  const store = new BoundedTaskStore();
  const ctx = contextFor('u');
  await store.save(task('a', '2026-01-01T00:00:01.000Z'), ctx);
  await store.save(task('b', '2026-01-01T00:00:02.000Z'), ctx);
  await store.save({ ...task('c', '2026-01-01T00:00:03.000Z'), status: { state: TaskState.TASK_STATE_FAILED, message: undefined, timestamp: '2026-01-01T00:00:03.000Z' } }, ctx);
  const base = { tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined };
  const failed = await store.list({ ...base, status: TaskState.TASK_STATE_FAILED }, ctx);
  assert.deepEqual(failed.tasks.map((t) => t.id), ['c']);
  const recent = await store.list({ ...base, statusTimestampAfter: '2026-01-01T00:00:01.500Z' }, ctx);
  assert.deepEqual(recent.tasks.map((t) => t.id), ['c', 'b']);
  const page1 = await store.list({ ...base, pageSize: 2 }, ctx);
  assert.deepEqual(page1.tasks.map((t) => t.id), ['c', 'b']);
  assert.deepEqual(page1.tasks.map((t) => t.artifacts.length), [0, 0], 'artifacts only when asked for');
  const page2 = await store.list({ ...base, pageSize: 2, pageToken: page1.nextPageToken, includeArtifacts: true }, ctx);
  assert.deepEqual(page2.tasks.map((t) => t.id), ['a']);
  assert.equal(page2.tasks[0]!.artifacts.length, 1);
  assert.equal(page2.nextPageToken, '');
  await assert.rejects(store.list({ ...base, pageToken: 'bm90LWEtdG9rZW4' }, ctx), /pageToken/);
});

test('through the server: old tasks are evicted once the limit is reached', async () => {
  await withTestServer({ taskLimits: { maxTasks: 5, maxAgeMs: 60_000 } }, async (server) => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${server.url}/a2a/jsonrpc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0' },
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'SendMessage', params: { message: { messageId: `m${i}`, role: 'ROLE_USER', parts: [{ text: `n${i}` }] } } }),
      });
      ids.push((await response.json()).result.task.id);
    }
    assert.equal(server.taskStore.size, 5);
    const get = async (id: string) =>
      (await (await fetch(`${server.url}/a2a/rest/tasks/${id}`, { headers: { 'A2A-Version': '1.0' } })).json()) as { id?: string; error?: { code: number } };
    assert.equal((await get(ids[0]!)).error?.code, 404);
    assert.equal((await get(ids[7]!)).id, ids[7]);
  });
});
