/**
 * Chat models on the Hugging Face inference router, through @huggingface/inference.
 *
 * The client's own retry is off (it retries 503 without a bound); this module owns a short, bounded
 * retry with backoff for 429 and 503 before the first token, and an idle timeout that aborts a call
 * that stops sending. Every failure becomes an AgentError whose message says what happened and what
 * to do (the request handler redacts it where it becomes a task's status message).
 */
import { InferenceClient, InferenceClientProviderApiError } from '@huggingface/inference';
import { AgentError, type ChatMessage, type ChatModel, type ModelRequest, type ModelSink, type ToolSpec } from '../agents/ports.ts';

export interface RouterModelOptions {
  /** Base URL of the OpenAI-compatible router, e.g. https://router.huggingface.co */
  inferenceUrl: string;
  /** `org/name` or `org/name:provider`, as the router takes it. */
  modelId: string;
  /** Abort when no data arrives for this long (before the first token and between tokens). */
  idleTimeoutMs?: number;
  /** Attempts for a 429 or 503 answered before any token arrived. */
  maxAttempts?: number;
  /** Delay before the first retry; doubles each time. */
  backoffMs?: number;
}

const NO_TOKEN_MESSAGE =
  'This agent runs its model on Hugging Face Inference Providers, which needs a Hugging Face token. ' +
  'Run the server with HF_TOKEN set, or (with FAST_AGENT_SERVE_OAUTH=huggingface) call it with "Authorization: Bearer <your HF token>". ' +
  'Create a token with the "Make calls to Inference Providers" permission at https://huggingface.co/settings/tokens.';

export function routerModel(options: RouterModelOptions): ChatModel {
  const { inferenceUrl, modelId, idleTimeoutMs = 120_000, maxAttempts = 3, backoffMs = 500 } = options;
  const endpointUrl = `${inferenceUrl}/v1`;

  return {
    async stream(request: ModelRequest, sink: ModelSink) {
      if (!request.credential) throw new AgentError('failed', NO_TOKEN_MESSAGE);
      // One client per call: the token lives only as long as this call.
      const client = new InferenceClient(request.credential.reveal(), { endpointUrl });

      for (let attempt = 1; ; attempt++) {
        const idle = new IdleTimer(idleTimeoutMs, request.signal);
        let started = false;
        try {
          const chunks = client.chatCompletionStream(
            {
              model: modelId,
              messages: request.messages.map(toOpenAiMessage),
              ...(request.tools.length > 0 && { tools: request.tools.map(toOpenAiTool) }),
              ...(request.temperature !== undefined && { temperature: request.temperature }),
              ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
            },
            { signal: idle.signal, retry_on_error: false },
          );
          let finished = false;
          // Tool calls arrive in pieces keyed by index; each is complete once the answer is.
          const calls: Array<{ id: string; name: string; arguments: string }> = [];
          for await (const chunk of chunks) {
            idle.touch();
            const choice = chunk.choices?.[0];
            const text = choice?.delta?.content;
            if (text) {
              started = true;
              sink.text(text);
            }
            for (const piece of choice?.delta?.tool_calls ?? []) {
              started = true;
              const call = (calls[piece.index ?? 0] ??= { id: '', name: '', arguments: '' });
              if (piece.id) call.id = piece.id;
              if (piece.function?.name) call.name += piece.function.name;
              if (piece.function?.arguments) call.arguments += piece.function.arguments;
            }
            if (choice?.finish_reason) finished = true;
          }
          if (!finished) throw brokeOff(modelId);
          for (const [index, call] of calls.entries()) {
            if (call) sink.toolCall({ ...call, id: call.id || `call_${index}` });
          }
          return;
        } catch (error) {
          if (request.signal.aborted) throw request.signal.reason ?? error;
          const status = error instanceof InferenceClientProviderApiError ? error.httpResponse.status : undefined;
          const retryable = (status === 429 || status === 503) && !started && attempt < maxAttempts;
          if (!retryable) throw explain(error, { modelId, status, attempt, started, timedOut: idle.timedOut, idleTimeoutMs });
          await sleep(backoffMs * 2 ** (attempt - 1), request.signal);
        } finally {
          idle.clear();
        }
      }
    },
  };
}

