/**
 * Server-Sent Events for both bindings: one JSON object per `data:` line.
 *
 * The first event is read before the response starts, so a request that fails at once gets the
 * binding's normal error response instead of a 200 stream holding one error.
 *
 * Events are read as fast as they come and queued for the client; a client that falls too far
 * behind gets one error event and is disconnected (it can subscribe again). A client that leaves
 * ends its iteration, which only unsubscribes it: the task goes on, recorded in full, whoever
 * watches. A comment line goes out every few seconds so proxies keep a quiet stream open.
 */
import type { Context } from 'hono';
import type { ServerCallContext } from '@a2a-js/sdk/server';
import { CLIENT_GONE } from '../a2a/request-handler.ts';

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(': keep-alive\n\n');

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
} as const;

export interface SseOptions<T> {
  /** What each event becomes on the wire. */
  toJson: (event: T) => unknown;
  /** The error object sent as a final `event: error` when the stream fails midway. */
  errorJson: (error: unknown) => unknown;
  /** The response for a stream that fails before its first event. */
  failEarly: (error: unknown) => Response;
  /** Milliseconds between keep-alive comments (default 15 s). */
  heartbeatMs?: number;
  /** Events a client may fall behind by before it is disconnected (default 1,000). */
  maxBehind?: number;
  /** Called once when the client leaves (or is disconnected) before the events end. */
  onClientGone?: () => void;
}

export async function sseResponse<T>(c: Context, events: AsyncIterable<T>, options: SseOptions<T>): Promise<Response> {
  const iterator = events[Symbol.asyncIterator]();
  let first: IteratorResult<T>;
  try {
    first = await iterator.next();
  } catch (error) {
    return options.failEarly(error);
  }

  const maxBehind = options.maxBehind ?? 1_000;
  let client: ReadableStreamDefaultController<Uint8Array> | undefined;
  let clientGone = false;
  /** The events ran out (or failed) by themselves: closing the stream then is not the client leaving. */
  let ended = false;
  const leave = () => {
    if (clientGone) return;
    clientGone = true;
    if (!ended) options.onClientGone?.();
    void iterator.return?.();
  };
  const closeClient = () => {
    leave();
    try {
      client?.close();
    } catch {
      // The client already cancelled.
    }
  };
  const send = (bytes: Uint8Array) => {
    if (!client || clientGone) return;
    if ((client.desiredSize ?? 0) < -maxBehind) {
      client.enqueue(frame(options.errorJson(new Error('The client fell too far behind this stream; subscribe to the task again to catch up.')), 'error'));
      closeClient();
      return;
    }
    client.enqueue(bytes);
  };

  const pump = async () => {
    const heartbeat = setInterval(() => send(KEEP_ALIVE), options.heartbeatMs ?? 15_000);
    try {
      let next = await iterator.next();
      for (; !next.done && !clientGone; next = await iterator.next()) send(frame(options.toJson(next.value)));
      ended = next.done === true;
    } catch (error) {
      ended = true;
      send(frame(options.errorJson(error), 'error'));
    } finally {
      clearInterval(heartbeat);
      closeClient();
    }
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      client = controller;
      if (first.done) {
        ended = true;
        return closeClient();
      }
      controller.enqueue(frame(options.toJson(first.value)));
      void pump();
    },
    cancel: leave,
  });
  return c.body(body, 200, SSE_HEADERS);
}

/** A stream of exactly one error event: how A2A 0.3 clients, which read only SSE, learn why a stream could not start. */
export function sseError(c: Context, json: unknown): Response {
  return c.body(`event: error\ndata: ${JSON.stringify(json)}\n\n`, 200, SSE_HEADERS);
}

function frame(json: unknown, event?: string): Uint8Array {
  return encoder.encode(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(json)}\n\n`);
}

/** Why the signal of watchForClientGone fired: one value made once, because a default abort reason is a DOMException, whose stack trace costs more than the rest of a short stream. */
const CLIENT_LEFT = new Error('The client left the stream.');

/** Gives the request handler a signal that fires when this stream's client leaves; returns what fires it. */
export function watchForClientGone(context: ServerCallContext): () => void {
  const gone = new AbortController();
  context.state.set(CLIENT_GONE, gone.signal);
  return () => gone.abort(CLIENT_LEFT);
}
