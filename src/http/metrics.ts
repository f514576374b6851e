/**
 * Metrics for operators, in the Prometheus text format (prom-client), on a registry of this
 * server's own. Served at /metrics only when METRICS_TOKEN is set, and only to requests bearing it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Handler } from 'hono';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsSources {
  /** Streams (streamed sends and subscriptions) open now. */
  openStreams: () => number;
  /** Turns running now. */
  runningTurns: () => number;
  /** Weight (about bytes) held by each store. */
  storeWeights: () => Record<string, number>;
}

export class Metrics {
  readonly registry = new Registry();
  /**
   * Requests and ended tasks, the counts every request adds to, are tallied in plain maps and handed
   * to prom-client when /metrics is read: its inc() builds and hashes a key from the labels each time,
   * about a hundredth of a blocking send's CPU.
   */
  readonly #requests = new Map<string, Map<number, number>>();
  readonly #tasks = new Map<string, number>();
  readonly hubChecks = new Counter({
    name: 'a2a_hub_token_checks_total',
    help: 'Token checks by outcome: cached (no Hub call), accepted, rejected, unavailable, limited.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly modelCalls = new Histogram({
    name: 'a2a_model_call_seconds',
    help: 'Model calls, from request to last token, by model and outcome.',
    labelNames: ['model', 'outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly toolCalls = new Histogram({
    name: 'a2a_tool_call_seconds',
    help: 'MCP tool calls by server and outcome.',
    labelNames: ['server', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    const requests = this.#requests;
    const tasks = this.#tasks;
    new Counter({
      name: 'a2a_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['route', 'status'] as const,
      registers: [this.registry],
      collect() {
        for (const [route, byStatus] of requests) for (const [status, count] of byStatus) this.inc({ route, status }, count);
        requests.clear();
      },
    });
    new Counter({
      name: 'a2a_tasks_ended_total',
      help: 'Tasks by the state they ended in.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        for (const [state, count] of tasks) this.inc({ state }, count);
        tasks.clear();
      },
    });
    new Gauge({ name: 'a2a_open_streams', help: 'Streams open now.', registers: [this.registry], collect() { this.set(sources.openStreams()); } });
    new Gauge({ name: 'a2a_running_turns', help: 'Agent turns running now.', registers: [this.registry], collect() { this.set(sources.runningTurns()); } });
    new Gauge({
      name: 'a2a_store_weight_bytes',
      help: 'About the bytes each store holds.',
      labelNames: ['store'] as const,
      registers: [this.registry],
      collect() {
        for (const [store, weight] of Object.entries(sources.storeWeights())) this.set({ store }, weight);
      },
    });
  }

  /** One request answered, by its route label (one of a few) and status. */
  countRequest(route: string, status: number): void {
    let byStatus = this.#requests.get(route);
    if (!byStatus) this.#requests.set(route, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  /** One task turn ended, in `state`. */
  countTaskEnd(state: string): void {
    this.#tasks.set(state, (this.#tasks.get(state) ?? 0) + 1);
  }
}

/** GET /metrics, for a request bearing `token` (compared in constant time); anything else is 401. */
export function metricsRoute(metrics: Metrics, token: string): Handler {
  const expected = digest(token);
  return async function metricsEndpoint(c: Context) {
    const presented = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.json({ error: { code: 401, status: 'UNAUTHENTICATED', message: 'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>".' } }, 401);
    }
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  };
}

/** Digests have one length whatever was sent, so the comparison time says nothing about the token. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
