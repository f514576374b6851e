/**
 * The `passthrough` model: answers with the caller's last text, in pieces, with no network. Local
 * runs and tests use it.
 */
import type { ChatModel } from './ports.ts';

/** Pieces a passthrough answer comes in, at most: enough to show streaming, few for a long text. */
const PASSTHROUGH_PIECES = 32;

export const passthroughModel: ChatModel = {
  // It ends within microtasks of starting, so it never looks at the signal (making one has a cost).
  async stream({ messages }, sink) {
    const last = messages.findLast((message) => message.role === 'user')?.content ?? '';
    for (const piece of passthroughPieces(last)) sink.text(piece);
  },
};

/**
 * `text` in at most PASSTHROUGH_PIECES pieces of whole words, each word with the white space after
 * it (white space before the first word is a word of its own), so the pieces join back to exactly
 * the text. Cut at positions found in one pass, rather than split into words and joined again.
 */
export function passthroughPieces(text: string): string[] {
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (i === 0 || (!isSpace(text.charCodeAt(i)) && isSpace(text.charCodeAt(i - 1)))) starts.push(i);
  }
  const perPiece = Math.ceil(starts.length / PASSTHROUGH_PIECES);
  const pieces: string[] = [];
  for (let w = 0; w < starts.length; w += perPiece) pieces.push(text.slice(starts[w], starts[w + perPiece] ?? text.length));
  return pieces;
}

/** What `\s` matches in a regular expression, by character code. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}
