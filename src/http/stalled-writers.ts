/**
 * Destroys connections whose client stopped taking its answer, so the answer's memory is freed.
 *
 * Node holds whatever a socket cannot take yet for as long as the connection lives, and its HTTP
 * server has no timeout for that (`requestTimeout` and `headersTimeout` cover the request only). A
 * ListTasks page may be 4 MiB: measured, one such answer to a client that never reads held 12.5 MB of
 * buffers and 4.4 MB of heap, and 20 requests pipelined on one connection held every answer behind
 * the first (3 MB GetTasks: 58 MB of heap), on as many connections as a client opens.
 *
 * A connection is cut only when it has answer bytes queued in Node AND none of them moved over two
 * scans (`stallMs`). A turn waiting on its model has nothing queued, nor has a stream whose client
 * reads; a slow reader keeps moving bytes. Connections are kept in a map and one unref'd interval
 * looks at them: nothing runs per request.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { log } from '../util/log.ts';

export interface StalledWriterOptions {
  /**
   * Milliseconds a connection may hold queued answer bytes without any of them moving before it is
   * destroyed (default 30 s). Connections are looked at every half of it, so a stalled one is cut
   * between one and one and a half times it after it stalled.
   */
  stallMs?: number;
}

/** Two scans with no progress make a stall. */
const SCANS_PER_STALL = 2;

/** Where a connection's answer was at the last scan that saw bytes queued. */
interface Progress {
  /** Bytes Node handed to libuv, in whole write requests (`_bytesDispatched`). */
  dispatched: number | undefined;
  /** Bytes of those libuv has not yet given the kernel (`_handle.writeQueueSize`). */
  inLibuv: number | undefined;
  /** Bytes the kernel holds that the peer has not acknowledged (tx_queue in hex, Linux only). */
  inKernel: string | undefined;
  /** Scans in a row that found it where it was. */
  still: number;
  /** When it was last seen to move (epoch ms). */
  movedAt: number;
}

/** The private fields of a net.Socket read here (Node 20; absent ones read as undefined and compare equal). */
type SocketInternals = Socket & { _bytesDispatched?: number; _handle?: { writeQueueSize?: number } | null };

/** Watches `server`'s connections until it closes; cuts those whose client takes none of its answer. */
export function cutStalledWriters(server: Server, options: StalledWriterOptions = {}): void {
  const stallMs = options.stallMs ?? 30_000;
  if (!(stallMs > 0 && Number.isFinite(stallMs))) throw new RangeError(`stallMs must be a positive number of milliseconds, not ${stallMs}`);
  const scanMs = stallMs / SCANS_PER_STALL;
  /** Every open connection, with its Progress while it has bytes queued. */
  const connections = new Map<Socket, Progress | undefined>();

  function forget(this: Socket): void {
    connections.delete(this);
  }
  server.on('connection', (socket: Socket) => {
    connections.set(socket, undefined);
    socket.on('close', forget);
  });

  const scan = () => {
    const scannedAt = Date.now();
    /** Connections with bytes queued whose Node and libuv counters stood still since the last scan. */
    const still: SocketInternals[] = [];
    for (const [socket, before] of connections) {
      if (socket.writableLength === 0) {
        if (before) connections.set(socket, undefined);
        continue;
      }
      const internals = socket as SocketInternals;
      const dispatched = internals._bytesDispatched;
      const inLibuv = internals._handle?.writeQueueSize;
      if (before && before.dispatched === dispatched && before.inLibuv === inLibuv) still.push(internals);
      else connections.set(socket, { dispatched, inLibuv, inKernel: undefined, still: 0, movedAt: scannedAt });
    }
    if (still.length === 0) return;
    // Only for those is the kernel asked whether their client took anything (see below).
    const kernel = kernelSendQueues(new Set(still.map((socket) => socket.localPort)));
    for (const socket of still) {
      const before = connections.get(socket)!;
      const inKernel = reported(kernel?.get(connectionKey(socket.localPort, socket.remotePort)));
      // Moved only when both scans know the kernel's queue: the first scan to ask counts as still.
      const moved = before.inKernel !== undefined && inKernel !== undefined && inKernel !== before.inKernel;
      const now: Progress = moved ? { ...before, inKernel, still: 0, movedAt: scannedAt } : { ...before, inKernel, still: before.still + 1 };
      if (now.still < SCANS_PER_STALL) {
        connections.set(socket, now);
        continue;
      }
      log.warn('connection cut: its client stopped taking its answer', { queuedBytes: socket.writableLength, stalledMs: scannedAt - now.movedAt });
      connections.delete(socket);
      socket.destroy();
    }
  };
  const timer = setInterval(scan, scanMs).unref();
  server.once('close', () => clearInterval(timer));
}

