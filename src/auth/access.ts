/**
 * Who may use what, once a caller is known: scopes and allow-lists, for the server as a whole and
 * for each agent. One rule, applied by the middleware (the server's list) and the request handler
 * (each agent's), and read by the extended card to list the skills a caller may use.
 *
 * - Scopes are compared as whole tokens: a token with `agents:read` does not carry `agents`, nor
 *   `agents:read:all`.
 * - An allow-list admits a caller who matches any one of its entries: a Hugging Face user (by name)
 *   or organization (from whoami), an OIDC group or role (from the configured claim), or an API key
 *   (by its id). With no entries at all, everyone the schemes admit is allowed. A caller whose
 *   scheme cannot match any kind of entry listed is not allowed: lists deny by default.
 */
import type { Caller } from './caller.ts';
import { AccessDenied } from './errors.ts';

export interface AllowList {
  /** Hugging Face user names (compared without regard to case, as the Hub treats them). */
  users: readonly string[];
  /** Hugging Face organization names. */
  orgs: readonly string[];
  /** OIDC groups or roles, as the token's groups claim lists them (compared exactly). */
  groups: readonly string[];
  /** API key ids (the `id` of `id:key` in A2A_API_KEYS). */
  keys: readonly string[];
}

export interface AccessRule {
  /** Scopes a caller's token must carry, every one. */
  scopes: readonly string[];
  /** Undefined: no allow-list. */
  allow: AllowList | undefined;
}

/** Whether a list has any entry at all. */
export function hasEntries(allow: AllowList | undefined): allow is AllowList {
  return !!allow && (allow.users.length > 0 || allow.orgs.length > 0 || allow.groups.length > 0 || allow.keys.length > 0);
}

/** The reason `caller` may not use what `rule` guards, or undefined when they may. */
export function denial(caller: Caller, rule: AccessRule, what: string): AccessDenied | undefined {
  if (!caller.isAuthenticated) {
    // Anonymous callers exist only when no scheme is configured, and then no rule is configured either (start-up checks that).
    return rule.scopes.length > 0 || hasEntries(rule.allow) ? new AccessDenied('access_denied', `${what} is only for authenticated callers.`) : undefined;
  }
  const missing = rule.scopes.filter((scope) => !caller.hasScope(scope));
  if (missing.length > 0) {
    return new AccessDenied(
      'insufficient_scope',
      `${what} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which your token does not carry. Get a token that includes ${missing.length > 1 ? 'them' : 'it'}, then send again.`,
      rule.scopes,
    );
  }
  if (hasEntries(rule.allow) && !matches(caller, rule.allow)) {
    return new AccessDenied('access_denied', `${what} is open only to ${describe(rule.allow)}; you (${whoIs(caller)}) are not among them.`);
  }
  return undefined;
}

function matches(caller: Caller, allow: AllowList): boolean {
  switch (caller.scheme) {
    case 'huggingface': {
      const name = caller.profile?.name.toLowerCase();
      const orgs = new Set(caller.profile?.orgs.map((org) => org.toLowerCase()));
      return allow.users.some((user) => user.toLowerCase() === name) || allow.orgs.some((org) => orgs.has(org.toLowerCase()));
    }
    case 'oidc':
      return allow.groups.some((group) => caller.groups.includes(group));
    case 'api-key':
      return caller.keyId !== undefined && allow.keys.includes(caller.keyId);
    default:
      return false;
  }
}

function describe(allow: AllowList): string {
  const parts: string[] = [];
  if (allow.users.length) parts.push(`the Hugging Face users ${allow.users.join(', ')}`);
  if (allow.orgs.length) parts.push(`members of the Hugging Face organizations ${allow.orgs.join(', ')}`);
  if (allow.groups.length) parts.push(`members of the groups ${allow.groups.join(', ')}`);
  if (allow.keys.length) parts.push(`the API keys ${allow.keys.join(', ')}`);
  return parts.join('; ');
}

function whoIs(caller: Caller): string {
  switch (caller.scheme) {
    case 'huggingface':
      return `Hugging Face ${caller.profile?.type ?? 'user'} ${caller.profile?.name}${caller.profile?.orgs.length ? `, in ${caller.profile.orgs.join(', ')}` : ', in no listed organization'}`;
    case 'oidc':
      return caller.groups.length ? `groups ${caller.groups.join(', ')}` : 'a token with no groups';
    case 'api-key':
      return `API key ${caller.keyId}`;
    default:
      return 'anonymous';
  }
}
