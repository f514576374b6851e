/**
 * Preloaded, with --expose-gc, into the servers of the memory and soak phases only. Asked over the
 * IPC channel, it collects garbage and replies with the live heap, and with the process's memory
 * as it was just before the collection (V8's reserved heap, memory outside it): RSS also counts
 * garbage not yet collected and heap V8 keeps for later, so only the live heap shows what a server
 * retains, and the rest shows where the RSS is.
 */
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (message) => {
  if (message !== 'heap' || !gc || !process.send) return;
  const before = process.memoryUsage();
  gc();
  process.send({ heapUsed: process.memoryUsage().heapUsed, before });
});
