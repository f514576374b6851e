/**
 * A real MCP server on loopback (the MCP SDK's McpServer over its web-standard Streamable HTTP
 * transport, stateless), with a few tools: a search, a slow one, a failing one and a huge one. It
 * records the headers of every request and the JSON-RPC method each carried, and can be told to
 * require a token, to be down, or to leave one method unanswered.
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';

export interface McpRequestRecord {
  method: string;
  authorization: string | undefined;
  hfAuthorization: string | undefined;
  /** Every header the request carried. */
  headers: Record<string, string>;
  /** For tools/call: the tool's name and arguments. */
  tool?: string;
  arguments?: Record<string, unknown>;
}

export interface TestMcpServer {
  url: string;
  requests: McpRequestRecord[];
  /** When set, requests without exactly this Authorization get 401. */
  requiredAuthorization: string | undefined;
  /** When set, every request gets this HTTP status. */
  failWith: number | undefined;
  /** When set, a request for this JSON-RPC method is never answered. */
  hangOn: string | undefined;
  /** How many slow tool calls the client hung up on before they finished. */
  abortedSlowCalls: number;
  close(): Promise<void>;
}

export const HUGE_RESULT_CHARS = 100_000;
export const ENORMOUS_RESULT_CHARS = 3_000_000;

export async function startMcpServer(): Promise<TestMcpServer> {
  const state: TestMcpServer = { url: '', requests: [], requiredAuthorization: undefined, failWith: undefined, hangOn: undefined, abortedSlowCalls: 0, close: async () => {} };

  /** `hungUp` fires when the client closes the HTTP request this server instance answers. */
  const build = (hungUp: AbortSignal) => {
    const server = new McpServer({ name: 'test-tools', version: '1.0.0' });
    server.registerTool(
      'search_models',
      { description: 'Search models on the Hub by free text.', inputSchema: { query: z.string(), limit: z.number().int().optional() } },
      async ({ query, limit }) => ({ content: [{ type: 'text', text: `Found ${limit ?? 3} models for "${query}": acme/tiny-classifier, acme/small-bert, acme/micro-cls` }] }),
    );
    server.registerTool('slow', { description: 'Takes a long time.', inputSchema: { seconds: z.number() } }, async ({ seconds }) => {
      // A stateless server learns of a cancel only by the client hanging up on the HTTP request.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        hungUp.addEventListener('abort', () => {
          clearTimeout(timer);
          state.abortedSlowCalls++;
          resolve();
        });
      });
      return { content: [{ type: 'text', text: 'finally done' }] };
    });
    server.registerTool('fail', { description: 'Always fails.', inputSchema: {} }, async () => ({
      isError: true,
      content: [{ type: 'text', text: 'the database is on fire' }],
    }));
    server.registerTool('huge', { description: 'Returns a very large result.', inputSchema: {} }, async () => ({
      content: [{ type: 'text', text: 'x'.repeat(HUGE_RESULT_CHARS) }],
    }));
    server.registerTool('enormous', { description: 'Returns a result larger than any client should read.', inputSchema: {} }, async () => ({
      content: [{ type: 'text', text: 'y'.repeat(ENORMOUS_RESULT_CHARS) }],
    }));
    return server;
  };

  const http = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request: Request) => {
      const body = request.method === 'POST' ? await request.clone().json().catch(() => undefined) : undefined;
      state.requests.push({
        method: body?.method ?? request.method,
        authorization: request.headers.get('authorization') ?? undefined,
        hfAuthorization: request.headers.get('x-hf-authorization') ?? undefined,
        headers: Object.fromEntries(request.headers),
        ...(body?.method === 'tools/call' && { tool: body.params?.name, arguments: body.params?.arguments }),
      });
      if (state.failWith) return new Response('unavailable', { status: state.failWith });
      if (state.hangOn && body?.method === state.hangOn) return new Promise<Response>(() => {});
      if (state.requiredAuthorization !== undefined && request.headers.get('authorization') !== state.requiredAuthorization) {
        return new Response(JSON.stringify({ error: 'invalid token' }), { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      }
      // Stateless: a fresh server and transport for every request.
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await build(request.signal).connect(transport);
      return transport.handleRequest(request);
    },
  });
  await new Promise<void>((resolve) => http.once('listening', () => resolve()));
  state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  state.close = () =>
    new Promise((resolve) => {
      (http as import('node:http').Server).closeAllConnections();
      http.close(() => resolve());
    });
  return state;
}
