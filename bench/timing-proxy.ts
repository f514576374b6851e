/**
 * A pass-through HTTP proxy on loopback that notes when each request arrives and when its answer is
 * finished. The test helpers do not expose their HTTP servers, so this is how the bench sees time
 * spent in the model router or the MCP server from outside them. Its own hop is counted as theirs.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  /** The JSON-RPC method of a POST body that has one, else the HTTP method. */
  method: string;
  /** performance.now() when the request's headers arrived. */
  start: number;
  /** performance.now() when the answer was handed to the socket, or the connection closed; NaN until then. */
  end: number;
}

export interface TimingProxy {
  /** The upstream URL with this proxy's origin. */
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

// Node sets these itself for each leg.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

export interface ProxyOptions {
  /**
   * Answer GET with 405 here instead of forwarding it. An MCP client opens an optional GET stream
   * after connecting, and a server may decline it so. Forwarded, the test MCP server would build a
   * whole server instance for it on this thread while the turn goes on, and that work would be
   * counted as ours.
   */
  declineGet?: boolean;
}

export async function startTimingProxy(upstream: string, { declineGet = false }: ProxyOptions = {}): Promise<TimingProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const exchanges: Exchange[] = [];
  const server = createServer(async (req, res) => {
    const exchange: Exchange = { method: req.method ?? '', start: performance.now(), end: NaN };
    exchanges.push(exchange);
    const finished = () => {
      if (Number.isNaN(exchange.end)) exchange.end = performance.now();
    };
    res.once('finish', finished);
    res.once('close', finished);
    if (declineGet && req.method === 'GET') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    exchange.method = jsonRpcMethod(body) ?? exchange.method;

    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    forward.once('error', () => res.destroy());
    // A stream held open ends when the client hangs up; the upstream leg must end too.
    res.once('close', () => forward.destroy());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname === '/' ? '' : target.pathname}`,
    exchanges,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function jsonRpcMethod(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  try {
    const method = (JSON.parse(body.toString('utf8')) as { method?: unknown }).method;
    return typeof method === 'string' ? method : undefined;
  } catch {
    return undefined;
  }
}
