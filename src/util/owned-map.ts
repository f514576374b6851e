/**
 * The one bounded map for everything kept per owner (tasks, conversations).
 *
 * Bounded overall (entries, weight, age) and per owner (entries, weight). What goes when a limit is
 * passed is chosen so that no owner's use can push out another owner's data:
 * - over an owner's own quota, that owner's oldest entries go;
 * - over the overall budget, the oldest entry of whichever owner holds the most weight goes, so a
 *   caller who holds less than everyone else keeps their data while anyone heavier exists.
 * Entries for which `isPinned` says true (a task that is still running) are never evicted or
 * expired; their owner's other entries go instead.
 *
 * Weight is whatever unit the store chooses (here: roughly the bytes of an entry's JSON). Entries
 * keep write order: a write (set or touch) moves an entry to the end, so the oldest is first.
 */
export interface OwnedMapLimits {
  /** Entries held in all. */
  maxEntries: number;
  /** Weight held in all. */
  maxWeight: number;
  /** Milliseconds after its last write that an unpinned entry expires. */
  maxAgeMs: number;
  /** Entries one owner may hold. */
  maxEntriesPerOwner: number;
  /** Weight one owner may hold. */
  maxWeightPerOwner: number;
}

export interface OwnedMapOptions<V> {
  limits: OwnedMapLimits;
  weigh: (value: V) => number;
  /** Entries that must stay whatever the limits say (default: none). */
  isPinned?: (value: V) => boolean;
  /** Called for each entry evicted or expired (not for delete()). */
  onEvict?: (key: string, value: V) => void;
  /** Clock in epoch ms (default Date.now), replaceable in tests. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  owner: string;
  weight: number;
  expiresAt: number;
}

interface OwnerShare {
  /** The owner's keys in write order, oldest first. */
  keys: Set<string>;
  weight: number;
}

export class OwnedMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #owners = new Map<string, OwnerShare>();
  readonly #limits: OwnedMapLimits;
  readonly #weigh: (value: V) => number;
  readonly #isPinned: (value: V) => boolean;
  readonly #onEvict: ((key: string, value: V) => void) | undefined;
  readonly #now: () => number;
  #weight = 0;

  constructor(options: OwnedMapOptions<V>) {
    const { limits } = options;
    for (const [name, value] of Object.entries(limits)) {
      if (!(value > 0)) throw new RangeError(`OwnedMap: ${name} must be positive, not ${value}`);
    }
    this.#limits = limits;
    this.#weigh = options.weigh;
    this.#isPinned = options.isPinned ?? (() => false);
    this.#onEvict = options.onEvict;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Total weight held. */
  get weight(): number {
    return this.#weight;
  }

  /** Weight one owner holds. */
  weightOf(owner: string): number {
    return this.#owners.get(owner)?.weight ?? 0;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now() && !this.#isPinned(entry.value)) {
      this.#evict(key, entry);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` for `owner`, then enforces the limits. */
  set(owner: string, key: string, value: V): void {
    this.delete(key);
    const entry: Entry<V> = { value, owner, weight: this.#weigh(value), expiresAt: this.#now() + this.#limits.maxAgeMs };
    this.#entries.set(key, entry);
    const share = this.#shareOf(owner);
    share.keys.add(key);
    share.weight += entry.weight;
    this.#weight += entry.weight;
    this.#enforce(owner, key);
  }

  /** The value of `key` has changed: weigh it again, refresh its age, and enforce the limits. */
  touch(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.set(entry.owner, key, entry.value);
  }

  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#remove(key, entry);
    return true;
  }

  /** One owner's live values, oldest write first. */
  *valuesOf(owner: string): Generator<V> {
    const share = this.#owners.get(owner);
    if (!share) return;
    for (const key of [...share.keys]) {
      const value = this.get(key);
      if (value !== undefined) yield value;
    }
  }

  #shareOf(owner: string): OwnerShare {
    let share = this.#owners.get(owner);
    if (!share) this.#owners.set(owner, (share = { keys: new Set(), weight: 0 }));
    return share;
  }

  /** Brings the map back within its limits; the entry just written (`kept`) and pinned ones stay. */
  #enforce(owner: string, kept: string): void {
    this.#expire();
    const limits = this.#limits;
    const share = this.#owners.get(owner);
    if (share && (share.keys.size > limits.maxEntriesPerOwner || share.weight > limits.maxWeightPerOwner)) {
      this.#shrink(share, kept, () => share.keys.size > limits.maxEntriesPerOwner || share.weight > limits.maxWeightPerOwner);
    }
    while (this.#entries.size > limits.maxEntries || this.#weight > limits.maxWeight) {
      const heaviest = this.#heaviestOwnerWithEvictable(kept);
      if (!heaviest) return; // only pinned entries (and the new one) left: they stay, and the overrun is theirs
      this.#shrink(heaviest, kept, () => false, 1);
    }
  }

  /** Evicts the share's oldest evictable entries while `over()` holds (or `count` of them). */
  #shrink(share: OwnerShare, kept: string, over: () => boolean, count = Infinity): void {
    // Deleting the current key while iterating a Set is safe, and copying it would cost every write.
    for (const key of share.keys) {
      if (count <= 0 || (count === Infinity && !over())) return;
      if (this.#evictable(key, kept)) {
        this.#evict(key, this.#entries.get(key)!);
        count--;
      }
    }
  }

  #heaviestOwnerWithEvictable(kept: string): OwnerShare | undefined {
    let heaviest: OwnerShare | undefined;
    for (const share of this.#owners.values()) {
      if (heaviest && share.weight <= heaviest.weight) continue;
      for (const key of share.keys) {
        if (this.#evictable(key, kept)) {
          heaviest = share;
          break;
        }
      }
    }
    return heaviest;
  }

  #evictable(key: string, kept: string): boolean {
    return key !== kept && !this.#isPinned(this.#entries.get(key)!.value);
  }

  /** Drops expired entries from the front (oldest writes); pinned ones are stepped over. */
  #expire(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) return;
      if (!this.#isPinned(entry.value)) this.#evict(key, entry);
    }
  }

  #evict(key: string, entry: Entry<V>): void {
    this.#remove(key, entry);
    this.#onEvict?.(key, entry.value);
  }

  #remove(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    this.#weight -= entry.weight;
    const share = this.#owners.get(entry.owner)!;
    share.keys.delete(key);
    share.weight -= entry.weight;
    if (share.keys.size === 0) this.#owners.delete(entry.owner);
  }
}
