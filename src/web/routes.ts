/**
 * The Space's own page and what it needs: GET / (the page), and the routes of its sign-in.
 * Registered on the app before authentication: everything here is public.
 */
import type { Hono } from 'hono';
import type { AgentSet } from '../agents/agent-set.ts';
import { renderLandingPage } from './page.ts';

export interface WebOptions {
  /** This server's public base URL, without a trailing slash. */
  baseUrl: string;
  agents: AgentSet;
  /** Callers must bring a Hugging Face token. */
  authRequired: boolean;
  hubUrl: string;
  oauth: { clientId: string | undefined; clientSecret: string | undefined; scopes: string[]; providerUrl: string };
  spaceId: string | undefined;
}

/** `app` is any Hono app: the page needs nothing from the request's context. */
export function registerWebRoutes<E extends object>(app: Hono<E>, options: WebOptions): void {
  const page = renderLandingPage({ baseUrl: options.baseUrl, agents: options.agents, authRequired: options.authRequired });
  app.get('/', function landingPage(c) {
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *");
    return c.html(page);
  });
}
