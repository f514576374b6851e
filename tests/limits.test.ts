/**
 * Memory stays bounded by weight as well as by count, and no caller's use can evict another's data:
 * over its own quota a caller loses its own oldest entries; over the shared budget, the heaviest
 * caller does. Conversations are also trimmed by length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conversations, type ConversationAddress } from '../src/agents/conversations.ts';
import type { ChatMessage } from '../src/agents/ports.ts';
import { BoundedMap } from '../src/util/bounded-map.ts';
import { OwnedMap } from '../src/util/owned-map.ts';

const ROOMY = { maxEntries: 1_000, maxWeight: 1_000_000, maxAgeMs: 60_000, maxEntriesPerOwner: 1_000, maxWeightPerOwner: 1_000_000 };
const weighed = (limits: Partial<typeof ROOMY>) => new OwnedMap<string>({ limits: { ...ROOMY, ...limits }, weigh: (v) => v.length });

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

test('owned map: a caller over its count quota loses its own oldest entry, and nobody else loses anything', () => {
  const map = weighed({ maxEntriesPerOwner: 3 });
  map.set('bob', 'bob-1', 'hi');
  for (let i = 1; i <= 4; i++) map.set('alice', `alice-${i}`, 'hi');
  assert.equal(map.get('alice-1'), undefined);
  assert.ok(map.get('alice-4'));
  assert.ok(map.get('bob-1'));
  assert.equal([...map.valuesOf('alice')].length, 3);
});

test('owned map: a caller over its weight quota loses its own oldest entries until it fits', () => {
  const map = weighed({ maxWeightPerOwner: 100 });
  map.set('bob', 'bob', 'x'.repeat(90));
  for (let i = 0; i < 5; i++) map.set('alice', `alice-${i}`, 'y'.repeat(40));
  assert.equal(map.weightOf('alice'), 80);
  assert.deepEqual([...map.valuesOf('alice')].length, 2);
  assert.ok(map.get('bob'), 'bob, near his own quota, keeps everything');
});

test('owned map: over the shared budget the heaviest caller pays, not the one with the oldest entry', () => {
  const map = weighed({ maxWeight: 1_000 });
  map.set('bob', 'bob-old', 'b'.repeat(100)); // the oldest entry in the map
  for (let i = 0; i < 30; i++) map.set('mallory', `mallory-${i}`, 'm'.repeat(90));
  assert.ok(map.weight <= 1_000);
  assert.ok(map.get('bob-old'), "a light caller's data survives a heavy caller's flood");
  assert.ok(map.get('mallory-29'), 'the newest write is kept');
  assert.equal(map.get('mallory-0'), undefined);
});

test('owned map: over the shared count, the owner with the most entries pays, not the heaviest', () => {
  const map = weighed({ maxEntries: 50 });
  map.set('victim', 'victim-long-task', 'v'.repeat(10_000)); // one entry, heavy
  for (let owner = 0; owner < 10; owner++) for (let i = 0; i < 10; i++) map.set(`free-${owner}`, `free-${owner}-${i}`, 'x');
  assert.equal(map.size, 50);
  assert.ok(map.get('victim-long-task'), "one heavy task is not pushed out by many owners' many tiny ones");
});

test('owned map: pinned entries stay, whatever the limits say', () => {
  const pinned = new Set(['keep']);
  const map = new OwnedMap<string>({ limits: { ...ROOMY, maxEntries: 1, maxEntriesPerOwner: 1 }, weigh: () => 1, isPinned: (v) => pinned.has(v) });
  map.set('a', 'k1', 'keep');
  map.set('a', 'k2', 'other');
  assert.equal(map.get('k1'), 'keep');
  assert.equal(map.size, 2, 'over its limits while the pinned entry is pinned');
  pinned.clear();
  map.set('a', 'k3', 'third');
  assert.equal(map.size, 1);
  assert.equal(map.get('k3'), 'third');
});

const at = (owner: string, contextId: string, tenant = '') => ({ owner, tenant, agent: 'agent', contextId });
const unhurried = { signal: new AbortController().signal };

/** One turn of the conversation at `address` that records `messages`. */
async function record(conversations: Conversations, address: ConversationAddress, ...messages: ChatMessage[]): Promise<void> {
  const turn = await conversations.begin(address, unhurried);
  turn.record(...messages);
  turn.release();
}

