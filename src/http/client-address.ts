/**
 * The address a request came from, as far as it can be trusted: behind `trustedProxies` proxies
 * (the Spaces proxy is one), the entry that the nearest of them appended to X-Forwarded-For; with
 * none, the socket's peer. Entries further left were written by the client and prove nothing.
 */
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

export function clientAddress(c: Context, trustedProxies: number): string {
  const socketPeer = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? '';
  if (trustedProxies === 0) return socketPeer;
  const forwarded = c.req.header('x-forwarded-for');
  if (!forwarded) return socketPeer;
  const hops = forwarded.split(',');
  // The last `trustedProxies` entries were appended by our proxies; the one they saw is the client.
  const entry = hops[Math.max(0, hops.length - trustedProxies)]?.trim();
  return entry || socketPeer;
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
