/**
 * The caller on whose behalf work runs: who they are, and the credential their work uses.
 *
 * A Caller rides in the SDK's ServerCallContext (as its `user`) from the HTTP edge down to every
 * outbound call, so the credential travels with the work it started and never through module
 * state. The token is a private field: it is not enumerable, so it cannot leak through
 * JSON.stringify, a structured clone or a debug print of the context.
 */
import type { User } from '@a2a-js/sdk/server';

/** Who a verified caller is, as the Hub describes them. */
export interface CallerProfile {
  name: string;
  /** `user`, `org` or `app`. */
  type: string;
  orgs: readonly string[];
}

export class Caller implements User {
  readonly #token: string | undefined;

  constructor(
    /** Stable identity that owns tasks and conversations; '' for anonymous callers. */
    readonly userName: string,
    token: string | undefined,
    readonly isAuthenticated: boolean,
    /** Undefined for anonymous callers. */
    readonly profile?: CallerProfile,
  ) {
    this.#token = token;
  }

  /** The credential outbound calls made for this caller carry. */
  get token(): string | undefined {
    return this.#token;
  }

  toJSON(): { userName: string; profile: CallerProfile | undefined } {
    return { userName: this.userName, profile: this.profile };
  }
}

/** Callers while inbound auth is off: anonymous, and their work uses the server's own token. */
export function anonymousCaller(serverToken: string | undefined): Caller {
  return new Caller('', serverToken, false);
}

/** Hono environment of every route behind the auth middleware: the caller is always set. */
export type CallerEnv = { Variables: { caller: Caller } };
