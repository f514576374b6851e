/**
 * The one bounded map for everything kept in memory: per owner (tasks, conversations) and, with a
 * single owner, for caches (bounded-map.ts).
 *
 * Bounded overall (entries, weight, age) and per owner (entries, weight). What goes when a limit is
 * passed is chosen so that no owner's use can push out another owner's data:
 * - over an owner's own quota, that owner's oldest entries go;
 * - over the overall budget, the oldest entry of whichever owner holds the most of what is over
 *   goes (the most entries when there are too many, the most weight when they weigh too much), so
 *   a caller who holds less than everyone else keeps their data while anyone holding more exists.
 * Entries for which `isPinned` says true (a task that is still running) are never evicted or
 * expired, and neither is the entry being written.
 *
 * Every operation is O(1) or O(log owners): entries sit in two intrusive lists in write order (all
 * entries, and each owner's), and owners in two heaps, by weight and by count. Iterating a Map or Set from its front
 * after deleting from the front would instead step over every deleted slot, which measured as the
 * largest cost of a request once a store was full.
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
  /** An entry's weight, in whatever unit the limits use (default: every entry weighs 0). */
  weigh?: (value: V) => number;
  /** Entries that must stay whatever the limits say (default: none). */
  isPinned?: (value: V) => boolean;
  /** Called for each entry evicted or expired (not for delete()). */
  onEvict?: (key: string, value: V) => void;
  /** Clock in epoch ms (default Date.now), replaceable in tests. */
  now?: () => number;
}

interface Entry<V> {
  key: string;
  value: V;
  share: OwnerShare<V>;
  weight: number;
  expiresAt: number;
  // All entries, oldest write first.
  prev: Entry<V> | undefined;
  next: Entry<V> | undefined;
  // The owner's entries, oldest write first.
  ownerPrev: Entry<V> | undefined;
  ownerNext: Entry<V> | undefined;
}

interface OwnerShare<V> {
  owner: string;
  count: number;
  weight: number;
  oldest: Entry<V> | undefined;
  newest: Entry<V> | undefined;
  /** Positions in the heaps of owners by weight and by count (see OwnerHeap). */
  positions: [number, number];
}

export class OwnedMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #owners = new Map<string, OwnerShare<V>>();
  /** Owners by weight and by number of entries, most first. */
  readonly #byWeight = new OwnerHeap<OwnerShare<V>>((share) => share.weight, 0);
  readonly #byCount = new OwnerHeap<OwnerShare<V>>((share) => share.count, 1);
  readonly #limits: OwnedMapLimits;
  readonly #weigh: (value: V) => number;
  readonly #isPinned: (value: V) => boolean;
  readonly #onEvict: ((key: string, value: V) => void) | undefined;
  readonly #now: () => number;
  #oldest: Entry<V> | undefined;
  #newest: Entry<V> | undefined;
  #weight = 0;

  constructor(options: OwnedMapOptions<V>) {
    for (const [name, value] of Object.entries(options.limits)) {
      if (!(value > 0)) throw new RangeError(`OwnedMap: ${name} must be positive, not ${value}`);
    }
    this.#limits = options.limits;
    this.#weigh = options.weigh ?? (() => 0);
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
      this.#evict(entry);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores `value` for `owner` as the newest write, then brings the map within its limits. */
  set(owner: string, key: string, value: V): void {
    this.delete(key);
    let share = this.#owners.get(owner);
    if (!share) {
      share = { owner, count: 0, weight: 0, oldest: undefined, newest: undefined, positions: [0, 0] };
      this.#owners.set(owner, share);
      this.#byWeight.add(share);
      this.#byCount.add(share);
    }
    const entry: Entry<V> = { key, value, share, weight: this.#weigh(value), expiresAt: 0, prev: undefined, next: undefined, ownerPrev: undefined, ownerNext: undefined };
    this.#entries.set(key, entry);
    this.#link(entry);
    share.count++;
    this.#byCount.grew(share);
    this.#reweigh(share, entry.weight);
    this.#enforce(share, entry);
  }

  /**
   * `value`, stored under `key`, has changed: weigh it again, make it the newest write, and enforce
   * the limits. Nothing happens if `key` no longer holds that value.
   */
  touch(key: string, value: V): void {
    const entry = this.#entries.get(key);
    if (!entry || entry.value !== value) return;
    // In place: the entry keeps its object and only moves to the newest end of both lists.
    this.#unlink(entry);
    this.#link(entry);
    const weight = this.#weigh(entry.value);
    const delta = weight - entry.weight;
    entry.weight = weight;
    this.#reweigh(entry.share, delta);
    this.#enforce(entry.share, entry);
  }

  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#remove(entry);
    return true;
  }

  /** One owner's live values, oldest write first. */
  valuesOf(owner: string): V[] {
    const values: V[] = [];
    const now = this.#now();
    for (let entry = this.#owners.get(owner)?.oldest; entry; entry = entry.ownerNext) {
      if (entry.expiresAt > now || this.#isPinned(entry.value)) values.push(entry.value);
    }
    return values;
  }

  #enforce(share: OwnerShare<V>, kept: Entry<V>): void {
    this.#expire(kept);
    const limits = this.#limits;
    while (share.count > limits.maxEntriesPerOwner || share.weight > limits.maxWeightPerOwner) {
      if (!this.#evictOldestOf(share, kept)) break;
    }
    // Over a shared limit, the owner who holds the most of what is over pays: the most entries for
    // the count, the most weight for the weight.
    while (this.#entries.size > limits.maxEntries) {
      if (!this.#evictFromLargest(this.#byCount, kept)) break; // only pinned entries (and the new one) left: the overrun is theirs
    }
    while (this.#weight > limits.maxWeight) {
      if (!this.#evictFromLargest(this.#byWeight, kept)) break;
    }
  }

  /** Drops expired entries from the front; a pinned one found there is moved back with a fresh age. */
  #expire(kept: Entry<V>): void {
    const now = this.#now();
    for (let entry = this.#oldest; entry && entry !== kept && entry.expiresAt <= now; entry = this.#oldest) {
      if (!this.#isPinned(entry.value)) {
        this.#evict(entry);
        continue;
      }
      this.#unlink(entry);
      this.#link(entry);
    }
  }

  #evictOldestOf(share: OwnerShare<V>, kept: Entry<V>): boolean {
    for (let entry = share.oldest; entry; entry = entry.ownerNext) {
      if (entry !== kept && !this.#isPinned(entry.value)) {
        this.#evict(entry);
        return true;
      }
    }
    return false;
  }

  /** Evicts the oldest evictable entry of the owner first in `heap` that has one. */
  #evictFromLargest(heap: OwnerHeap<OwnerShare<V>>, kept: Entry<V>): boolean {
    // The largest owner nearly always has something to give: try it before walking the heap.
    const largest = heap.largest;
    if (largest && this.#evictOldestOf(largest, kept)) return true;
    for (const share of heap.inOrder()) if (share !== largest && this.#evictOldestOf(share, kept)) return true;
    return false;
  }

  #evict(entry: Entry<V>): void {
    this.#remove(entry);
    this.#onEvict?.(entry.key, entry.value);
  }

  #remove(entry: Entry<V>): void {
    this.#entries.delete(entry.key);
    this.#unlink(entry);
    const share = entry.share;
    share.count--;
    this.#byCount.shrank(share);
    this.#reweigh(share, -entry.weight);
    if (share.count === 0) {
      this.#owners.delete(share.owner);
      this.#byWeight.remove(share);
      this.#byCount.remove(share);
    }
  }

  /** Appends the entry to both lists as the newest write, with a fresh age. */
  #link(entry: Entry<V>): void {
    const share = entry.share;
    entry.expiresAt = this.#now() + this.#limits.maxAgeMs;
    entry.prev = this.#newest;
    entry.next = undefined;
    if (this.#newest) this.#newest.next = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    entry.ownerPrev = share.newest;
    entry.ownerNext = undefined;
    if (share.newest) share.newest.ownerNext = entry;
    else share.oldest = entry;
    share.newest = entry;
  }

  #unlink(entry: Entry<V>): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.#oldest = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#newest = entry.prev;
    const share = entry.share;
    if (entry.ownerPrev) entry.ownerPrev.ownerNext = entry.ownerNext;
    else share.oldest = entry.ownerNext;
    if (entry.ownerNext) entry.ownerNext.ownerPrev = entry.ownerPrev;
    else share.newest = entry.ownerPrev;
  }

  #reweigh(share: OwnerShare<V>, delta: number): void {
    share.weight += delta;
    this.#weight += delta;
    if (delta > 0) this.#byWeight.grew(share);
    else if (delta < 0) this.#byWeight.shrank(share);
  }
}

