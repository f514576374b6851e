/**
 * Rate limits at the edge, as token buckets (src/util/token-buckets.ts), answered with 429 and
 * Retry-After in the binding's error shape:
 * - by client address, before anything else runs, for every route that acts for a caller, so an
 *   address cannot make the server verify and refuse tokens as fast as it can send them. Loopback
 *   clients are this machine itself and are not limited.
 * - by verified caller, once authentication has said who it is, whatever address they come from.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ObservedEnv } from './observe.ts';
import { TokenBuckets, type BucketRate } from '../util/token-buckets.ts';
import { clientAddress, isLoopback } from './client-address.ts';

export type RateRefusal = (c: Context, retryAfterSeconds: number, who: 'address' | 'caller') => Response;

export function limitByAddress(rate: BucketRate, trustedProxies: number, refuse: RateRefusal): MiddlewareHandler {
  const buckets = new TokenBuckets(rate);
  return async function addressRateLimit(c, next) {
    const address = clientAddress(c, trustedProxies);
    const wait = isLoopback(address) ? 0 : buckets.take(address);
    if (wait > 0) return refuse(c, wait, 'address');
    await next();
  };
}

export function limitByCaller(rate: BucketRate, refuse: RateRefusal): MiddlewareHandler<ObservedEnv> {
  const buckets = new TokenBuckets(rate);
  return async function callerRateLimit(c, next) {
    const caller = c.get('caller');
    const wait = caller.isAuthenticated ? buckets.take(caller.id) : 0;
    if (wait > 0) return refuse(c, wait, 'caller');
    await next();
  };
}
