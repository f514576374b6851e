/** Checks both A2A bindings make on a request before the SDK sees it. */

/** Whether a Content-Type header names JSON, the only body either binding reads. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json' || type === 'application/a2a+json';
}

/** What isValidTenant accepts, in words, for both bindings' error messages. */
export const TENANT_RULE = 'must be 1-64 letters, digits, ".", "_" or "-"';

/**
 * Whether a caller-chosen tenant name is acceptable: short and plain, because tenants key the task
 * store and the event buses, and each new one costs memory.
 */
export function isValidTenant(tenant: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tenant);
}
