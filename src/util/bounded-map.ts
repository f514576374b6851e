/**
 * A cache: the owned map (owned-map.ts) with a single owner, limited in entries, total weight and
 * age; the oldest write goes first. Reads do not refresh an entry's age; a cache that wants to keep
 * something alive writes it again.
 */
import { OwnedMap } from './owned-map.ts';

export interface BoundedMapOptions<V> {
  maxEntries: number;
  /** Milliseconds after its last write that an entry expires. */
  maxAgeMs: number;
  /** With `weigh`: the most the entries may weigh together (default: no limit). */
  maxWeight?: number;
  weigh?: (value: V) => number;
  /** Clock in epoch ms (default Date.now), replaceable in tests. */
  now?: () => number;
}

export class BoundedMap<V> {
  readonly #map: OwnedMap<V>;

  constructor({ maxEntries, maxAgeMs, maxWeight = Infinity, weigh, now }: BoundedMapOptions<V>) {
    this.#map = new OwnedMap({ limits: { maxEntries, maxAgeMs, maxWeight, maxEntriesPerOwner: maxEntries, maxWeightPerOwner: maxWeight }, weigh, now });
  }

  get size(): number {
    return this.#map.size;
  }

  /** The total weight of the entries held. */
  get weight(): number {
    return this.#map.weight;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  set(key: string, value: V): void {
    this.#map.set('', key, value);
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }
}