function toOpenAiMessage(message: ChatMessage) {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length && {
          tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
        }),
      };
    default:
      return { role: message.role, content: message.content };
  }
}

function toOpenAiTool(tool: ToolSpec) {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

interface FailureContext {
  modelId: string;
  status: number | undefined;
  attempt: number;
  /** Tokens had already arrived when the call failed. */
  started: boolean;
  timedOut: boolean;
  idleTimeoutMs: number;
}

/** Turns any failure of a model call into words a caller can act on. */
function explain(error: unknown, { modelId, status, attempt, started, timedOut, idleTimeoutMs }: FailureContext): AgentError {
  if (error instanceof AgentError) return error;
  if (timedOut) {
    return new AgentError('failed', `${modelId} sent nothing for ${duration(idleTimeoutMs)}, so the call was stopped. The provider may be overloaded; try again or choose another provider.`);
  }
  // The connection was lost after the answer had begun: the router was reached, the stream was cut.
  if (status === undefined && started) return brokeOff(modelId);
  // The router accepted the call (2xx) and the provider then reported an error inside the stream.
  if (status !== undefined && status < 400) {
    const detail = upstreamMessage(error).replace(/^an occurred while streaming the response:\s*/, '');
    return new AgentError('failed', `The provider serving ${modelId} failed while answering: ${detail}. Try again, or pick another provider in the agent card (for example ":fastest").`);
  }
  const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
  switch (status) {
    case undefined:
      if (unreachable(error)) return new AgentError('failed', `Could not reach the inference router for ${modelId}: ${rootCause(error)}. Try again in a moment.`);
      return new AgentError('failed', `The inference router answered for ${modelId} with something this server could not read (${rootCause(error)}). Try again; if it keeps happening, the router or HF_INFERENCE_ENDPOINT is at fault.`);
    case 401:
      return new AgentError('failed', 'Hugging Face rejected the token used for this call (401). Check that it is valid and has the "Make calls to Inference Providers" permission.');
    case 402:
      return new AgentError('failed', 'The Hugging Face account behind this token has no Inference Providers credit left (402). Add credit or a billing method at https://huggingface.co/settings/billing.');
    case 403:
      return new AgentError('failed', `This token may not use ${modelId} (403). Check the token's permissions and that the model's terms have been accepted on its Hub page.`);
    case 404:
      return new AgentError('failed', `The inference router does not serve ${modelId} (404). Check the model name and provider in the agent card.`);
    case 429:
      return new AgentError('failed', `Inference Providers is rate-limiting this account (429)${tries}. Wait a minute and try again.`);
    default:
      if (status >= 500) {
        return new AgentError('failed', `The provider serving ${modelId} failed (HTTP ${status})${tries}. Try again later, or pick another provider in the agent card (for example ":fastest").`);
      }
      return new AgentError('failed', `The inference router refused the request for ${modelId} (HTTP ${status}): ${upstreamMessage(error)}`);
  }
}

function brokeOff(modelId: string): AgentError {
  return new AgentError('failed', `The answer from ${modelId} broke off before the model finished. Try again.`);
}

/** 300 -> "300 ms", 120000 -> "120 s", 1500 -> "1.5 s". */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

function upstreamMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Failed to perform inference:\s*/, '').slice(0, 300);
}

/** The request never got an answer: the connection could not be made or was refused (fetch's own failure). */
function unreachable(error: unknown): boolean {
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

function rootCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** An AbortSignal that fires when the caller aborts or when touch() has not been called for `ms`. */
class IdleTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #onAbort = () => this.#controller.abort(this.#parent.reason);
  readonly #parent: AbortSignal;
  #timer: NodeJS.Timeout | undefined;
  timedOut = false;

  constructor(ms: number, parent: AbortSignal) {
    this.#ms = ms;
    this.#parent = parent;
    if (parent.aborted) this.#controller.abort(parent.reason);
    else parent.addEventListener('abort', this.#onAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  touch(): void {
    this.#timer ??= setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort(new Error('idle timeout'));
    }, this.#ms);
    this.#timer.refresh();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#parent.removeEventListener('abort', this.#onAbort);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
