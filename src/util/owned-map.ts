/**
 * The one bounded map for everything kept in memory: per owner (tasks, conversations) and, with a
 * single owner, for caches (bounded-map.ts).
 *
 * Bounded overall (entries, weight, age) and per owner (entries, weight). What goes when a limit is
 * passed is chosen so that no owner's use can push out another owner's data:
 * - over an owner's own quota, that owner's oldest entries go;
 * - over the overall budget, the oldest entry of whichever owner holds the most weight goes, so a
 *   caller who holds less than everyone else keeps their data while anyone heavier exists.
 * Entries for which `isPinned` says true (a task that is still running) are never evicted or
 * expired, and neither is the entry being written.
 *
 * Every operation is O(1) or O(log owners): entries sit in two intrusive lists in write order (all
 * entries, and each owner's), and owners in a heap by weight. Iterating a Map or Set from its front
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
  /** Position in the heap of owners by weight. */
  heapIndex: number;
}

export class OwnedMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #owners = new Map<string, OwnerShare<V>>();
  /** Owners by weight, heaviest first (a binary max-heap). */
  readonly #heap: OwnerShare<V>[] = [];
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
      share = { owner, count: 0, weight: 0, oldest: undefined, newest: undefined, heapIndex: this.#heap.length };
      this.#owners.set(owner, share);
      this.#heap.push(share);
    }
    const entry: Entry<V> = { key, value, share, weight: this.#weigh(value), expiresAt: 0, prev: undefined, next: undefined, ownerPrev: undefined, ownerNext: undefined };
    this.#entries.set(key, entry);
    this.#link(entry);
    share.count++;
    this.#reweigh(share, entry.weight);
    this.#enforce(share, entry);
  }

  /** The value of `key` has changed: weigh it again, make it the newest write, and enforce the limits. */
  touch(key: string): void {
    const entry = this.#entries.get(key);
    if (entry) this.set(entry.share.owner, key, entry.value);
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
    while (this.#entries.size > limits.maxEntries || this.#weight > limits.maxWeight) {
      if (!this.#evictFromHeaviest(kept)) break; // only pinned entries (and the new one) left: the overrun is theirs
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

  /** Evicts the oldest evictable entry of the heaviest owner that has one. */
  #evictFromHeaviest(kept: Entry<V>): boolean {
    // Usually the heaviest owner has an evictable entry; owners holding only pinned entries are
    // stepped over in heap order.
    const heap = this.#heap;
    if (heap.length === 0) return false;
    if (this.#evictOldestOf(heap[0]!, kept)) return true;
    const pending = [1, 2].filter((child) => child < heap.length);
    while (pending.length > 0) {
      pending.sort((a, b) => heap[b]!.weight - heap[a]!.weight);
      const index = pending.shift()!;
      if (this.#evictOldestOf(heap[index]!, kept)) return true;
      for (const child of [2 * index + 1, 2 * index + 2]) if (child < heap.length) pending.push(child);
    }
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
    this.#reweigh(share, -entry.weight);
    if (share.count === 0) this.#dropOwner(share);
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
    if (delta > 0) this.#siftUp(share.heapIndex);
    else if (delta < 0) this.#siftDown(share.heapIndex);
  }

  #dropOwner(share: OwnerShare<V>): void {
    this.#owners.delete(share.owner);
    const last = this.#heap.pop()!;
    if (last === share) return;
    this.#heap[share.heapIndex] = last;
    last.heapIndex = share.heapIndex;
    this.#siftUp(last.heapIndex);
    this.#siftDown(last.heapIndex);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.weight >= heap[index]!.weight) return;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let largest = index;
      if (left < heap.length && heap[left]!.weight > heap[largest]!.weight) largest = left;
      if (right < heap.length && heap[right]!.weight > heap[largest]!.weight) largest = right;
      if (largest === index) return;
      this.#swap(index, largest);
      index = largest;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const shareA = heap[a]!;
    const shareB = heap[b]!;
    heap[a] = shareB;
    heap[b] = shareA;
    shareA.heapIndex = b;
    shareB.heapIndex = a;
  }
}
