/**
 * Compiles every server under test to JavaScript before anything is measured, because that is how
 * the server ships (`npm run build`, `node dist/app.js`): run through tsx, each request would also
 * pay for its transform (esbuild's keepNames wrappers), which no user pays. The reference servers
 * are compiled the same way, so no server carries a cost the others do not.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD_DIR = path.join(ROOT, '.bench-build');

/** Where the compiled form of a source file under ROOT lands, e.g. `app.ts` -> `.bench-build/app.js`. */
export function compiled(source: string): string {
  return path.join(BUILD_DIR, source.replace(/\.ts$/, '.js'));
}

export async function buildServers(): Promise<void> {
  // From scratch: a file deleted from src/ must not live on in the build as a stale .js.
  await rm(BUILD_DIR, { recursive: true, force: true });
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const tsc = spawn('npx', ['tsc', '-p', 'bench/tsconfig.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    tsc.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    tsc.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    tsc.once('error', reject);
    tsc.once('close', resolve);
  });
  if (code !== 0) throw new Error(`compiling the servers (npx tsc -p bench/tsconfig.json) failed with exit code ${code}:\n${output.join('')}`);
}
