/**
 * What a kept value costs, for the stores' weight limits: an upper bound on both what it takes in
 * memory and what it takes to send back.
 */

/** Texts up to this many characters are counted in JavaScript when they are ASCII (see textBytes). */
const SHORT_TEXT = 64;

/**
 * A string's UTF-8 length: at least its size in V8's heap (1 byte a character, or 2 for a string with
 * any character past U+00FF) and its size in a response but for JSON escapes (a control character
 * goes out as six). Counting characters instead lets a text of U+FFFD weigh a third of what it costs
 * to send.
 */
export function textBytes(text: string): number {
  // Most texts weighed are ids and short words: counting them here costs less than a call into
  // Buffer's native code, which is kept for long texts and for anything past ASCII.
  if (text.length > SHORT_TEXT) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

/** V8's cost of an object or an array beyond its contents, and of one property or element slot. */
const OBJECT_BYTES = 64;
const SLOT_BYTES = 16;

/**
 * A JSON value (metadata, a data part) as kept in memory: every object, array and value counted at
 * what V8 spends on it. Its JSON text is no measure: `{}` is 2 characters and some 60 bytes of heap,
 * so a request's 10,000 values can hold over half a megabyte that their text weighs at 30 KB.
 */
export function jsonWeight(value: unknown): number {
  let weight = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') weight += SLOT_BYTES + textBytes(next);
    else if (Array.isArray(next)) {
      weight += OBJECT_BYTES + SLOT_BYTES * next.length;
      for (const item of next) pending.push(item);
    } else if (typeof next === 'object' && next !== null) {
      weight += OBJECT_BYTES;
      for (const [key, item] of Object.entries(next)) {
        weight += SLOT_BYTES + textBytes(key);
        pending.push(item);
      }
    } else if (next !== undefined) weight += SLOT_BYTES;
  }
  return weight;
}
