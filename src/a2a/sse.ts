/**
 * Server-Sent Events for both bindings: one JSON object per `data:` line.
 *
 * The first event is read before the response starts, so a request that fails at once gets a
 * normal error response with a proper status instead of a 200 stream holding one error.
 *
 * After that the SDK's stream is read as fast as it produces, whatever the client does: for a
 * streamed send, reading it is what records the task's progress in the task store, so a client
 * that goes away or reads slowly must not stop or delay that. A client that falls too far behind is
 * disconnected (it can subscribe again); a client that leaves a subscription just stops it. A
 * comment line goes out every few seconds so proxies keep a quiet stream open.
 */
import type { Context } from 'hono';

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(': keep-alive\n\n');

export const SSE_HEADERS = {
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
  /** Keep reading the events after the client has gone (true for sends, false for subscriptions). */
  drainAfterClientLeaves: boolean;
  heartbeatMs?: number;
  /** Events a client may fall behind by before it is disconnected. */
  maxBehind?: number;
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

  const send = (bytes: Uint8Array) => {
    if (!client || clientGone) return;
    if ((client.desiredSize ?? 0) < -maxBehind) {
      client.enqueue(frame(options.errorJson(new Error('The client fell too far behind this stream; subscribe to the task again to catch up.')), 'error'));
      closeClient();
      return;
    }
    client.enqueue(bytes);
  };
  const closeClient = () => {
    if (clientGone) return;
    clientGone = true;
    try {
      client?.close();
    } catch {
      // The client already cancelled.
    }
  };

  const pump = async () => {
    const heartbeat = setInterval(() => send(KEEP_ALIVE), options.heartbeatMs ?? 15_000);
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (!clientGone) send(frame(options.toJson(next.value)));
        else if (!options.drainAfterClientLeaves) {
          void iterator.return?.();
          break;
        }
      }
    } catch (error) {
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
        closeClient();
        return;
      }
      controller.enqueue(frame(options.toJson(first.value)));
      void pump();
    },
    cancel() {
      clientGone = true;
      if (!options.drainAfterClientLeaves) void iterator.return?.();
    },
  });
  return c.body(body, 200, SSE_HEADERS);
}

function frame(json: unknown, event?: string): Uint8Array {
  return encoder.encode(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(json)}\n\n`);
}
