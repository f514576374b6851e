/**
 * A small OpenAI-compatible inference router on loopback, standing in for router.huggingface.co.
 * It records every request it receives (path, headers, body) and answers as the test scripts it:
 * a streamed text, an HTTP error, silence, or a stream that breaks off.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './http.ts';

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** Set when the client hung up before the answer was complete. */
  aborted: boolean;
}

export type Reply =
  /**
   * Stream these pieces (or the whole text, split into words), `delayMs` apart. With `gate`, each
   * piece is written only once `gate(i)` resolves, so a test can hold the stream between pieces.
   * With `error`, the stream ends with an in-stream error event instead of finishing.
   */
  | { text: string | string[]; delayMs?: number; gate?: (index: number) => Promise<void>; error?: string }
  /** Answer with an HTTP error and an OpenAI-style error body. */
  | { status: number; message?: string; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { hang: true }
  /** Stream these pieces, then cut the connection without finishing. */
  | { breakAfter: string[] }
  /** Ask for these tool calls (each one's arguments streamed in two pieces), with optional text first. */
  | { toolCalls: Array<{ name: string; arguments: string; id?: string }>; text?: string };

export type Script = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface FakeRouter {
  url: string;
  requests: RecordedRequest[];
  script: Script;
  close(): Promise<void>;
}

/** By default the router answers "You said: <the last user message>". */
export const echoScript: Script = (request) => {
  const last = [...(request.body?.messages ?? [])].reverse().find((m: { role: string }) => m.role === 'user');
  return { text: `You said: ${last?.content ?? ''}` };
};

export async function startFakeRouter(script: Script = echoScript): Promise<FakeRouter> {
  const router: FakeRouter = { url: '', requests: [], script, close: async () => {} };
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const recorded: RecordedRequest = { path: req.url ?? '', headers: req.headers, body, aborted: false };
    router.requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.aborted = true;
    });
    const reply = await router.script(recorded, router.requests.length - 1);
    await answer(res, reply, (body as { stream?: boolean })?.stream === true, (body as { model?: string })?.model ?? '');
  });
  Object.assign(router, await listenOnLoopback(server));
  return router;
}

async function answer(res: ServerResponse, reply: Reply, stream: boolean, model: string): Promise<void> {
  if ('hang' in reply) return;
  if ('toolCalls' in reply) return askForTools(res, reply, model);
  if ('status' in reply) {
    res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
    res.end(JSON.stringify({ error: { message: reply.message ?? `error ${reply.status}`, type: 'error' } }));
    return;
  }
  const pieces = 'breakAfter' in reply ? reply.breakAfter : typeof reply.text === 'string' ? (reply.text.match(/\S+\s*/g) ?? ['']) : reply.text;
  const delayMs = 'delayMs' in reply ? (reply.delayMs ?? 0) : 0;
  const gate = 'gate' in reply ? reply.gate : undefined;

  if (!stream) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }] }));
    return;
  }

  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  for (const [index, piece] of pieces.entries()) {
    if (res.destroyed) return;
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (gate) await gate(index);
    if (res.destroyed) return;
    res.write(chunk({ role: 'assistant', content: piece }, null));
  }
  if ('breakAfter' in reply) {
    // Let the pieces reach the client first: destroying at once would drop what is still buffered.
    await new Promise((resolve) => res.write('', resolve));
    res.socket?.destroy();
    return;
  }
  if ('error' in reply && reply.error !== undefined) {
    res.end(`data: ${JSON.stringify({ error: { message: reply.error, type: 'server_error' } })}\n\n`);
    return;
  }
  res.write(chunk({}, 'stop'));
  res.end('data: [DONE]\n\n');
}

function askForTools(res: ServerResponse, reply: Extract<Reply, { toolCalls: unknown }>, model: string): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  if (reply.text) res.write(chunk({ role: 'assistant', content: reply.text }, null));
  for (const [index, call] of reply.toolCalls.entries()) {
    const half = Math.floor(call.arguments.length / 2);
    res.write(chunk({ tool_calls: [{ index, id: call.id ?? `call_${index}`, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, half) } }] }, null));
    res.write(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] }, null));
  }
  res.write(chunk({}, 'tool_calls'));
  res.end('data: [DONE]\n\n');
}
