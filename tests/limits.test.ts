/**
 * Memory stays bounded by size as well as by count: tasks and conversations have a budget of
 * characters, conversations are trimmed by length, and each caller has a quota so that one caller
 * pushes out only its own oldest entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role, TaskState, type Task } from '@a2a-js/sdk';
import { ServerCallContext } from '@a2a-js/sdk/server';
import { BoundedTaskStore } from '../src/a2a/task-store.ts';
import { Conversations } from '../src/agents/conversations.ts';
import { Caller } from '../src/auth/caller.ts';
import { BoundedMap } from '../src/util/bounded-map.ts';

const as = (user: string) => new ServerCallContext({ user: new Caller(user, undefined, true) });

function taskWithText(id: string, text: string): Task {
  return {
    id,
    contextId: 'c',
    status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp: new Date().toISOString() },
    history: [{ messageId: id, contextId: 'c', taskId: id, role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value: text }, mediaType: '', filename: '', metadata: undefined }], metadata: undefined, extensions: [], referenceTaskIds: [] }],
    artifacts: [],
    metadata: {},
  };
}

test('a BoundedMap drops its oldest entries once their weight passes the budget, and keeps the total right', () => {
  const map = new BoundedMap<string>({ maxEntries: 100, maxAgeMs: 60_000, maxWeight: 10, weigh: (v) => v.length });
  map.set('a', 'xxxx');
  map.set('b', 'xxxx');
  assert.equal(map.weight, 8);
  map.set('a', 'xx'); // rewriting an entry replaces its weight
  assert.equal(map.weight, 6);
  map.set('c', 'xxxxxx');
  assert.equal(map.has('b'), false, 'the oldest write went first');
  assert.deepEqual([map.has('a'), map.has('c'), map.weight], [true, true, 8]);
  map.delete('c');
  assert.equal(map.weight, 2);
});

test('tasks: the store keeps to its budget of characters', async () => {
  const store = new BoundedTaskStore({ maxChars: 1_000 });
  for (let i = 0; i < 10; i++) await store.save(taskWithText(`t${i}`, 'x'.repeat(300)), as('a'));
  assert.ok(store.chars <= 1_000);
  assert.equal(store.size, 3);
  assert.ok(await store.load('t9', as('a')));
  assert.equal(await store.load('t0', as('a')), undefined);
});

test('tasks: a caller over its quota loses its own oldest task, and nobody else loses anything', async () => {
  const store = new BoundedTaskStore({ maxTasksPerOwner: 3 });
  await store.save(taskWithText('bob-1', 'hi'), as('bob'));
  for (let i = 1; i <= 4; i++) await store.save(taskWithText(`alice-${i}`, 'hi'), as('alice'));
  assert.equal(await store.load('alice-1', as('alice')), undefined);
  assert.ok(await store.load('alice-4', as('alice')));
  assert.ok(await store.load('bob-1', as('bob')));
  const listed = await store.list({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }, as('alice'));
  assert.equal(listed.totalSize, 3);
});

test('tasks: the quota is per caller across tenants, and a tenant lists only its own tasks', async () => {
  const store = new BoundedTaskStore({ maxTasksPerOwner: 3 });
  const in_ = (tenant: string) => new ServerCallContext({ user: new Caller('alice', undefined, true), tenant });
  for (const tenant of ['t1', 't2', 't3']) for (const n of [1, 2]) await store.save(taskWithText(`${tenant}-${n}`, 'hi'), in_(tenant));
  assert.equal(store.size, 3, 'a new tenant name does not buy a caller another quota');
  assert.equal(await store.load('t1-1', in_('t1')), undefined);
  assert.ok(await store.load('t3-2', in_('t3')));
  const listed = await store.list({ tenant: 't3', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }, in_('t3'));
  assert.deepEqual(listed.tasks.map((t) => t.id).sort(), ['t3-1', 't3-2']);
});

test('conversations: trimmed to their character limit, oldest messages first', () => {
  const conversations = new Conversations({ maxCharsPerConversation: 100 });
  const key = Conversations.key('alice', 'agent', 'ctx');
  for (let i = 0; i < 5; i++) conversations.record(key, { role: 'user', content: `${i}`.repeat(30) }, { role: 'assistant', content: 'ok' });
  const history = conversations.history(key);
  assert.ok(history.reduce((n, m) => n + m.content.length, 0) <= 100);
  assert.equal(history.at(-2)!.content, '4'.repeat(30), 'the newest turn is kept');
});

test('conversations: a caller over its quota loses its own oldest conversation only', () => {
  const conversations = new Conversations({ maxConversationsPerOwner: 2 });
  const bob = Conversations.key('bob', 'agent', 'b');
  conversations.record(bob, { role: 'user', content: 'bob here' });
  for (const ctx of ['a1', 'a2', 'a3']) conversations.record(Conversations.key('alice', 'agent', ctx), { role: 'user', content: ctx });
  assert.equal(conversations.history(Conversations.key('alice', 'agent', 'a1')).length, 0);
  assert.equal(conversations.history(Conversations.key('alice', 'agent', 'a3')).length, 1);
  assert.equal(conversations.history(bob).length, 1);
});

test('conversations: the overall character budget holds', () => {
  const conversations = new Conversations({ maxChars: 1_000 });
  for (let i = 0; i < 20; i++) conversations.record(Conversations.key(`u${i}`, 'agent', 'c'), { role: 'user', content: 'y'.repeat(200) });
  const kept = Array.from({ length: 20 }, (_, i) => conversations.history(Conversations.key(`u${i}`, 'agent', 'c')).length).filter(Boolean).length;
  assert.equal(kept, 5);
});
