/**
 * Streamed sends: SendStreamingMessage over JSON-RPC, each answer read to its end as Server-Sent
 * Events, from a fixed number of streams kept busy (a new one starts as soon as one ends). The load
 * is generated here on node:http, which costs this process far less per request than fetch does,
 * so more of the shared machine is left to the server under test.
 *
 * Every stream is checked in full (HTTP 200, an event stream, no error event, the answer's text
 * joined from its chunks, a completed final status): a stream that fails fast must not pass for a
 * fast stream.
 */
import { Agent, request } from 'node:http';
import { HEADERS, TEXT } from './load.ts';
import { readCpuSeconds, type ServerProcess } from './server-process.ts';

export const STREAMS = 32;
const STREAM_TIMEOUT_MS = 30_000;

const SEND_STREAMING_MESSAGE = Buffer.from(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'SendStreamingMessage',
    params: { message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ text: TEXT }] } },
  }),
);
const STREAM_HEADERS = { ...HEADERS, accept: 'text/event-stream', 'content-length': String(SEND_STREAMING_MESSAGE.length) };

export interface StreamWindow {
  /** Per completed stream, ms from the request's start to the first bytes of its body. */
  firstByteMs: number[];
  /** Per completed stream, ms from the request's start to the end of its body. */
  fullMs: number[];
  /** SSE events per completed stream, summed. */
  events: number;
  completed: number;
  errors: number;
  /** From the first request's start to the last stream's end: in-flight streams are waited for, and counted. */
  seconds: number;
  serverCpuSeconds: number;
  loadCpuSeconds: number;
}

interface StreamOutcome {
  firstByteMs: number;
  fullMs: number;
  events: number;
}

/** The JSON-RPC endpoint's streamed sends, on a keep-alive pool as wide as the load. */
export class StreamClient {
  readonly #url: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: STREAMS });

  constructor(baseUrl: string) {
    this.#url = new URL(`${baseUrl}/a2a/jsonrpc`);
  }

  /** One stream, read and checked to its end; rejects with what was wrong. */
  stream(): Promise<StreamOutcome> {
    return new Promise((resolve, reject) => {
      const start = performance.now();
      let firstByte = NaN;
      const req = request(this.#url, { method: 'POST', headers: STREAM_HEADERS, agent: this.#agent, timeout: STREAM_TIMEOUT_MS }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (Number.isNaN(firstByte)) firstByte = performance.now();
          body += chunk;
        });
        res.once('error', reject);
        res.once('end', () => {
          const end = performance.now();
          if (res.statusCode !== 200 || !res.headers['content-type']?.startsWith('text/event-stream')) {
            return reject(new Error(`HTTP ${res.statusCode} ${res.headers['content-type']}: ${body.slice(0, 300)}`));
          }
          try {
            const events = checkStream(body);
            resolve({ firstByteMs: firstByte - start, fullMs: end - start, events });
          } catch (error) {
            reject(error);
          }
        });
      });
      req.once('timeout', () => req.destroy(new Error(`no end of stream within ${STREAM_TIMEOUT_MS / 1000} s`)));
      req.once('error', reject);
      req.end(SEND_STREAMING_MESSAGE);
    });
  }

  /** Keeps STREAMS streams busy for `seconds`, then waits for those still open. */
  async load(server: ServerProcess, seconds: number): Promise<StreamWindow> {
    const window: StreamWindow = { firstByteMs: [], fullMs: [], events: 0, completed: 0, errors: 0, seconds: 0, serverCpuSeconds: 0, loadCpuSeconds: 0 };
    const loadCpuBefore = process.cpuUsage();
    const serverCpuBefore = readCpuSeconds(server.pid);
    const start = performance.now();
    const deadline = start + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        try {
          const outcome = await this.stream();
          window.firstByteMs.push(outcome.firstByteMs);
          window.fullMs.push(outcome.fullMs);
          window.events += outcome.events;
          window.completed++;
        } catch {
          window.errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: STREAMS }, worker));
    window.seconds = (performance.now() - start) / 1000;
    window.serverCpuSeconds = readCpuSeconds(server.pid) - serverCpuBefore;
    const loadCpu = process.cpuUsage(loadCpuBefore);
    window.loadCpuSeconds = (loadCpu.user + loadCpu.system) / 1e6;
    return window;
  }

  close(): void {
    this.#agent.destroy();
  }
}

interface StreamEvent {
  result?: {
    task?: { status?: { state?: string } };
    artifactUpdate?: { artifact?: { parts?: { text?: string }[] } };
    statusUpdate?: { status?: { state?: string } };
  };
}

/** Throws unless the stream answered TEXT and ended completed; returns its number of events. */
function checkStream(body: string): number {
  const events = body
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      if (/^event: error$/m.test(block)) throw new Error(`an error event: ${block.slice(0, 300)}`);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data === undefined) throw new Error(`an event without data: ${block.slice(0, 300)}`);
      return JSON.parse(data) as StreamEvent;
    });
  const answer = events.flatMap((event) => event.result?.artifactUpdate?.artifact?.parts ?? []).map((part) => part.text ?? '').join('');
  const last = events.at(-1)?.result;
  const finalState = last?.statusUpdate?.status?.state ?? last?.task?.status?.state;
  if (finalState !== 'TASK_STATE_COMPLETED' || answer !== TEXT) {
    throw new Error(`expected a stream answering ${JSON.stringify(TEXT)} and ending completed, got ${body.slice(0, 1000)}`);
  }
  return events.length;
}
