/**
 * The caller on whose behalf work runs: who they are, and the credential their work uses.
 *
 * One Caller is made per request by the auth middleware and rides in the request's context object
 * (the SDK's ServerCallContext, as its `user`) from the HTTP edge down to every outbound call, so a
 * credential travels with the work it started and never through module state.
 */
import type { User } from '@a2a-js/sdk/server';
import type { Credential } from './credentials.ts';

/** Who a verified caller is, as the Hub describes them. */
export interface CallerProfile {
  name: string;
  /** `user`, `org` or `app`. */
  type: string;
  orgs: readonly string[];
}

export interface CallerInit {
  /** Stable identity that owns tasks and conversations; '' for anonymous callers. */
  id: string;
  /** What outbound calls made for this caller carry; undefined when there is nothing to carry. */
  credential: Credential | undefined;
  /** True when an inbound scheme verified who this is. */
  authenticated: boolean;
  /** Undefined for anonymous callers. */
  profile?: CallerProfile;
}

export class Caller implements User {
  readonly id: string;
  readonly credential: Credential | undefined;
  readonly isAuthenticated: boolean;
  readonly profile: CallerProfile | undefined;

  constructor(init: CallerInit) {
    this.id = init.id;
    this.credential = init.credential;
    this.isAuthenticated = init.authenticated;
    this.profile = init.profile;
  }

  /** The SDK's name for the identity that owns tasks. */
  get userName(): string {
    return this.id;
  }
}

/** Hono environment of every route behind the auth middleware: the caller is always set. */
export type CallerEnv = { Variables: { caller: Caller } };
