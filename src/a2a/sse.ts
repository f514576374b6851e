/**
 * Server-Sent Events for both bindings: one JSON object per `data:` line, pulled from the SDK's
 * event stream one at a time (so a slow reader slows the producer instead of growing a buffer).
 *
 * The first event is read before the response starts, so a request that fails at once gets a
 * normal error response with a proper status instead of a 200 stream holding one error. While the
 * agent is quiet a comment line goes out every few seconds, so proxies do not close the stream.
 * When the client goes away the SDK's stream is closed, which detaches it from the task.
 */
import type { Context } from 'hono';

const encoder = new TextEncoder();
const HEARTBEAT = Symbol('heartbeat');

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
  heartbeatMs?: number;
}

export async function sseResponse<T>(c: Context, events: AsyncIterable<T>, options: SseOptions<T>): Promise<Response> {
  const iterator = events[Symbol.asyncIterator]();
  let first: IteratorResult<T>;
  try {
    first = await iterator.next();
  } catch (error) {
    return options.failEarly(error);
  }

  const heartbeatMs = options.heartbeatMs ?? 15_000;
  let pending: Promise<IteratorResult<T>> | undefined;
  let finished = first.done === true;

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (!first.done) controller.enqueue(frame(options.toJson(first.value)));
      if (finished) controller.close();
    },
    async pull(controller) {
      pending ??= iterator.next();
      let timer: NodeJS.Timeout | undefined;
      const heartbeat = new Promise<typeof HEARTBEAT>((resolve) => (timer = setTimeout(resolve, heartbeatMs, HEARTBEAT)));
      try {
        const next = await Promise.race([pending, heartbeat]);
        if (next === HEARTBEAT) {
          controller.enqueue(encoder.encode(': keep-alive\n\n'));
          return;
        }
        pending = undefined;
        if (next.done) {
          finished = true;
          controller.close();
        } else {
          controller.enqueue(frame(options.toJson(next.value)));
        }
      } catch (error) {
        finished = true;
        controller.enqueue(encoder.encode(`event: error\ndata: ${JSON.stringify(options.errorJson(error))}\n\n`));
        controller.close();
      } finally {
        clearTimeout(timer);
      }
    },
    async cancel() {
      // The client left: release the SDK's subscription (the task itself runs on).
      if (!finished) await iterator.return?.();
    },
  });
  return c.body(body, 200, SSE_HEADERS);
}

function frame(json: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(json)}\n\n`);
}