/**
 * Owners in a binary max-heap by `size`, so the largest is found at once and each change costs
 * O(log owners). Each owner keeps its position in slot `slot` of its `positions`, one slot per heap.
 */
class OwnerHeap<T extends { positions: [number, number] }> {
  readonly #items: T[] = [];
  readonly #size: (item: T) => number;
  readonly #slot: 0 | 1;

  constructor(size: (item: T) => number, slot: 0 | 1) {
    this.#size = size;
    this.#slot = slot;
  }

  get largest(): T | undefined {
    return this.#items[0];
  }

  add(item: T): void {
    item.positions[this.#slot] = this.#items.length;
    this.#items.push(item);
    this.grew(item);
  }

  remove(item: T): void {
    const last = this.#items.pop()!;
    if (last === item) return;
    const at = item.positions[this.#slot];
    this.#items[at] = last;
    last.positions[this.#slot] = at;
    this.#up(at);
    this.#down(at);
  }

  grew(item: T): void {
    this.#up(item.positions[this.#slot]);
  }

  shrank(item: T): void {
    this.#down(item.positions[this.#slot]);
  }

  /** Largest first, then down the heap in order of size (for when the largest cannot give anything up). */
  *inOrder(): Generator<T> {
    const items = this.#items;
    if (items.length === 0) return;
    yield items[0]!;
    const pending = [1, 2].filter((child) => child < items.length);
    while (pending.length > 0) {
      pending.sort((a, b) => this.#size(items[b]!) - this.#size(items[a]!));
      const index = pending.shift()!;
      yield items[index]!;
      for (const child of [2 * index + 1, 2 * index + 2]) if (child < items.length) pending.push(child);
    }
  }

  #up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#size(this.#items[parent]!) >= this.#size(this.#items[index]!)) return;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #down(index: number): void {
    const items = this.#items;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let largest = index;
      if (left < items.length && this.#size(items[left]!) > this.#size(items[largest]!)) largest = left;
      if (right < items.length && this.#size(items[right]!) > this.#size(items[largest]!)) largest = right;
      if (largest === index) return;
      this.#swap(index, largest);
      index = largest;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const itemA = items[a]!;
    const itemB = items[b]!;
    items[a] = itemB;
    items[b] = itemA;
    itemA.positions[this.#slot] = b;
    itemB.positions[this.#slot] = a;
  }
}