/** The history a turn of the conversation at `address` would start from. */
async function history(conversations: Conversations, address: ConversationAddress): Promise<readonly ChatMessage[]> {
  const turn = await conversations.begin(address, unhurried);
  turn.release();
  return turn.history;
}

test('conversations: trimmed to their character limit, oldest messages first', async () => {
  const conversations = new Conversations({ maxCharsPerConversation: 100 });
  const address = at('alice', 'ctx');
  for (let i = 0; i < 5; i++) await record(conversations, address, { role: 'user', content: `${i}`.repeat(30) }, { role: 'assistant', content: 'ok' });
  const kept = await history(conversations, address);
  assert.ok(kept.reduce((n, m) => n + m.content.length, 0) <= 100);
  assert.equal(kept.at(-2)!.content, '4'.repeat(30), 'the newest turn is kept');
});

test('conversations: a caller over its quota loses its own oldest conversation only', async () => {
  const conversations = new Conversations({ maxEntriesPerOwner: 2 });
  await record(conversations, at('bob', 'b'), { role: 'user', content: 'bob here' });
  for (const ctx of ['a1', 'a2', 'a3']) await record(conversations, at('alice', ctx), { role: 'user', content: ctx });
  assert.equal((await history(conversations, at('alice', 'a1'))).length, 0);
  assert.equal((await history(conversations, at('alice', 'a3'))).length, 1);
  assert.equal((await history(conversations, at('bob', 'b'))).length, 1);
});

test('conversations: one caller filling the shared budget does not empty another caller\'s history', async () => {
  const conversations = new Conversations({ maxWeight: 50_000 });
  await record(conversations, at('bob', 'b'), { role: 'user', content: 'remember me' });
  for (let i = 0; i < 55; i++) await record(conversations, at('mallory', `m${i}`), { role: 'user', content: 'z'.repeat(5_000) });
  assert.ok(conversations.weight <= 50_000);
  assert.equal((await history(conversations, at('bob', 'b')))[0]?.content, 'remember me');
});

test('conversations: the same context under another tenant is another conversation', async () => {
  const conversations = new Conversations();
  await record(conversations, at('alice', 'ctx', 't1'), { role: 'user', content: 'in t1' });
  assert.equal((await history(conversations, at('alice', 'ctx', 't2'))).length, 0);
  assert.equal((await history(conversations, at('alice', 'ctx', 't1'))).length, 1);
});

test('conversations: turns of one conversation run one at a time, in order, and one that gives up while waiting leaves the others theirs', async () => {
  const conversations = new Conversations();
  const address = at('alice', 'ctx');
  const first = await conversations.begin(address, unhurried);
  const order: string[] = [];
  const quitter = new AbortController();
  const waiting = [
    conversations.begin(address, unhurried).then((turn) => (order.push('second'), turn)),
    conversations.begin(address, quitter),
    conversations.begin(address, unhurried).then((turn) => (order.push('third'), turn)),
  ];
  quitter.abort(new Error('gave up'));
  await assert.rejects(waiting[1]!, /gave up/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [], 'nobody starts while the first turn holds the conversation');
  first.record({ role: 'user', content: 'one' });
  first.release();
  first.release(); // a second release changes nothing
  const second = await waiting[0]!;
  assert.deepEqual(second.history.map((m) => m.content), ['one'], 'the next turn starts from what the first recorded');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ['second']);
  second.release();
  (await waiting[2]!).release();
  assert.deepEqual(order, ['second', 'third']);
  const after = await conversations.begin(address, { signal: AbortSignal.abort() });
  after.release();
  assert.ok(after, 'a free conversation is taken at once, without reading the signal');
});
