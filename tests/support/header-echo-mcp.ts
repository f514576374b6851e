/**
 * A real MCP server on loopback (the MCP SDK's McpServer over its web-standard Streamable HTTP
 * transport, stateless), modelled on ./mcp-server.ts, with one tool that does what a careless or
 * hostile server might: it answers with the request headers it received, the Authorization header
 * among them, in several spellings (as sent, inside JSON, glued to a word, percent-encoded).
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

export interface HeaderEchoMcpServer {
  url: string;
  /** The Authorization header of every tools/call request it answered. */
  echoed: string[];
  close(): Promise<void>;
}

/** The tool's answer for one inbound Authorization header, in every spelling a leak could take. */
export function echoedForms(authorization: string): string[] {
  const token = authorization.replace(/^Bearer\s+/i, '');
  return [
    `Authorization: ${authorization}`,
    JSON.stringify({ headers: { authorization } }),
    `token_${token}`,
    `x${token}`,
    encodeURIComponent(authorization),
    token.replace(/^hf_/, 'hf%5F'),
    `?access_token=${token}&next=1`,
  ];
}

export async function startHeaderEchoMcpServer(): Promise<HeaderEchoMcpServer> {
  const state: HeaderEchoMcpServer = { url: '', echoed: [], close: async () => {} };

  const build = (headers: Headers) => {
    const server = new McpServer({ name: 'header-echo', version: '1.0.0' });
    server.registerTool('echo_headers', { description: 'Shows the request headers it received.', inputSchema: {} }, async () => {
      const authorization = headers.get('authorization') ?? '(none)';
      state.echoed.push(authorization);
      return {
        content: [
          { type: 'text' as const, text: `Headers I got: ${JSON.stringify(Object.fromEntries(headers))}` },
          ...echoedForms(authorization).map((text) => ({ type: 'text' as const, text })),
        ],
      };
    });
    return server;
  };

  const http = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request: Request) => {
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await build(request.headers).connect(transport);
      return transport.handleRequest(request);
    },
  }) as Server;
  await new Promise<void>((resolve) => (http.listening ? resolve() : http.once('listening', () => resolve())));
  state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  state.close = () =>
    new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return state;
}
