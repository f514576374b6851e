/**
 * Everything this project knows about secrets, in one place: what a credential is, what one looks
 * like in text (for redaction), which argument names hold one, and how a caller should send theirs.
 * Where a token may travel is the host policy (./host-policy.ts).
 */
import { inspect } from 'node:util';

/**
 * A credential that outbound calls made for a caller carry. The secret is a private field: it is
 * not enumerable, so JSON.stringify, structuredClone, util.inspect and a debug print of any object
 * holding it show only what it is, never its value. Only outbound adapters call reveal().
 */
export class Credential {
  readonly #secret: string;

  constructor(
    secret: string,
    /** Whose it is, for log lines and messages: the caller's own, or the server's HF_TOKEN. */
    readonly owner: 'caller' | 'server',
  ) {
    this.#secret = secret;
  }

  /** The secret itself, for the header of an outbound request. */
  reveal(): string {
    return this.#secret;
  }

  /** Removes this exact secret from text that is about to leave through a channel redact() misses. */
  scrub(text: string): string {
    return text.includes(this.#secret) ? text.replaceAll(this.#secret, '[redacted]') : text;
  }

  toJSON(): string {
    return `[${this.owner} credential]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/** Hugging Face user access tokens (`hf_...`) and OAuth access tokens (`hf_oauth_...`), as the Hub issues them. */
export const HF_TOKEN_SHAPE = /^hf_[A-Za-z0-9_]{8,250}$/;

/**
 * Credential shapes as they appear inside other text: glued to a word (`token_hf_...`), URL-encoded
 * (`hf%5F...`, `Bearer%20...`) or as a header value. Matched anywhere, not at word boundaries, since
 * an upstream error message can quote a token in any surrounding.
 */
export const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(Bearer|Basic)(\s+|%20|\+)(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2}){6,}/gi, '$1$2[redacted]'],
  [/\b((?:access_|refresh_|id_)?token|api[-_]?key|secret)(["']?\s*[:=]\s*["']?)(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2}){8,}/gi, '$1$2[redacted]'],
  [/hf(?:_|%5[Ff])(?:[A-Za-z0-9_-]|%5[Ff]){6,}/g, '[redacted]'],
  [/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g, '[redacted]'],
];

/**
 * What every one of SECRET_PATTERNS needs somewhere in the text: most text has none of it, and one
 * test settles that before the patterns run. Keep it in step with the patterns.
 */
export const MAY_HOLD_A_SECRET = /hf(?:_|%5f)|bearer|basic|eyj|token|api.?key|secret/i;

/** Names of tool arguments and headers whose values are secrets: shown as [redacted] in progress messages. */
export const SECRET_NAME = /token|secret|passw|authori[sz]ation|api[-_]?key|credential|cookie/i;

/** The two request headers a caller's Hugging Face token may arrive in, and leave in (see host-policy.ts). */
export const AUTHORIZATION = 'authorization';
export const X_HF_AUTHORIZATION = 'x-hf-authorization';

/** What to tell a person who sent no usable Hugging Face token. */
export const HOW_TO_SEND_A_TOKEN =
  'Send your Hugging Face token as "Authorization: Bearer <token>". Create one at https://huggingface.co/settings/tokens ' +
  '(a fine-grained token needs "Make calls to Inference Providers"), or log in with OAuth as described by the resource metadata.';
