/**
 * The SSE writer on its own, where a client can be made to stop reading: one that falls too far
 * behind gets a final error event and is disconnected, and the server goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { sseResponse } from '../src/http/sse.ts';

test('a client that stops reading is sent one error event and disconnected, and its events stop being read', async () => {
  let produced = 0;
  async function* events() {
    for (let i = 0; i < 20; i++) {
      produced++;
      yield { n: i };
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const app = new Hono();
  app.get('/', (c) =>
    sseResponse(c, events(), {
      toJson: (event) => event,
      errorJson: (error) => ({ message: (error as Error).message }),
      failEarly: () => c.text('unused', 500),
      maxBehind: 3,
    }),
  );

  const response = await app.request('/');
  // Nobody reads for a while.
  for (let i = 0; i < 60; i++) await new Promise((resolve) => setImmediate(resolve));
  const text = await response.text();

  const frames = text.trim().split('\n\n');
  assert.match(frames.at(-1)!, /^event: error\ndata: .*fell too far behind/);
  assert.equal(frames.filter((f) => f.startsWith('event: error')).length, 1, 'one error event');
  assert.ok(frames.length < 20, `the stream was cut short (${frames.length} frames)`);
  assert.ok(produced < 20, `the events stopped being read once the client was cut off (${produced} read)`);
});

test('"client gone" fires when the client leaves before the events end, and never for a stream read to its end', async () => {
  let gone = 0;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  async function* events(hold: boolean) {
    yield { n: 0 };
    yield { n: 1 };
    if (hold) await held;
    yield { n: 2 };
  }
  const app = new Hono();
  app.get('/:hold', (c) =>
    sseResponse(c, events(c.req.param('hold') === 'hold'), {
      toJson: (event) => event,
      errorJson: (error) => ({ message: (error as Error).message }),
      failEarly: () => c.text('unused', 500),
      onClientGone: () => gone++,
    }),
  );

  const whole = await (await app.request('/read')).text();
  assert.equal(whole.trim().split('\n\n').length, 3);
  assert.equal(gone, 0, 'a stream that ended by itself: the client did not leave');

  const response = await app.request('/hold');
  const reader = response.body!.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(gone, 1, 'the client left while the events were still coming');
  release();
});
