/**
 * The HTTP floor: Hono on @hono/node-server echoing the JSON body it is sent. Nothing an A2A
 * server does can be faster than parsing and serializing the same body on the same stack.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
// Parse and re-serialize rather than pipe the bytes back, so the floor pays the JSON cost too.
app.post('/', async (c) => c.json(await c.req.json()));

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
  process.stderr.write(`${JSON.stringify({ message: 'listening', url: `http://127.0.0.1:${info.port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
