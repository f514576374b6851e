/**
 * A Map with a limit on entries, on their total weight (roughly, the characters they hold) and on
 * their age, for every cache and store that lives in memory.
 *
 * Entries are kept in write order (a write moves the key to the end), so the oldest write is always
 * first: evicting for a limit and sweeping for age both pop from the front, and each costs O(1) per
 * entry removed. Reads do not refresh an entry's age; a store that wants to keep something alive
 * writes it again.
 */
export interface BoundedMapOptions<V> {
  maxEntries: number;
  /** Milliseconds after its last write that an entry expires. */
  maxAgeMs: number;
  /** With `weigh`: the most the entries may weigh together. */
  maxWeight?: number;
  weigh?: (value: V) => number;
  /** Clock, replaceable in tests. */
  now?: () => number;
  /** Called for every entry that leaves because of a limit (not for delete()). */
  onEvict?: (key: string) => void;
}

interface Entry<V> {
  value: V;
  weight: number;
  expiresAt: number;
}

export class BoundedMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #maxWeight: number;
  readonly #weigh: ((value: V) => number) | undefined;
  readonly #now: () => number;
  readonly #onEvict: ((key: string) => void) | undefined;
  #weight = 0;

  constructor(options: BoundedMapOptions<V>) {
    if (!(options.maxEntries > 0) || !(options.maxAgeMs > 0)) {
      throw new RangeError('BoundedMap needs a positive maxEntries and maxAgeMs');
    }
    this.#maxEntries = options.maxEntries;
    this.#maxAgeMs = options.maxAgeMs;
    this.#maxWeight = options.maxWeight ?? Infinity;
    this.#weigh = options.weigh;
    this.#now = options.now ?? Date.now;
    this.#onEvict = options.onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The total weight of the entries held. */
  get weight(): number {
    return this.#weight;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#remove(key, entry);
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
    this.delete(key);
    const weight = this.#weigh?.(value) ?? 0;
    this.#entries.set(key, { value, weight, expiresAt: now + this.#maxAgeMs });
    this.#weight += weight;
    this.#sweep(now);
  }

  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry) this.#remove(key, entry);
    return entry !== undefined;
  }

  #remove(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#weight <= this.#maxWeight && entry.expiresAt > now) break;
      this.#remove(key, entry);
      this.#onEvict?.(key);
    }
  }
}
