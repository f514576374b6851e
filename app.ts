/**
 * The map: read the configuration, load the agents, build the app, serve.
 *
 *   request -> HTTP edge (src/http) -> auth (src/auth) -> request handler (src/a2a)
 *           -> agent loop (src/agents) -> outbound calls (src/hf), the caller riding along
 *
 * Start with `npm start -- [--host H] [--port P] [--agent-cards DIR] [--model M]
 * [--instance-scope connection|request]`; every flag also has an environment variable (README).
 */
import { ConfigError, loadConfig } from './src/config.ts';
import { AgentCardError } from './src/agents/agent-set.ts';
import { startServer } from './src/server.ts';
import { log } from './src/util/log.ts';
import { redact } from './src/util/redact.ts';

try {
  const config = loadConfig(process.argv.slice(2), process.env);
  const server = await startServer(config, { env: process.env });

  const stop = (signal: string) => {
    log.info('shutting down', { signal });
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  if (error instanceof ConfigError || error instanceof AgentCardError) {
    // Card values can come from secrets (${VAR}); whatever looks like a credential is not echoed.
    process.stderr.write(`Cannot start: ${redact(error.message)}\n`);
    process.exit(2);
  }
  throw error;
}
