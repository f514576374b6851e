/**
 * Handles a connection's pipelined requests one at a time, so one connection holds one answer.
 *
 * HTTP/1.1 lets a client write many requests on one connection before it reads any answer. Node's
 * server parses every one it receives and emits each at once; their answers must go out in order,
 * so each waits in memory (its ServerResponse's output buffer) until those before it are written.
 * Measured (Node 20, this server): 20 pipelined GetTasks of 3 MB on a connection that never reads
 * were all handled at once and held 57.5 MB of heap and 9 MB of buffers until the connection went;
 * with the per-address burst (250) one connection could pin about 1 GB for the 30-45 s the
 * stalled-writer guard (stalled-writers.ts) takes to cut it, and a client can open several.
 *
 * So a request whose answer is not next on its connection is not handled until it is. Node queues
 * such a response without a socket (`res.socket === null`) and gives it the socket, emitting
 * 'socket' on it, when the answer before it has been handed to the socket; only then does the
 * request reach the app. Measured with this in place: of the same 20 GetTasks, 2 were handled (one
 * answer taken whole by the kernel's socket buffers, one waiting in Node), holding 3 MB of heap and
 * the same 9 MB of buffers as 2 pipelined requests did before; a client that never reads pins one
 * answer, which the stalled-writer guard frees.
 *
 * Waiting requests are bounded too. Node stops reading a connection only when its socket cannot
 * take more or 16 KiB of queued answers wait, and a waiting request has no answer yet: measured
 * with no bound, 98,000 tiny requests pipelined behind a blocking send to a slow model were all
 * parsed and held, 447 MB of heap. So past MAX_WAITING waiting on one connection, a request is
 * answered 429 at once without reaching the app (no request log line or count, no CORS headers; one
 * warning per connection); those small answers do queue up, so Node's own flood guard stops reading the
 * connection once 16 KiB of them wait. Measured: the same flood held 6 MB.
 *
 * When the connection closes, Node destroys every request still queued on it ('close' on each; the
 * queued responses get no event), and a waiting request ends there without reaching the app. (When
 * a write fails as the peer resets, Node first hands the destroyed socket to the next response: that
 * turn ends the same way.)
 *
 * Cost: the request whose answer is next (every request but pipelined ones) pays one property read.
 * What pipelining clients lose: requests on one connection run in sequence, no longer at once
 * (RFC 9112 9.3.2 allows either), so pipelined sends wait for each other's turns; and a waiting
 * request's body is read when its turn comes, so one with a body larger than Node's read buffers
 * behind an answer that takes longer than the request timeout (30 s) to go out gets 408 and the
 * connection is closed, the answer in progress with it (measured, with a 1 s timeout behind a 2.5 s
 * send: with a 200 KB body it was, with a 10 KB one not). User agents should not pipeline after a
 * POST (same section), and fetch (undici) and browsers never pipeline one.
 */
import type { Socket } from 'node:net';
import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { log } from '../util/log.ts';
import { randomUuid } from '../util/uuid.ts';

/** Requests that may wait on one connection for the answers before theirs; more are refused with 429. */
export const MAX_WAITING = 32;

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

/** The refusal's body, in the REST error shape the rate limits answer with (src/http/app.ts). */
const REFUSAL = JSON.stringify({
  error: {
    code: 429,
    status: 'RESOURCE_EXHAUSTED',
    message: `More than ${MAX_WAITING} requests are waiting on this connection for the answers before theirs; read those answers before sending more.`,
    details: [],
  },
});

/** `fetch`, with each request handled only once its answer is the next to go out on its connection. */
export function answerInTurn(fetch: Fetch): Fetch {
  /** Requests waiting for their turn, by connection (only connections that have some). */
  const waiting = new WeakMap<Socket, number>();
  /** Connections already logged as refused, so a flood writes one line each. */
  const refused = new WeakSet<Socket>();

  function inTurn(request: Request, env: HttpBindings | Http2Bindings): Response | Promise<Response> {
    // HTTP/2 responses always have their stream; an HTTP/1.1 one has no socket while queued.
    if (env.outgoing.socket !== null) return fetch(request, env);
    return whenItsTurn(request, env as HttpBindings);
  }

  function whenItsTurn(request: Request, env: HttpBindings): Response | Promise<Response> {
    const { incoming, outgoing } = env;
    const socket = incoming.socket;
    if (incoming.destroyed) return RESPONSE_ALREADY_SENT;
    const ahead = waiting.get(socket) ?? 0;
    if (ahead >= MAX_WAITING) {
      // Refused before the app, with the headers every answer carries; the warning names the first
      // refusal's id, so the client's report of it can be found.
      const requestId = randomUuid();
      if (!refused.has(socket)) {
        refused.add(socket);
        log.warn('pipelined requests refused: too many waiting on one connection', { requestId, waiting: ahead });
      }
      return new Response(REFUSAL, { status: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': '1', 'X-Content-Type-Options': 'nosniff', 'X-Request-Id': requestId } });
    }
    waiting.set(socket, ahead + 1);
    return new Promise<boolean>((resolve) => {
      const settle = (turn: boolean) => {
        outgoing.off('socket', onTurn);
        incoming.off('close', onGone);
        const left = (waiting.get(socket) ?? 1) - 1;
        if (left > 0) waiting.set(socket, left);
        else waiting.delete(socket);
        resolve(turn);
      };
      // Node also passes the turn on when the answer before failed because the connection broke.
      const onTurn = () => settle(!socket.destroyed);
      const onGone = () => settle(false);
      outgoing.once('socket', onTurn);
      incoming.once('close', onGone);
    }).then((turn) => (turn ? fetch(request, env) : RESPONSE_ALREADY_SENT));
  }

  return inTurn;
}
