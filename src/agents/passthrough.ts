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
    // Words with their trailing space, so the pieces join back to exactly the input.
    const words = last.match(/\S+\s*|\s+/g) ?? [];
    const perPiece = Math.ceil(words.length / PASSTHROUGH_PIECES);
    for (let i = 0; i < words.length; i += perPiece) sink.text(words.slice(i, i + perPiece).join(''));
  },
};
