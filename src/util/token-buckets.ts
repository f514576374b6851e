/**
 * Token buckets, one per key, in a bounded map: each key may take `burst` at once and `perSecond`
 * thereafter. Refilled lazily on use, so there is no timer per key and nothing runs while nobody
 * calls; keys that have not been used for a while (a full bucket's worth) are forgotten.
 *
 * Written here rather than taken from rate-limiter-flexible: that library counts fixed windows, with
 * a timer and a promise per key and an unbounded key map, where a flood of new keys must not grow
 * memory and the hot path should stay synchronous.
 */
import { BoundedMap } from './bounded-map.ts';

export interface BucketRate {
  /** Tokens added per second. */
  perSecond: number;
  /** Tokens a full bucket holds: the burst a key may spend at once. */
  burst: number;
}

interface Bucket {
  tokens: number;
  /** Epoch ms of the last refill. */
  at: number;
}

export class TokenBuckets {
  readonly #rate: BucketRate;
  readonly #buckets: BoundedMap<Bucket>;
  readonly #now: () => number;

  constructor(rate: BucketRate, { maxKeys = 100_000, now = Date.now }: { maxKeys?: number; now?: () => number } = {}) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError('a token bucket needs perSecond > 0 and burst >= 1');
    this.#rate = rate;
    this.#now = now;
    // A bucket untouched for as long as it takes to fill is full: forgetting it changes nothing.
    this.#buckets = new BoundedMap({ maxEntries: maxKeys, maxAgeMs: Math.ceil((rate.burst / rate.perSecond) * 1000) + 1, now });
  }

  /** Takes one token for `key`: 0 when it was there, else the seconds until one will be. */
  take(key: string): number {
    const now = this.#now();
    const { perSecond, burst } = this.#rate;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / perSecond);
  }
}
