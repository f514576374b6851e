/**
 * Last-line defence for text that leaves the process (log lines, error messages, task status
 * text): anything shaped like a credential is replaced. The first defence is never putting a token
 * into such text; this catches what an upstream library or service might echo back.
 */
const RULES: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 [redacted]'], // Authorization header values
  [/\bhf_[A-Za-z0-9_-]{6,}/g, '[redacted]'], // Hugging Face user and OAuth tokens
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g, '[redacted]'], // JWTs
];

export function redact(text: string): string {
  return RULES.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}
