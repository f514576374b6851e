/** Whether a Content-Type header names JSON, the only body either A2A binding reads. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json' || type === 'application/a2a+json';
}
