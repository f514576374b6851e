/**
 * Strict input: what both bindings check on a request's JSON before anything decodes or stores it.
 *
 * The SDK's decoders coerce whatever they are given (`String({toString: 1})` throws, a number where
 * base64 belongs throws, a 0.3 role on the 1.0 path becomes "unrecognized", an empty `parts` passes),
 * and they take any size or depth. Here every request is held to the protocol's shape (ProtoJSON:
 * camelCase or the proto's snake_case names) and to limits on size and shape, cheaply, in one walk
 * plus a look at the fields the method reads. A failure names the field and says what it must be.
 */
import { RequestMalformedError } from '@a2a-js/sdk/errors';

export interface InputLimits {
  /** Nesting of objects and arrays in a request. */
  maxDepth: number;
  /** Values (objects, arrays, strings, numbers...) in a request. */
  maxValues: number;
  /** Parts in one message. */
  maxParts: number;
  /** Characters of an id (messageId, taskId, contextId, a reference), a page token or a short name. */
  maxIdLength: number;
  /** Characters of the JSON of one metadata object. */
  maxMetadataChars: number;
  /** Entries of referenceTaskIds, extensions or acceptedOutputModes. */
  maxListItems: number;
}

const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxDepth: 32,
  maxValues: 10_000,
  maxParts: 64,
  maxIdLength: 256,
  maxMetadataChars: 16 * 1024,
  maxListItems: 32,
};

export type ProtocolVersion = '1.0' | '0.3';

type Json = Record<string, unknown>;

/** Invalid params (-32602, HTTP 400), with the field and the rule in the message. */
function fail(path: string, rule: string): never {
  throw new RequestMalformedError(`Invalid params: ${path} ${rule}.`);
}

/**
 * Parses a request body held to the limits on nesting and number of values. The limits are checked
 * on the text before JSON.parse runs: parsing 300,000 empty objects alone stalls the event loop for
 * a tenth of a second, where counting brackets, commas and colons stops after the first few
 * thousand. A hostile nesting cannot reach the parser either. Throws RequestMalformedError for a
 * body over the limits, SyntaxError for one that is not JSON.
 */
export function parseJson(text: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): unknown {
  let depth = 0;
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxDepth) fail('the request', `nests objects and arrays more than ${limits.maxDepth} deep`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c || c === 0x3a) {
      // Every further element (a comma) and every member's value (a colon) is one more value.
      if (++values > limits.maxValues) fail('the request', `holds more than ${limits.maxValues} values; send less`);
    }
  }
  return JSON.parse(text);
}

/**
 * Where the string that opens at `open` closes (text.length when it does not): found with indexOf,
 * which skips a string's characters far faster than a loop over them, then checked for a backslash
 * before it (an odd number of them escapes the quote).
 */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return text.length;
}

/** The params of a send (SendMessage, SendStreamingMessage, message/send, message/stream). */
export function checkSendParams(params: unknown, version: ProtocolVersion, limits: InputLimits = DEFAULT_INPUT_LIMITS): void {
  const p = object(params, 'params');
  checkMessage(p.message, 'message', version, limits);
  const configuration = optionalObject(p.configuration, 'configuration');
  if (configuration) {
    optionalCount(pick(configuration, 'historyLength', 'history_length'), 'configuration.historyLength');
    optionalBoolean(pick(configuration, 'returnImmediately', 'return_immediately'), 'configuration.returnImmediately');
    optionalBoolean(configuration.blocking, 'configuration.blocking');
    optionalStrings(pick(configuration, 'acceptedOutputModes', 'accepted_output_modes'), 'configuration.acceptedOutputModes', limits);
  }
  optionalMetadata(p.metadata, 'metadata', limits);
}

/** GetTask / tasks/get: a task id and an optional historyLength. */
export function checkGetParams(params: unknown, limits: InputLimits = DEFAULT_INPUT_LIMITS): void {
  const p = object(params, 'params');
  taskId(p.id, 'id', limits);
  optionalCount(pick(p, 'historyLength', 'history_length'), 'historyLength');
  optionalMetadata(p.metadata, 'metadata', limits);
}

/** CancelTask, SubscribeToTask and their 0.3 names: a task id. */
export function checkTaskIdParams(params: unknown, limits: InputLimits = DEFAULT_INPUT_LIMITS): void {
  const p = object(params, 'params');
  taskId(p.id, 'id', limits);
  optionalMetadata(p.metadata, 'metadata', limits);
}