/*
 * Why the kernel's queue as well as Node's: measured on loopback, a client reading one 4 MB answer
 * steadily at 40 KB/s left `writableLength`, `bytesWritten`, `_bytesDispatched` and libuv's
 * `writeQueueSize` unchanged for 27 s while it took 1.1 MB. `writableLength` falls only when the
 * whole write request completes; libuv writes more only when the kernel wakes it, after about a
 * third of a send buffer of up to 4 MiB has drained. Only the kernel's tx_queue (not yet sent, or
 * sent and not acknowledged) moved, each time the reader's window opened again. So a 30 s stall by
 * Node's signals alone would cut a reader slower than ~40 KB/s; the kernel's queue moves while the
 * client reads, and stays put when it reads nothing (zero-window probes acknowledge nothing). It
 * moves as the reader's window opens, in steps of a segment or two: on loopback (64 KiB segments)
 * every 2.4 s at 40 KB/s and every 20 s at 5 KB/s; a network link's segments (~1.4 KB) make steps
 * about 45 times smaller. Without /proc (not Linux) only Node's signals count, and a slow reader of
 * a large answer may be cut.
 */

/**
 * The kernel's queue of a connection with bytes waiting in Node, or undefined when it says nothing.
 * On Linux such a connection has a full send buffer, so a queue of 0 means a kernel that does not
 * report it (gVisor, which Cloud Run's first generation and GKE Sandbox use, always prints 0): there
 * only Node's signals count, as without /proc.
 */
function reported(queue: string | undefined): string | undefined {
  if (queue === undefined || !/^[0,]+$/.test(queue)) return queue;
  if (!reportedZero) log.warn('the kernel reports no send queues (/proc/net/tcp): a slow reader of a large answer may be cut as stalled');
  reportedZero = true;
  return undefined;
}

/** Whether /proc/net/tcp could be read last time; not asked again once it could not. */
let procReadable = true;
/** Whether a send queue read as 0 has been logged (once per process). */
let reportedZero = false;

/**
 * The kernel's send queue of the TCP connections on `localPorts` (this server's), by local and
 * remote port. Two peers that use the same port towards the same local port share a key and both
 * their queues: either one moving counts as progress, which can delay a cut, never cause one.
 *
 * The table lists every socket of the host's network namespace, so rows of other ports are passed
 * over before they are split.
 */
function kernelSendQueues(localPorts: ReadonlySet<number | undefined>): Map<string, string> | undefined {
  if (!procReadable) return undefined;
  const queues = new Map<string, string>();
  // Local addresses end in ":PORT" in four upper-case hex digits, then a space.
  const portTags = [...localPorts].filter((port) => port !== undefined).map((port) => `:${port.toString(16).toUpperCase().padStart(4, '0')} `);
  let readAny = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    readAny = true;
    // Rows: "sl local_address rem_address st tx_queue:rx_queue ...", addresses as HEXADDR:HEXPORT.
    for (const row of table.split('\n').slice(1)) {
      if (!portTags.some((tag) => row.includes(tag))) continue;
      const [, local, remote, , txRx] = row.trim().split(/\s+/, 5);
      if (!local || !remote || !txRx) continue;
      const key = connectionKey(parseInt(local.slice(local.lastIndexOf(':') + 1), 16), parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16));
      const tx = txRx.slice(0, txRx.indexOf(':'));
      const other = queues.get(key);
      queues.set(key, other === undefined ? tx : `${other},${tx}`);
    }
  }
  procReadable = readAny;
  return readAny ? queues : undefined;
}

function connectionKey(localPort: number | undefined, remotePort: number | undefined): string {
  return `${localPort} ${remotePort}`;
}
