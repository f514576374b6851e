/**
 * Docker cannot run here, so the Dockerfile is checked against the repository: the base image and
 * its Node version (the one CI and `engines` name), the user, the environment the Space needs, that
 * TypeScript is compiled at build time, that every file it copies exists and everything the server
 * loads is copied, and that its command is the start command the other tests run.
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

test('official Node images of the major version that CI runs and `engines` names', () => {
  const majors = all('FROM').map((from) => /^node:(\d+)/.exec(from)?.[1]);
  assert.ok(majors.length > 0 && majors.every(Boolean), 'every stage is an official node image');
  const ci = process.versions.node.split('.')[0];
  assert.deepEqual(new Set(majors), new Set([ci]), `the image runs Node ${majors}, CI runs Node ${ci}`);
  assert.match(pkg.engines.node, new RegExp(`^\\^${ci}\\.`));
});

test('installs with npm ci, compiles at build time, and runs as the node user (uid 1000) before copying the app', () => {
  assert.ok(all('RUN').some((run) => /\bnpm ci\b/.test(run)));
  assert.ok(all('RUN').some((run) => /\bnpm run build\b/.test(run)));
  assert.deepEqual(all('USER'), ['node']);
  const final = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
  const user = final.findIndex((i) => i.keyword === 'USER');
  const copies = final.flatMap((i, index) => (i.keyword === 'COPY' ? [index] : []));
  assert.ok(copies.every((index) => index > user), 'USER comes before the copies of the final stage');
  assert.ok(final.filter((i) => i.keyword === 'COPY').every((i) => /--chown=node\b/.test(i.args)), 'the final stage copies with --chown=node');
});

test('sets HOST=0.0.0.0, PORT=7860 and FAST_AGENT_SERVE_OAUTH=huggingface', () => {
  const env = Object.fromEntries(all('ENV').flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])));
  assert.equal(env.HOST, '0.0.0.0');
  assert.equal(env.PORT, '7860');
  assert.equal(env.FAST_AGENT_SERVE_OAUTH, 'huggingface');
});

test('the command runs node itself (PID 1, so SIGTERM reaches the server), as `npm start` does, and the port matches the Space', () => {
  const command = JSON.parse(all('CMD')[0] ?? '[]');
  assert.deepEqual(command, ['node', 'dist/app.js']);
  assert.equal(pkg.scripts.start, command.join(' '), 'npm start (which the tests start) runs the same command');
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /^---[\s\S]*?\bsdk: docker\b[\s\S]*?\bapp_port: 7860\b[\s\S]*?---/);
});

test('every file the Dockerfile copies from the repository exists', () => {
  for (const args of all('COPY').filter((args) => !/--from=/.test(args))) {
    const parts = args.split(/\s+/).filter((part) => !part.startsWith('--'));
    for (const source of parts.slice(0, -1)) assert.ok(existsSync(path.join(ROOT, source)), `COPY source ${source} is missing`);
  }
});

test('everything the build compiles is copied into the build stage, and its output and the agents into the image', () => {
  const copied = all('COPY').flatMap((args) => args.split(/\s+/).filter((part) => !part.startsWith('--')).slice(0, -1));
  const tracked = execFileSync('git', ['ls-files', 'app.ts', 'src', 'agents'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.ok(tracked.length > 0);
  for (const file of tracked) {
    assert.ok(copied.some((source) => file === source || file.startsWith(`${source}/`)), `${file} is not copied into the image`);
  }
  const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));
  assert.ok(copied.includes('tsconfig.build.json') && copied.includes(build.extends.replace('./', '')));
  assert.ok(all('COPY').some((args) => /--from=build\s+\S*\/dist\s+\.\/dist/.test(args)), 'the compiled dist/ is copied into the image');
  for (const dependency of ['tsx', 'typescript']) assert.ok(!pkg.dependencies[dependency], `${dependency} is not needed at run time`);
});

test('the image leaves out what it does not run', () => {
  const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['tests', 'bench', 'node_modules', 'dist']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
});