const TASK_STATES = new Set(['TASK_STATE_UNSPECIFIED', 'TASK_STATE_SUBMITTED', 'TASK_STATE_WORKING', 'TASK_STATE_COMPLETED', 'TASK_STATE_FAILED', 'TASK_STATE_CANCELED', 'TASK_STATE_INPUT_REQUIRED', 'TASK_STATE_REJECTED', 'TASK_STATE_AUTH_REQUIRED']);
/** RFC 3339, as ProtoJSON writes a Timestamp. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** ListTasks: filters, paging and history. */
export function checkListParams(params: unknown, limits: InputLimits = DEFAULT_INPUT_LIMITS): void {
  const p = object(params, 'params');
  optionalId(pick(p, 'contextId', 'context_id'), 'contextId', limits);
  const status = p.status;
  if (status !== undefined && status !== null && !(TASK_STATES.has(status as string) || (Number.isInteger(status) && (status as number) >= 0 && (status as number) <= 8))) {
    fail('status', 'must be a task state such as "TASK_STATE_WORKING" or "TASK_STATE_COMPLETED"');
  }
  const pageSize = pick(p, 'pageSize', 'page_size');
  if (pageSize !== undefined && pageSize !== null && !(Number.isInteger(pageSize) && (pageSize as number) >= 1 && (pageSize as number) <= 100)) {
    fail('pageSize', 'must be an integer from 1 to 100');
  }
  optionalId(pick(p, 'pageToken', 'page_token'), 'pageToken', { ...limits, maxIdLength: 1024 });
  optionalCount(pick(p, 'historyLength', 'history_length'), 'historyLength');
  const after = pick(p, 'statusTimestampAfter', 'status_timestamp_after');
  if (after !== undefined && after !== null && !(typeof after === 'string' && TIMESTAMP.test(after) && Number.isFinite(Date.parse(after)))) {
    fail('statusTimestampAfter', `must be an RFC 3339 timestamp such as "2026-01-31T12:00:00Z", not ${JSON.stringify(after)}`);
  }
  optionalBoolean(pick(p, 'includeArtifacts', 'include_artifacts'), 'includeArtifacts');
}

const V1_ROLES = new Set<unknown>(['ROLE_USER', 'ROLE_AGENT', 1, 2]);
const V03_ROLES = new Set<unknown>(['user', 'agent']);
const V1_CONTENT = ['text', 'raw', 'url', 'data'] as const;

function checkMessage(value: unknown, path: string, version: ProtocolVersion, limits: InputLimits): void {
  const message = object(value, path);
  const messageId = pick(message, 'messageId', 'message_id');
  if (typeof messageId !== 'string' || !messageId) fail(`${path}.messageId`, 'is required: a non-empty string that identifies this message');
  if (messageId.length > limits.maxIdLength) fail(`${path}.messageId`, `must be at most ${limits.maxIdLength} characters`);
  if (version === '1.0') {
    if (!V1_ROLES.has(message.role)) {
      fail(`${path}.role`, V03_ROLES.has(message.role)
        ? `must be "ROLE_USER" or "ROLE_AGENT" in A2A 1.0 ("${String(message.role)}" is the A2A 0.3 spelling, used by requests without the A2A-Version: 1.0 header)`
        : 'is required: "ROLE_USER" or "ROLE_AGENT"');
    }
  } else {
    if (!V03_ROLES.has(message.role)) fail(`${path}.role`, 'is required: "user" or "agent"');
    if (message.kind !== undefined && message.kind !== 'message') fail(`${path}.kind`, 'must be "message"');
  }
  optionalId(pick(message, 'contextId', 'context_id'), `${path}.contextId`, limits);
  optionalId(pick(message, 'taskId', 'task_id'), `${path}.taskId`, limits);
  optionalIds(pick(message, 'referenceTaskIds', 'reference_task_ids'), `${path}.referenceTaskIds`, limits);
  optionalStrings(message.extensions, `${path}.extensions`, limits);
  optionalMetadata(message.metadata, `${path}.metadata`, limits);

  const parts = message.parts;
  if (!Array.isArray(parts) || parts.length === 0) fail(`${path}.parts`, 'is required: a list of at least one part, such as [{"text": "Hello"}]');
  if (parts.length > limits.maxParts) fail(`${path}.parts`, `has ${parts.length} parts; at most ${limits.maxParts} are accepted`);
  parts.forEach((part, i) => (version === '1.0' ? checkPart : checkLegacyPart)(part, `${path}.parts[${i}]`, limits));
}

