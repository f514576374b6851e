/**
 * Docker cannot run here, so the Dockerfile is checked against the repository: the base image, the
 * user, the environment the Space needs, that every file it copies exists and everything the start
 * command loads is copied, and that its command is the start command the other tests run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './support/server.ts';

const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });
const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('an official Node image, 22 or newer', () => {
  const [from] = all('FROM');
  const match = /^node:(\d+)/.exec(from ?? '');
  assert.ok(match, `FROM ${from} is not an official node image`);
  assert.ok(Number(match[1]) >= 22);
});

test('installs with npm ci and runs as the node user (uid 1000)', () => {
  assert.ok(all('RUN').some((run) => /\bnpm ci\b/.test(run)));
  assert.deepEqual(all('USER'), ['node']);
});

test('sets HOST=0.0.0.0, PORT=7860 and FAST_AGENT_SERVE_OAUTH=huggingface', () => {
  const env = Object.fromEntries(all('ENV').flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])));
  assert.equal(env.HOST, '0.0.0.0');
  assert.equal(env.PORT, '7860');
  assert.equal(env.FAST_AGENT_SERVE_OAUTH, 'huggingface');
});

test('the command is `npm start`, the script the tests start, and the port matches the Space', () => {
  assert.deepEqual(JSON.parse(all('CMD')[0] ?? '[]'), ['npm', 'start']);
  assert.ok(pkg.scripts.start, 'package.json has a start script');
  assert.match(readFileSync(path.join(ROOT, 'tests/support/server.ts'), 'utf8'), /spawn\('npm', \['start'/);
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /^---[\s\S]*?\bsdk: docker\b[\s\S]*?\bapp_port: 7860\b[\s\S]*?---/);
});

test('every file the Dockerfile copies exists', () => {
  for (const args of all('COPY')) {
    const parts = args.split(/\s+/).filter((part) => !part.startsWith('--'));
    for (const source of parts.slice(0, -1)) assert.ok(existsSync(path.join(ROOT, source)), `COPY source ${source} is missing`);
  }
});

test('everything the start command loads is copied into the image', () => {
  const copied = all('COPY').flatMap((args) => args.split(/\s+/).filter((part) => !part.startsWith('--')).slice(0, -1));
  const tracked = execFileSync('git', ['ls-files', 'app.ts', 'src', 'agents'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.ok(tracked.length > 0);
  for (const file of tracked) {
    assert.ok(copied.some((source) => file === source || file.startsWith(`${source}/`)), `${file} is not copied into the image`);
  }
  const startFile = pkg.scripts.start.split(/\s+/).find((word: string) => word.endsWith('.ts'));
  assert.ok(copied.includes(startFile), `the start script's entry ${startFile} is copied`);
  for (const dependency of ['tsx']) assert.ok(pkg.dependencies[dependency], `${dependency} is a runtime dependency, kept by npm ci --omit=dev`);
});
