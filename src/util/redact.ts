/**
 * The redaction entry point for text that leaves the process: log lines, HTTP error bodies, task
 * status messages and text bound for a model. Anything shaped like a credential is replaced
 * (the shapes are in src/auth/credentials.ts), and so is every secret the server itself was given
 * (its HF_TOKEN, API keys, client secrets), whatever its shape.
 *
 * The first defence is never putting a secret into such text; this catches what an upstream library
 * or service echoes back.
 */
import { MAY_HOLD_A_SECRET, SECRET_PATTERNS } from '../auth/credentials.ts';

const known = new Set<string>();

/** Registers a secret of the server's own (from configuration) so that it is redacted wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 8) known.add(secret);
}

export function redact(text: string): string {
  let out = text;
  if (MAY_HOLD_A_SECRET.test(out)) for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  for (const secret of known) if (out.includes(secret)) out = out.replaceAll(secret, '[redacted]');
  return out;
}
