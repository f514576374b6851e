/**
 * The `passthrough` model: answers with the caller's last text, in pieces, with no network. Local
 * runs and tests use it.
 */
import type { ChatModel } from './ports.ts';

/** Pieces a passthrough answer comes in, at most: enough to show streaming, few for a long text. */
const PASSTHROUGH_PIECES = 32;

export const passthroughModel: ChatModel = {
  async *stream({ messages, signal }) {
    const last = messages.findLast((message) => message.role === 'user')?.content ?? '';
    // Words with their trailing space, so the pieces join back to exactly the input.
    const words = last.match(/\S+\s*|\s+/g) ?? [];
    const perPiece = Math.ceil(words.length / PASSTHROUGH_PIECES);
    for (let i = 0; i < words.length; i += perPiece) {
      signal.throwIfAborted();
      yield { type: 'text', text: words.slice(i, i + perPiece).join('') };
    }
  },
};
