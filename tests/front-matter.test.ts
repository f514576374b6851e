/**
 * The README's front matter is the Space's configuration: it must give the Space an OAuth app that
 * may call Inference Providers for the visitor (the page's "Sign in with Hugging Face"), and a
 * short description the Hub accepts (60 characters at most).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/server.ts';

function frontMatter(): Record<string, unknown> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(readme);
  assert.ok(block, 'README.md starts with a front matter block between --- lines');
  return parse(block[1]!) as Record<string, unknown>;
}

test('the Space has its own OAuth app, with the inference-api scope', () => {
  const meta = frontMatter();
  assert.equal(meta.hf_oauth, true);
  assert.ok(Array.isArray(meta.hf_oauth_scopes), 'hf_oauth_scopes is a list');
  assert.ok((meta.hf_oauth_scopes as unknown[]).includes('inference-api'), 'hf_oauth_scopes includes inference-api');
});

test('the short description fits the Hub (at most 60 characters), and the Space is a Docker Space on port 7860', () => {
  const meta = frontMatter();
  assert.equal(typeof meta.short_description, 'string');
  const description = meta.short_description as string;
  assert.ok(description.length > 0 && description.length <= 60, `short_description has ${description.length} characters: ${description}`);
  assert.equal(meta.sdk, 'docker');
  assert.equal(meta.app_port, 7860);
});
