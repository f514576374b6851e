/**
 * What a task weighs, for the store's limits and a ListTasks page's budget: roughly the bytes it
 * holds in memory and takes to send (src/util/weigh.ts), worked out the same way wherever a message
 * or an answer is added to a task.
 */
import type { Message, Part } from '@a2a-js/sdk';
import { jsonWeight, textBytes } from '../util/weigh.ts';
import type { TaskRecord } from './task-store.ts';

/** What a task costs to keep beyond its messages: ids, status, the record itself. */
export const TASK_OVERHEAD = 400;
const PART_OVERHEAD = 64;

/** Roughly the bytes a message holds once stored, and takes to send: everything in it, metadata included. */
export function weighMessage(message: Message): number {
  let weight = 200 + textBytes(message.messageId) + textBytes(message.contextId) + textBytes(message.taskId) + metadataWeight(message.metadata);
  for (const id of message.referenceTaskIds) weight += textBytes(id) + 16;
  for (const uri of message.extensions) weight += textBytes(uri) + 16;
  return weight + weighParts(message.parts);
}

export function weighParts(parts: readonly Part[]): number {
  let weight = 0;
  for (const part of parts) {
    weight += PART_OVERHEAD + textBytes(part.filename) + textBytes(part.mediaType) + metadataWeight(part.metadata);
    const content = part.content;
    if (content?.$case === 'text' || content?.$case === 'url') weight += textBytes(content.value);
    // Sent as base64: four bytes for every three.
    else if (content?.$case === 'raw') weight += Math.ceil(content.value.byteLength / 3) * 4;
    else if (content?.$case === 'data') weight += jsonWeight(content.value);
  }
  return weight;
}

/**
 * Roughly what a task takes in a ListTasks answer: ids and status (with its message), and the
 * history and artifacts the caller asked for; a running task is listed with its answer so far.
 */
export function listedWeight({ task, run }: TaskRecord, historyLength: number, withArtifacts: boolean): number {
  let weight = TASK_OVERHEAD;
  if (task.status?.message) weight += weighMessage(task.status.message);
  if (withArtifacts) {
    if (run) weight += PART_OVERHEAD + textBytes(run.answer);
    else for (const artifact of task.artifacts) weight += weighParts(artifact.parts);
  }
  if (historyLength > 0) for (const message of task.history.slice(-historyLength)) weight += weighMessage(message);
  return weight;
}

function metadataWeight(metadata: Record<string, unknown> | undefined): number {
  return metadata === undefined ? 0 : jsonWeight(metadata);
}
