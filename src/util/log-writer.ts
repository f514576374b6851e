/**
 * Where log lines go: file descriptor 2, written from libuv's thread pool, one write at a time.
 *
 * process.stderr would either stop the event loop or hold without bound whatever its reader has not
 * taken: Node writes a file synchronously (a slow disk stalls every request), and queues what a
 * pipe or socket cannot take yet in memory (a container's log driver that falls behind grows the
 * server's heap by every request's log line; measured here, 100 MB for 100,000 lines). Here, lines
 * that arrive while a write is in flight wait, up to `maxWaitingBytes`; past that they are dropped
 * and counted, and the count is written as a line of its own once the reader catches up. Order is
 * kept and lines are never split.
 */
import { write, writeSync } from 'node:fs';

export interface LogWriterOptions {
  /** The file descriptor to write to (default 2, stderr). */
  fd?: number;
  /** Bytes of lines that may wait behind a write in flight before new ones are dropped (default 1 MiB). */
  maxWaitingBytes?: number;
  /** The line that reports `count` dropped lines (without its newline). */
  droppedLine: (count: number) => string;
}

/** How long to wait before trying again when the descriptor is non-blocking and full. */
const RETRY_MS = 20;

export class LogWriter {
  readonly #fd: number;
  readonly #maxWaitingBytes: number;
  readonly #droppedLine: (count: number) => string;
  #inFlight = false;
  #waiting: string[] = [];
  #waitingBytes = 0;
  #dropped = 0;
  /** Set once the descriptor refuses writes for good (closed): lines are then discarded quietly. */
  #broken = false;
  /** Called once nothing is in flight or waiting. */
  #onIdle: Array<() => void> = [];

  constructor({ fd = 2, maxWaitingBytes = 1024 * 1024, droppedLine }: LogWriterOptions) {
    this.#fd = fd;
    this.#maxWaitingBytes = maxWaitingBytes;
    this.#droppedLine = droppedLine;
  }

  /** Queues `text` (`lines` whole lines, each ending in a newline), or drops it when too much is waiting. */
  write(text: string, lines: number): void {
    if (this.#broken) return;
    if (!this.#inFlight) return this.#start(text);
    if (this.#waitingBytes + text.length > this.#maxWaitingBytes) {
      this.#dropped += lines;
      return;
    }
    this.#waiting.push(text);
    this.#waitingBytes += text.length;
  }

  /** Settles once everything queued so far is written (or the descriptor has broken). */
  idle(): Promise<void> {
    if (!this.#inFlight) return Promise.resolve();
    return new Promise((resolve) => this.#onIdle.push(resolve));
  }

  /**
   * Writes what waits, then `text`, at once: for exit, when no later turn of the event loop will
   * come. Not while a write is still in flight, though: the reader is behind, and a blocking write
   * could hold the exit for as long as it stays there, so those last lines are lost instead.
   */
  flushSync(text = ''): void {
    if (this.#inFlight || this.#broken) return;
    text = this.#takeWaiting() + text;
    if (!text) return;
    try {
      writeSync(this.#fd, text);
    } catch {
      // Nowhere left to report it.
    }
  }

  #takeWaiting(): string {
    const report = this.#dropped > 0 ? `${this.#droppedLine(this.#dropped)}\n` : '';
    this.#dropped = 0;
    const text = report + this.#waiting.join('');
    this.#waiting = [];
    this.#waitingBytes = 0;
    return text;
  }

  #start(text: string): void {
    this.#inFlight = true;
    this.#send(Buffer.from(text), 0);
  }

  #send(buffer: Buffer, offset: number): void {
    write(this.#fd, buffer, offset, buffer.length - offset, null, (error, written) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.#send(buffer, offset), RETRY_MS).unref();
          return;
        }
        // EPIPE, EBADF: nobody reads this descriptor any more.
        this.#broken = true;
        this.#waiting = [];
        this.#waitingBytes = 0;
        return this.#settle();
      }
      if (offset + written < buffer.length) return this.#send(buffer, offset + written);
      const next = this.#takeWaiting();
      if (next) return this.#send(Buffer.from(next), 0);
      this.#settle();
    });
  }

  #settle(): void {
    this.#inFlight = false;
    const waiters = this.#onIdle;
    this.#onIdle = [];
    for (const resolve of waiters) resolve();
  }
}
