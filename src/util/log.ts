/**
 * One JSON line per event on stderr, at or above the level LOG_LEVEL names (app.ts sets it).
 *
 * Every line passes through redact() as it is written: that is the one redaction point for logs,
 * and it also covers what libraries write with console.* (captureConsole), which otherwise carries
 * caller-chosen values and stack traces to the log. Lines are JSON-encoded whole, so a value with a
 * newline or a quote cannot forge a line of its own.
 *
 * Lines are written once per turn of the event loop, batched: a request log line each would
 * otherwise cost a write system call per request. They go to stderr without ever making the event
 * loop wait for its reader (log-writer.ts).
 */
import { format } from 'node:util';
import { isoNow } from './iso-time.ts';
import { LogWriter } from './log-writer.ts';
import { redact } from './redact.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** Plain values by name; undefined ones are left out of the line. */
type Fields = object;

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: Infinity };
export const LEVELS = Object.keys(RANK) as Level[];

let threshold = RANK.info;
let pending: string[] = [];
let scheduled = false;

/** How far the log's reader may fall behind before lines are dropped (and counted). */
const MAX_LOG_BACKLOG_BYTES = 1024 * 1024;
const stderr = new LogWriter({
  maxWaitingBytes: MAX_LOG_BACKLOG_BYTES,
  droppedLine: (count) => line('warn', 'log lines dropped: the log reader fell behind', `{"dropped":${count},"backlogBytes":${MAX_LOG_BACKLOG_BYTES}}`),
});
let destination: ((text: string, lines: number) => void) | undefined;

/** Lines below `level` are dropped. */
export function setLogLevel(level: Level): void {
  threshold = RANK[level];
}

export function isLevel(value: string): value is Level {
  return value in RANK;
}

function write(level: Exclude<Level, 'silent'>, message: string, fields?: Fields): void {
  if (RANK[level] < threshold) return;
  pending.push(line(level, message, fields ? JSON.stringify(fields) : '{}'));
  if (!scheduled) {
    scheduled = true;
    setImmediate(writePending);
  }
}

/** One redacted line: time, level and message first, then the fields (`fieldsJson`, a JSON object). */
function line(level: Exclude<Level, 'silent'>, message: string, fieldsJson: string): string {
  const head = `{"time":"${isoNow()}","level":"${level}","message":${JSON.stringify(message)}`;
  return redact(fieldsJson === '{}' ? `${head}}` : `${head},${fieldsJson.slice(1)}`);
}

/** The lines of this turn of the event loop, as one text. */
function takePending(): { text: string; lines: number } | undefined {
  scheduled = false;
  if (pending.length === 0) return undefined;
  const batch = { text: `${pending.join('\n')}\n`, lines: pending.length };
  pending = [];
  return batch;
}

function writePending(): void {
  const batch = takePending();
  if (!batch) return;
  if (destination) destination(batch.text, batch.lines);
  else stderr.write(batch.text, batch.lines);
}

/**
 * Lets every line logged so far reach stderr, waiting up to `timeoutMs` for a reader that is behind:
 * before a planned exit, so the last lines are not lost.
 */
export async function drainLog(timeoutMs: number): Promise<void> {
  writePending();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([stderr.idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

/** Writes everything waiting now, blocking (unless the reader is behind): at exit, so the last lines are not lost. */
export function flushLog(): void {
  const batch = takePending();
  if (destination) {
    if (batch) destination(batch.text, batch.lines);
  } else {
    stderr.flushSync(batch?.text);
  }
}

/**
 * Sends log lines to `to` instead of stderr (a test reads them this way, in its own process);
 * returns what restores stderr.
 */
export function redirectLog(to: (text: string) => void): () => void {
  destination = to;
  return () => {
    flushLog();
    destination = undefined;
  };
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
