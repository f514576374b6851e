/**
 * The public documents: the agent card (in the 1.0 or 0.3 shape, by `A2A-Version`) at
 * /.well-known/agent-card.json and the legacy /.well-known/agent.json, and the RFC 9728 protected
 * resource metadata. Each is serialized once at start-up and served with validators, so a client
 * polling the card costs a header compare.
 */
import { createHash } from 'node:crypto';
import type { Context, Handler } from 'hono';
import { AgentCard } from '@a2a-js/sdk';
import { isLegacyVersion, legacyCardJson } from '../a2a/card.ts';

interface Served {
  body: string;
  etag: string;
}

/** GET handler for the card: 304 for a matching If-None-Match, else the shape the request's version asks for. */
export function agentCardRoute(card: AgentCard, startedAt: Date = new Date()): Handler {
  const v1 = served(AgentCard.toJSON(card));
  const v03 = served(legacyCardJson(card));
  // The card changes only when the server restarts.
  const lastModified = new Date(Math.floor(startedAt.getTime() / 1000) * 1000).toUTCString();
  return function agentCard(c: Context): Response {
    const chosen = isLegacyVersion(c.req.header('A2A-Version')) ? v03 : v1;
    c.header('Cache-Control', 'public, max-age=300');
    c.header('Vary', 'A2A-Version');
    c.header('ETag', chosen.etag);
    c.header('Last-Modified', lastModified);
    if (c.req.header('If-None-Match')?.split(',').some((tag) => tag.trim() === chosen.etag)) return c.body(null, 304);
    return c.body(chosen.body, 200, { 'Content-Type': 'application/json' });
  };
}

/** GET handler for a JSON document that never changes while the server runs. */
export function staticJsonRoute(document: unknown): Handler {
  const body = JSON.stringify(document);
  return function staticJson(c: Context): Response {
    return c.body(body, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' });
  };
}

function served(json: unknown): Served {
  const body = JSON.stringify(json);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}
