/**
 * One JSON line per event on stderr, at or above the level LOG_LEVEL names (app.ts sets it).
 *
 * Every line passes through redact() as it is written: that is the one redaction point for logs,
 * and it also covers what libraries write with console.* (captureConsole), which otherwise carries
 * caller-chosen values and stack traces to the log. Lines are JSON-encoded whole, so a value with a
 * newline or a quote cannot forge a line of its own.
 *
 * Lines are written once per turn of the event loop, batched: a request log line each would
 * otherwise cost a write system call per request.
 *
 * The backlog is bounded. On POSIX, Node writes a pipe or socket on stderr asynchronously and queues
 * in memory whatever it cannot take yet (measured here: 100 MB for 100,000 unread lines), so a log
 * reader that falls behind (a container's log driver) would grow the heap by every request's line.
 * Past MAX_BACKLOG_CHARS waiting, a turn's lines are dropped whole and counted, and the count is
 * logged once the backlog is back under the bound. (Node writes a file or a terminal synchronously:
 * no backlog.)
 */
import { format } from 'node:util';
import { clip } from './clip.ts';
import { isoNow } from './iso-time.ts';
import { redact } from './redact.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** Plain values by name; undefined ones are left out of the line. */
type Fields = object;

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: Infinity };
export const LEVELS = Object.keys(RANK) as Level[];

let threshold = RANK.info;
let pending: string[] = [];
let scheduled = false;

/**
 * The longest a string may run in a log line; longer ones are cut. Paths, method names and ids in a
 * request's line are the caller's to choose: uncut, one request could write as many bytes of log as
 * its URL or body holds, and a few such requests would fill the backlog and push out every other
 * caller's lines.
 */
const MAX_LOGGED_STRING = 1_000;

/** Characters of lines that may wait for stderr's reader (1 Mi: 1 MiB of ASCII) before newer lines are dropped. */
const MAX_BACKLOG_CHARS = 1024 * 1024;
/** Lines dropped since the last count was logged. */
let dropped = 0;

/** Lines below `level` are dropped. */
export function setLogLevel(level: Level): void {
  threshold = RANK[level];
}

export function isLevel(value: string): value is Level {
  return value in RANK;
}

function write(level: Exclude<Level, 'silent'>, message: string, fields?: Fields): void {
  if (RANK[level] < threshold) return;
  let fieldsJson = fields ? JSON.stringify(fields) : '{}';
  // Fields this short cannot hold a string over the limit: only a longer line is encoded again, cut.
  if (fieldsJson.length > MAX_LOGGED_STRING) fieldsJson = JSON.stringify(fields, clipLongStrings);
  pending.push(line(level, clipped(message), fieldsJson));
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushLog);
  }
}

/** One redacted line: time, level and message first, then the fields (`fieldsJson`, a JSON object). */
function line(level: Exclude<Level, 'silent'>, message: string, fieldsJson: string): string {
  const head = `{"time":"${isoNow()}","level":"${level}","message":${JSON.stringify(message)}`;
  return redact(fieldsJson === '{}' ? `${head}}` : `${head},${fieldsJson.slice(1)}`);
}

/** JSON escapes a character in at most this many: `\u0001`. */
const LONGEST_ESCAPE = 6;

/**
 * `text` as it may appear in a log line, at most MAX_LOGGED_STRING characters once JSON-encoded
 * (control characters and lone surrogates take 6 each): redacted before it is cut, since a cut can
 * leave part of a secret too short for its pattern to be recognised when the whole line is redacted.
 */
function clipped(text: string): string {
  if (text.length * LONGEST_ESCAPE <= MAX_LOGGED_STRING || encodedLength(text) <= MAX_LOGGED_STRING) return text;
  let cut = clip(redact(text), MAX_LOGGED_STRING);
  while (encodedLength(cut) > MAX_LOGGED_STRING) cut = clip(cut, Math.ceil(cut.length / 2));
  return `${cut} (${text.length} characters)`;
}

/** The length of `text` as a JSON string, without its quotes. */
function encodedLength(text: string): number {
  return JSON.stringify(text).length - 2;
}

function clipLongStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? clipped(value) : value;
}

/** The lines of this turn of the event loop, as one text. */
function takePending(): { text: string; lines: number } | undefined {
  scheduled = false;
  if (pending.length === 0) return undefined;
  const batch = { text: `${pending.join('\n')}\n`, lines: pending.length };
  pending = [];
  return batch;
}

/** Writes what is waiting now (each turn of the event loop, and at exit, so the last lines are not lost). */
export function flushLog(): void {
  const batch = takePending();
  if (!batch) return;
  const stderr = process.stderr;
  if (stderr.writableLength > MAX_BACKLOG_CHARS) {
    // The count goes out with the next lines written, or once the reader has taken the backlog.
    if (dropped === 0) stderr.once('drain', () => stderr.write(droppedCount()));
    dropped += batch.lines;
    return;
  }
  // Before this turn's lines: those it counts were logged earlier.
  stderr.write(droppedCount() + batch.text);
}

/** The line that reports the lines dropped since the last one ('' when none were, or when warnings are not logged). */
function droppedCount(): string {
  if (dropped === 0) return '';
  const count = dropped;
  dropped = 0;
  return RANK.warn >= threshold ? `${line('warn', 'log lines dropped: the log reader fell behind', `{"dropped":${count}}`)}\n` : '';
}

/**
 * Writes what is waiting and lets stderr's reader take the backlog, waiting up to `timeoutMs` for a
 * reader that is behind: before a planned exit, since what is still queued then is lost.
 */
export async function drainLog(timeoutMs: number): Promise<void> {
  flushLog();
  if (process.stderr.writableLength === 0) return;
  let timer: NodeJS.Timeout | undefined;
  // An empty write's callback runs once everything queued before it has been written.
  await Promise.race([new Promise((resolve) => process.stderr.write('', resolve)), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

/** A short description of an error for a log line: its class and message, never its stack or request. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export const log = {
  debug: (message: string, fields?: Fields) => write('debug', message, fields),
  info: (message: string, fields?: Fields) => write('info', message, fields),
  warn: (message: string, fields?: Fields) => write('warn', message, fields),
  error: (message: string, fields?: Fields) => write('error', message, fields),
};

/**
 * Routes console.log/info/warn/error/debug (what libraries such as the SDK write) through this log:
 * one redacted JSON line each, an error as its class and message without its stack.
 */
export function captureConsole(): void {
  const text = (args: unknown[]) => format(...args.map((arg) => (arg instanceof Error ? describeError(arg) : arg)));
  console.debug = (...args: unknown[]) => write('debug', text(args), { source: 'console' });
  console.log = console.info = (...args: unknown[]) => write('info', text(args), { source: 'console' });
  console.warn = (...args: unknown[]) => write('warn', text(args), { source: 'console' });
  console.error = (...args: unknown[]) => write('error', text(args), { source: 'console' });
  process.once('exit', flushLog);
}
