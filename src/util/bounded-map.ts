/**
 * A Map with a size limit and an age limit, for every cache and store that lives in memory.
 *
 * Entries are kept in write order (a write moves the key to the end), so the oldest write is always
 * first: evicting for size and sweeping for age both pop from the front, and each costs O(1) per
 * entry removed. Reads do not refresh an entry's age; a store that wants to keep something alive
 * writes it again.
 */
export interface BoundedMapOptions {
  maxEntries: number;
  /** Milliseconds after its last write that an entry expires. */
  maxAgeMs: number;
  /** Clock, replaceable in tests. */
  now?: () => number;
  /** Called for every entry that leaves because of a limit (not for delete()). */
  onEvict?: (key: string) => void;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class BoundedMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #onEvict: ((key: string) => void) | undefined;

  constructor(options: BoundedMapOptions) {
    if (!(options.maxEntries > 0) || !(options.maxAgeMs > 0)) {
      throw new RangeError('BoundedMap needs a positive maxEntries and maxAgeMs');
    }
    this.#maxEntries = options.maxEntries;
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? Date.now;
    this.#onEvict = options.onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      this.#onEvict?.(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): void {
    const now = this.#now();
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: now + this.#maxAgeMs });
    this.#sweep(now);
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Live entries, oldest write first. */
  *entries(): IterableIterator<[string, V]> {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) yield [key, entry.value];
    }
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && entry.expiresAt > now) break;
      this.#entries.delete(key);
      this.#onEvict?.(key);
    }
  }
}
