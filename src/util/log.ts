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
 */
import { format } from 'node:util';
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

/** Lines below `level` are dropped. */
export function setLogLevel(level: Level): void {
  threshold = RANK[level];
}

export function isLevel(value: string): value is Level {
  return value in RANK;
}

function write(level: Exclude<Level, 'silent'>, message: string, fields?: Fields): void {
  if (RANK[level] < threshold) return;
  const head = `{"time":"${isoNow()}","level":"${level}","message":${JSON.stringify(message)}`;
  const rest = fields ? JSON.stringify(fields) : '{}';
  pending.push(redact(rest === '{}' ? `${head}}` : `${head},${rest.slice(1)}`));
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushLog);
  }
}

/** Writes what is waiting now (also on exit, so the last lines are not lost). */
export function flushLog(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const lines = `${pending.join('\n')}\n`;
  pending = [];
  process.stderr.write(lines);
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
