/**
 * Preloaded, with --expose-gc, into the servers of the memory phase only. Asked over the IPC
 * channel, it collects garbage and replies with the live heap: RSS also counts garbage not yet
 * collected and heap V8 keeps for later, so only the live heap shows what a server retains.
 */
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (message) => {
  if (message !== 'heap' || !gc || !process.send) return;
  gc();
  process.send({ heapUsed: process.memoryUsage().heapUsed });
});
