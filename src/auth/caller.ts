/**
 * The caller on whose behalf work runs: who they are, and the credential their work uses.
 *
 * A Caller rides in the SDK's ServerCallContext (as its `user`) from the HTTP edge down to every
 * outbound call, so the credential travels with the work it started and never through module
 * state. The token is a private field: it is not enumerable, so it cannot leak through
 * JSON.stringify, a structured clone or a debug print of the context.
 */
import type { User } from '@a2a-js/sdk/server';

export class Caller implements User {
  readonly #token: string | undefined;

  constructor(
    /** Stable identity that owns tasks and conversations; '' for anonymous callers. */
    readonly userName: string,
    token: string | undefined,
    readonly isAuthenticated: boolean,
  ) {
    this.#token = token;
  }

  /** The credential outbound calls made for this caller carry. */
  get token(): string | undefined {
    return this.#token;
  }

  toJSON(): { userName: string } {
    return { userName: this.userName };
  }
}

/** Callers while inbound auth is off: anonymous, and their work uses the server's own token. */
export function anonymousCaller(serverToken: string | undefined): Caller {
  return new Caller('', serverToken, false);
}

/** Hono environment of every route behind the auth middleware: the caller is always set. */
export type CallerEnv = { Variables: { caller: Caller } };
