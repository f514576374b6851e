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
 * Where a name (Bearer, token, ...) may start: not after a letter or digit, so that `_` and other
 * punctuation separate (`client_secret=`, `x_Bearer`), and after a JSON escape (`\n`, `\t`, `\u000b`),
 * since log lines are redacted JSON-encoded and a newline before a name reads `\n` there.
 */
const START = String.raw`(?:(?<![A-Za-z0-9])|(?<=\\[bfnrt]|\\u[0-9A-Fa-f]{4}))`;
/** Whitespace, raw or as a JSON escape (`\t`, `\n`, `\r`, `\f`, `\u000b`; `\\t` when encoded twice). */
const SPACE = String.raw`(?:\s|\\+[tnrf]|\\+u000[bB])`;
/** An optional quote, raw or JSON-escaped once or more (`"`, `\"`, `\\\"`): a whole escape, so a replacement never splits one. */
const QUOTE = String.raw`(?:\\*["'])?`;
/** A name/value separator: `=`, `: `, `":"`, `\":\"` and so on. */
const ASSIGN = String.raw`(${QUOTE}${SPACE}*[:=]${SPACE}*${QUOTE})`;
/** A token's characters, raw or percent-encoded. */
const TOKEN_CHAR = String.raw`(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2})`;

/**
 * Credential shapes as they appear inside other text: glued to a word (`token_hf_...`), URL-encoded
 * (`hf%5F...`, `%68%66%5F...`, `Bearer%20...`), as a header value, or JSON-encoded (`Bearer\t...`,
 * `\"access_token\":\"...`). Matched anywhere, not at word boundaries, since an upstream error
 * message can quote a token in any surrounding. No pattern can end inside a JSON escape (none of
 * the values take a backslash), so a redacted log line is still JSON.
 *
 * A password's value is anything up to whitespace, a quote, a backslash or `&` (passwords hold
 * punctuation that tokens do not), and at least 8 characters: a word of prose after "password:"
 * ("see the docs") is shorter, and 8 is the shortest password most services (and NIST SP 800-63B)
 * accept, so a shorter one is rare.
 *
 * A JWT is `eyJ` (base64url of `{"`), 10 more characters of its header, a dot, a payload of at
 * least one character (`e30` is `{}`) and a dot: prose has no word starting `eyJ` followed by ten
 * letters or digits and two dots without a space.
 */
export const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(String.raw`${START}(Bearer|Basic)(${SPACE}+|%20|\+)${TOKEN_CHAR}{6,}`, 'gi'), '$1$2[redacted]'],
  // A value with a digit in it: code such as `hf_token = os.environ[...]` or `pad_token = tokenizer.eos_token` is left readable.
  [new RegExp(String.raw`${START}((?:access_|refresh_|id_)?token|api[-_]?key|secret)${ASSIGN}(?=(?:[A-Za-z._~+/=-]|%[0-9A-Fa-f]{2})*[0-9])${TOKEN_CHAR}{8,}`, 'gi'), '$1$2[redacted]'],
  // A value with a digit or a symbol in it: "Password: incorrect" is left readable.
  [new RegExp(String.raw`${START}(passw(?:or)?d)${ASSIGN}(?=[^\s"'\\&]*[0-9@#$%^*()_+=~|<>/\[\]{}-])[^\s"'\\&]{8,}`, 'gi'), '$1$2[redacted]'],
  [/(?:h|%68)(?:f|%66)(?:_|%5[Ff])(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2}){6,}/g, '[redacted]'],
  // Not after a base64url character (from every `eyJ` inside a long run, the search would scan to its
  // end again), but after a JSON escape or a percent-encoded one (`id_token%3DeyJ...`).
  [new RegExp(String.raw`(?:(?<![A-Za-z0-9_-])|(?<=\\[bfnrt]|\\u[0-9A-Fa-f]{4}|%[0-9A-Fa-f]{2}))eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`, 'g'), '[redacted]'],
];

/**
 * What every one of SECRET_PATTERNS needs somewhere in the text: most text has none of it, and one
 * test settles that before the patterns run. Keep it in step with the patterns.
 */
export const MAY_HOLD_A_SECRET = /(?:h|%68)(?:f|%66)(?:_|%5f)|bearer|basic|eyj|token|api.?key|secret|passw/i;

/** Names of tool arguments and headers whose values are secrets: shown as [redacted] in progress messages. */
export const SECRET_NAME = /token|secret|passw|authori[sz]ation|api[-_]?key|credential|cookie/i;

/** The two request headers a caller's Hugging Face token may arrive in, and leave in (see host-policy.ts). */
export const AUTHORIZATION = 'authorization';
export const X_HF_AUTHORIZATION = 'x-hf-authorization';

/** What to tell a person who sent no usable Hugging Face token. */
export const HOW_TO_SEND_A_TOKEN =
  'Send your Hugging Face token as "Authorization: Bearer <token>". Create one at https://huggingface.co/settings/tokens ' +
  '(a fine-grained token needs "Make calls to Inference Providers"), or log in with OAuth as described by the resource metadata.';
