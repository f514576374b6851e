/**
 * The map: read the configuration, load the agents, build the app, serve.
 *
 *   request -> HTTP edge (src/http) -> auth (src/auth) -> request handler (src/a2a)
 *           -> agent loop (src/agents) -> outbound calls (src/hf), the caller riding along
 *
 * Start with `npm start -- [--host H] [--port P] [--agent-cards DIR] [--model M]
 * [--instance-scope connection|request]` (`--help` lists them); every flag also has an environment
 * variable (README). This is the only file that reads process.env.
 */
import { ConfigError, HelpRequested, loadConfig } from './src/config.ts';
import { AgentCardError } from './src/agents/agent-set.ts';
import { startServer } from './src/server.ts';
import { captureConsole, drainLog, log, setLogLevel } from './src/util/log.ts';
import { redact } from './src/util/redact.ts';

/** How long a restart (a Space rebuilds on every push) lets running work finish before ending it. */
const SHUTDOWN_DRAIN_MS = 8_000;
/** How long an exit waits for the log's reader to take the last lines. */
const LOG_DRAIN_MS = 1_000;

try {
  const config = loadConfig(process.argv.slice(2), process.env);
  setLogLevel(config.logLevel);
  captureConsole();
  const server = await startServer(config, { env: process.env });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: finishing running work', { signal, drainMs: SHUTDOWN_DRAIN_MS });
    server.close(SHUTDOWN_DRAIN_MS).then(
      () => exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error: String(error) });
        void exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (error) {
  if (error instanceof HelpRequested) {
    process.stdout.write(`${error.message}\n`);
    process.exit(0);
  }
  if (error instanceof ConfigError || error instanceof AgentCardError || isListenError(error)) {
    // Card values can come from secrets (${VAR}); whatever looks like a credential is not echoed.
    process.stderr.write(`Cannot start: ${redact(describeStartError(error))}\n`);
    await exit(2);
  }
  throw error;
}

async function exit(code: number): Promise<never> {
  await drainLog(LOG_DRAIN_MS);
  process.exit(code);
}

function isListenError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES';
}

function describeStartError(error: unknown): string {
  if (!isListenError(error)) return (error as Error).message;
  const { address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = `${address ?? 'the host'}:${port ?? ''}`;
  if (error.code === 'EADDRINUSE') return `${where} is already in use; stop the other server or choose another --port`;
  if (error.code === 'EACCES') return `${where} needs privileges to bind; choose a port above 1023`;
  return `${where} cannot be bound on this machine; choose another --host`;
}
