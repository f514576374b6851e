/**
 * Strings kept for a long time (stored answers and conversations, map keys), kept as one piece.
 *
 * V8 holds a string built with `+` or `+=` as a tree of its pieces until something reads it by
 * position or joins it. Answers streamed in 20,000 pieces were held that way at over ten times the
 * memory of their text (tests/stored-text.test.ts), for as long as their task or conversation is
 * kept, while the stores' limits weigh text by its bytes. (Weighing a text happens to join it too;
 * that is not what it is for, so the stores do not count on it.)
 */

/** `text` as one piece: reading a character makes V8 copy the pieces into one string, in place, and drop them. */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** A map key made of several parts: joined, which builds one string where `+` would build a tree. */
export function compositeKey(...parts: string[]): string {
  return parts.join('\u0000');
}
