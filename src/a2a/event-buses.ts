/**
 * The event bus of each running task, scoped like the task store (tenant and owner), in one flat
 * map whose entries go when their task's execution ends. The SDK's own manager keeps a map per
 * tenant and per owner that it never removes, so tenants named by callers would grow it forever.
 */
import { DefaultExecutionEventBus, type ExecutionEventBus, type ExecutionEventBusManager, type ServerCallContext } from '@a2a-js/sdk/server';
import { taskKey } from './task-store.ts';

export class ScopedEventBuses implements ExecutionEventBusManager {
  readonly #buses = new Map<string, ExecutionEventBus>();

  get size(): number {
    return this.#buses.size;
  }

  createOrGetByTaskId(taskId: string, context?: ServerCallContext): ExecutionEventBus {
    const key = taskKey(context, taskId);
    let bus = this.#buses.get(key);
    if (!bus) this.#buses.set(key, (bus = new DefaultExecutionEventBus()));
    return bus;
  }

  getByTaskId(taskId: string, context?: ServerCallContext): ExecutionEventBus | undefined {
    return this.#buses.get(taskKey(context, taskId));
  }

  cleanupByTaskId(taskId: string, context?: ServerCallContext): void {
    const key = taskKey(context, taskId);
    this.#buses.get(key)?.removeAllListeners();
    this.#buses.delete(key);
  }
}
