/** Agent card folders for tests, written to a fresh temporary directory. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function agentsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agents-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

export function card(fields: Record<string, unknown>, instruction = 'You are a test agent.'): string {
  const yaml = Object.entries(fields)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join('\n');
  return `---\n${yaml}\n---\n\n${instruction}\n`;
}

/** The usual pair: a default passthrough agent and a second one to route to by name. */
export const ECHO_AGENTS = {
  'echo.md': card({ name: 'echo', description: 'Echoes the message.', model: 'passthrough', default: true, tags: ['test'], examples: ['hi'] }),
  'parrot.md': card({ name: 'parrot', description: 'Also echoes, under another name.', model: 'passthrough' }),
};
