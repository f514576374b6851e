/**
 * One JSON line per event on stderr. Every line passes through redact(), so a credential that slips
 * into a message or an error is replaced before it is written.
 */
import { redact } from './redact.ts';

type Level = 'info' | 'warn' | 'error';
type Fields = Record<string, string | number | boolean | undefined>;

function write(level: Level, message: string, fields?: Fields): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
  process.stderr.write(`${redact(line)}\n`);
}

/** A short description of an error for a log line: its class and message, never its stack or request. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export const log = {
  info: (message: string, fields?: Fields) => write('info', message, fields),
  warn: (message: string, fields?: Fields) => write('warn', message, fields),
  error: (message: string, fields?: Fields) => write('error', message, fields),
};