function checkPart(value: unknown, path: string, limits: InputLimits): void {
  const part = object(value, path);
  const present = V1_CONTENT.filter((field) => part[field] !== undefined && part[field] !== null);
  if (present.length !== 1) fail(path, 'must have exactly one of "text", "raw", "url" or "data"');
  const [field] = present;
  if ((field === 'text' || field === 'url' || field === 'raw') && typeof part[field] !== 'string') fail(`${path}.${field}`, 'must be a string');
  if (field === 'raw' && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(part.raw as string)) fail(`${path}.raw`, 'must be base64');
  optionalId(part.filename, `${path}.filename`, limits);
  optionalId(pick(part, 'mediaType', 'media_type'), `${path}.mediaType`, limits);
  optionalMetadata(part.metadata, `${path}.metadata`, limits);
}

function checkLegacyPart(value: unknown, path: string, limits: InputLimits): void {
  const part = object(value, path);
  optionalMetadata(part.metadata, `${path}.metadata`, limits);
  switch (part.kind) {
    case 'text':
      if (typeof part.text !== 'string') fail(`${path}.text`, 'must be a string');
      return;
    case 'data':
      object(part.data, `${path}.data`);
      return;
    case 'file': {
      const file = object(part.file, `${path}.file`);
      const hasBytes = file.bytes !== undefined;
      if (hasBytes === (file.uri !== undefined)) fail(`${path}.file`, 'must have exactly one of "bytes" or "uri"');
      if (hasBytes && !(typeof file.bytes === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(file.bytes))) fail(`${path}.file.bytes`, 'must be a base64 string');
      if (!hasBytes && typeof file.uri !== 'string') fail(`${path}.file.uri`, 'must be a string');
      optionalId(file.name, `${path}.file.name`, limits);
      optionalId(file.mimeType, `${path}.file.mimeType`, limits);
      return;
    }
    default:
      fail(`${path}.kind`, 'must be "text", "file" or "data"');
  }
}

/** A ProtoJSON field, under its JSON name or its proto name. */
function pick(value: Json, jsonName: string, protoName: string): unknown {
  return value[jsonName] ?? value[protoName];
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be a JSON object');
  return value as Json;
}

function optionalObject(value: unknown, path: string): Json | undefined {
  return value === undefined || value === null ? undefined : object(value, path);
}

function optionalMetadata(value: unknown, path: string, limits: InputLimits): void {
  if (optionalObject(value, path) && JSON.stringify(value).length > limits.maxMetadataChars) {
    fail(path, `is larger than ${limits.maxMetadataChars} characters of JSON`);
  }
}

function taskId(value: unknown, path: string, limits: InputLimits): void {
  if (typeof value !== 'string' || !value) fail(path, 'is required: the id of the task');
  optionalId(value, path, limits);
}

function optionalId(value: unknown, path: string, limits: InputLimits): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') fail(path, 'must be a string');
  if (value.length > limits.maxIdLength) fail(path, `must be at most ${limits.maxIdLength} characters`);
}

function optionalIds(value: unknown, path: string, limits: InputLimits): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) fail(path, 'must be a list of strings');
  if (value.length > limits.maxListItems) fail(path, `must have at most ${limits.maxListItems} entries`);
  value.forEach((item, i) => {
    if (typeof item !== 'string') fail(`${path}[${i}]`, 'must be a string');
    optionalId(item, `${path}[${i}]`, limits);
  });
}

function optionalStrings(value: unknown, path: string, limits: InputLimits): void {
  optionalIds(value, path, { ...limits, maxIdLength: 1024 });
}

function optionalCount(value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (!Number.isInteger(value) || (value as number) < 0) fail(path, `must be a non-negative integer, not ${JSON.stringify(value)}`);
}

function optionalBoolean(value: unknown, path: string): void {
  if (value !== undefined && value !== null && typeof value !== 'boolean') fail(path, 'must be true or false');
}

/** What a tenant must look like, in words, for error messages. */
const TENANT_RULE = 'must be 1-64 letters, digits, ".", "_" or "-"';

/**
 * A caller-chosen tenant (`params.tenant`, or a REST path's first segment): short and plain,
 * because tenants key stored tasks and conversations. Empty means none.
 */
export function checkTenant(tenant: unknown): string {
  if (tenant === undefined || tenant === null || tenant === '') return '';
  if (typeof tenant !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tenant)) fail('tenant', TENANT_RULE);
  return tenant;
}
