/**
 * A2A clients nobody here wrote: the @a2a-js/sdk 1.x client over JSON-RPC and over REST, its
 * 0.3 compatibility transport, and the last 0.3 release of the SDK, each pointed at a test server.
 */
import {
  Client,
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport, parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import assert from 'node:assert/strict';
import { Role, type Message, type SendMessageRequest, type TaskArtifactUpdateEvent } from '@a2a-js/sdk';
import {
  ClientFactory as ClientFactoryV03,
  ClientFactoryOptions as ClientFactoryOptionsV03,
  DefaultAgentCardResolver as CardResolverV03,
  JsonRpcTransportFactory as JsonRpcTransportFactoryV03,
} from 'a2a-sdk-v03/client';

export type Binding = 'jsonrpc' | 'rest';

/** An SDK 1.x client that fetches the card and speaks A2A 1.0 over `binding`. */
export async function clientFor(url: string, binding: Binding, token?: string): Promise<Client> {
  const fetchImpl = withToken(token);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl }), new RestTransportFactory({ fetchImpl })],
      preferredTransports: [binding === 'jsonrpc' ? 'JSONRPC' : 'HTTP+JSON'],
    }),
  );
  return factory.createFromUrl(url);
}

/** The SDK 1.x v0.3 transport, driven from the card a header-less (0.3) client fetches. */
export async function legacyClientFor(url: string, token?: string): Promise<Client> {
  const raw = await (await fetch(`${url}/.well-known/agent-card.json`)).json();
  const fetchImpl = withToken(token);
  return new Client(new LegacyJsonRpcTransport({ endpoint: raw.url, fetchImpl }), parseLegacyAgentCard({ ...raw, supportedInterfaces: undefined }));
}

/** A client from @a2a-js/sdk 0.3.14, the last 0.3 release. */
export async function v03ClientFor(url: string, token?: string) {
  const fetchImpl = withToken(token);
  const factory = new ClientFactoryV03(
    ClientFactoryOptionsV03.createFrom(ClientFactoryOptionsV03.default, {
      transports: [new JsonRpcTransportFactoryV03({ fetchImpl })],
      cardResolver: new CardResolverV03({ fetchImpl }),
    }),
  );
  return factory.createFromUrl(url);
}

function withToken(token: string | undefined): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
}

let counter = 0;

/** A 1.0 user message with one text part. */
export function userMessage(text: string, extra: Partial<Message> = {}): SendMessageRequest {
  return {
    tenant: '',
    message: {
      messageId: `m-${++counter}-${Date.now()}`,
      contextId: '',
      taskId: '',
      role: Role.ROLE_USER,
      parts: [{ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined }],
      metadata: undefined,
      extensions: [],
      referenceTaskIds: [],
      ...extra,
    },
    configuration: undefined,
    metadata: undefined,
  };
}

/** The text of every part of every artifact of a task, joined. */
export function artifactText(task: { artifacts?: Array<{ parts: Array<{ content?: { $case: string; value: unknown } }> }> }): string {
  return (task.artifacts ?? [])
    .flatMap((artifact) => artifact.parts)
    .map((part) => (part.content?.$case === 'text' ? String(part.content.value) : ''))
    .join('');
}

/** One answer's artifact chunks: together they are `text`; the first is new, the rest append, and only the last is marked last. */
export function assertChunks(chunks: TaskArtifactUpdateEvent[], text: string): void {
  assert.ok(chunks.length > 0, 'at least one chunk');
  assert.equal(chunks.map((chunk) => artifactText({ artifacts: [chunk.artifact!] })).join(''), text);
  assert.deepEqual(chunks.map((chunk) => chunk.append), chunks.map((_, i) => i > 0));
  assert.deepEqual(chunks.map((chunk) => chunk.lastChunk), chunks.map((_, i) => i === chunks.length - 1));
}
