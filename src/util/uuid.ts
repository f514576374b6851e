/**
 * Random (version 4) UUIDs for task, context, message and request ids: four per blocking send.
 *
 * Made here rather than with crypto.randomUUID, which joins each id from 20 pieces: V8 keeps such a
 * string as a tree of its pieces until something reads it by position, so every stored task held
 * three trees of about 500 bytes, and each made that much garbage (callgrind: 2k instructions more
 * per id than here). Here an id is written out in one step as one flat string, from the same
 * cryptographic source, drawn 256 ids' worth at a time (Node draws 128).
 */
import { randomFillSync } from 'node:crypto';

const BATCH_BYTES = 16 * 256;
const random = Buffer.alloc(BATCH_BYTES);
let next = BATCH_BYTES;

const HEX = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
/** Where each of the 16 bytes goes in xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx. */
const POSITIONS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The character codes of the id being made, dashes in place. */
const codes: number[] = Array.from('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', (char) => char.charCodeAt(0));

export function randomUuid(): string {
  if (next === BATCH_BYTES) {
    randomFillSync(random);
    next = 0;
  }
  for (let i = 0; i < 16; i++) {
    let byte = random[next + i]!;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10xx
    const at = POSITIONS[i]!;
    codes[at] = HEX[byte >> 4]!;
    codes[at + 1] = HEX[byte & 0x0f]!;
  }
  next += 16;
  return String.fromCharCode.apply(null, codes);
}
