/**
 * Now as an ISO 8601 UTC timestamp with milliseconds (what Date#toISOString gives), cheaply: task
 * statuses and log lines take one each, several per request. Date#toISOString formats through
 * snprintf, which costs more than a short turn's own work; here the text up to the seconds is
 * formatted once per second and only the milliseconds are added per call.
 */
let second = -1;
let prefix = '';
/** The last timestamp made, and its millisecond: many requests take theirs within the same one. */
let lastMs = -1;
let last = '';

export function isoNow(): string {
  return isoTime(Date.now());
}

/** `ms` (epoch milliseconds, an integer) as Date#toISOString gives it. */
export function isoTime(ms: number): string {
  if (ms === lastMs) return last;
  const s = Math.floor(ms / 1000);
  if (s !== second) {
    second = s;
    // "2026-11-30T21:15:12." from "2026-11-30T21:15:12.000Z"; outside years 0-9999 the format is longer, and correct too.
    const iso = new Date(s * 1000).toISOString();
    prefix = iso.slice(0, iso.length - 4);
  }
  const milli = ms - s * 1000;
  lastMs = ms;
  // Joined rather than concatenated: `+` would make a chain of string pieces, and a timestamp is
  // kept in every stored task, where one flat string is fewer objects for the collector to copy.
  last = [prefix, milli < 10 ? '00' : milli < 100 ? '0' : '', milli, 'Z'].join('');
  return last;
}
