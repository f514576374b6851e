/**
 * The Space's page, `/`: what a visitor and everyone who duplicates the Space sees first. Checked
 * over HTTP (headers, size, the sign-in routes) and in a real browser, Debian's Chromium driven by
 * playwright-core, against the real server on loopback and a loopback stand-in of the Hub that
 * runs the OAuth flow: sign in, chat with streaming, follow-ups, agents, tools, cancel, errors in
 * words, sign out, the page inside the Hub's iframe, keyboard-only use, and that the token goes
 * nowhere but this Space's A2A endpoint. A server that takes no Hugging Face tokens (API keys only,
 * an OIDC issuer only) offers no Hugging Face sign-in: its page says what to send instead, its
 * snippets send that, and its chat works with a pasted key. Screenshots land in test-artifacts/.
 *
 * Without /usr/bin/chromium the browser tests are skipped, loudly; CI installs it (.ci/run).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { card } from './support/agents.ts';
import { startFakeOAuthHub, type FakeOAuthHub } from './support/fake-oauth-hub.ts';
import { startFakeRouter, type FakeRouter, type RecordedRequest, type Reply } from './support/fake-router.ts';
import { fakeToken } from './support/fake-hub.ts';
import { startMcpServer, type TestMcpServer } from './support/mcp-server.ts';
import { startTestIssuer } from './support/oidc-provider.ts';
import { ROOT, startTestServer, withTestServer } from './support/server.ts';
import type { RunningServer } from '../src/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const SKIPPED = 'BROWSER TESTS SKIPPED: /usr/bin/chromium is not installed (apt-get install chromium)';
const browserSkip: string | false = existsSync(CHROMIUM) ? false : SKIPPED;
if (browserSkip) process.stderr.write(`\n${'!'.repeat(SKIPPED.length)}\n${SKIPPED}\n${'!'.repeat(SKIPPED.length)}\n\n`);

const LAUNCH_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const TOKEN_KEY = 'a2a-space:token';

/** The model behind each test agent, by model name. */
function modelScript(request: RecordedRequest): Reply {
  const messages: Array<{ role: string; content: string }> = request.body?.messages ?? [];
  const users = messages.filter((m) => m.role === 'user');
  const model: string = request.body?.model ?? '';
  if (model.endsWith('/chat')) return { text: `Answer ${users.length}: you said ${users.at(-1)?.content}`, delayMs: 20 };
  if (model.endsWith('/slow')) return { text: Array.from({ length: 300 }, (_, i) => `word${i} `), delayMs: 120 };
  if (model.endsWith('/broke')) return { status: 402, message: 'You have exceeded your monthly included credits for Inference Providers.' };
  if (model.endsWith('/tools')) {
    const result = messages.find((m) => m.role === 'tool');
    return result ? { text: `The tool said: ${result.content}` } : { toolCalls: [{ name: 'test__search_models', arguments: JSON.stringify({ query: 'tiny classifier' }) }] };
  }
  return { status: 404, message: `no model ${model}` };
}

let hub: FakeOAuthHub;
let router: FakeRouter;
let mcp: TestMcpServer;
/** Auth on, the page signs in through the stand-in Hub with its Client ID Metadata Document. */
let server: RunningServer;
/** Auth off, as in a local run. */
let open: RunningServer;

before(async () => {
  hub = await startFakeOAuthHub();
  router = await startFakeRouter(modelScript);
  mcp = await startMcpServer();
  const cards = {
    'chat.md': card({ name: 'chat', description: 'Chats, and remembers the conversation.', model: 'hf.acme/chat', default: true, examples: ['Say hello'] }),
    'echo.md': card({ name: 'echo', description: 'Repeats your message back.', model: 'passthrough', use_history: false, examples: ['Echo me'] }),
    'slow.md': card({ name: 'slow', description: 'Answers at length, slowly.', model: 'hf.acme/slow', use_history: false }),
    'tools.md': card({ name: 'tools', description: 'Searches models with a tool.', model: 'hf.acme/tools', use_history: false, mcp_connect: { test: { target: mcp.url } } }),
    'broke.md': card({ name: 'broke', description: 'Its provider is out of credit.', model: 'hf.acme/broke', use_history: false }),
  };
  server = await startTestServer({ cards, env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url } });
  hub.spaceAppUrl = server.url;
  // A local run: no inbound auth, models called with the server's own token.
  open = await startTestServer({ cards, env: { HF_ENDPOINT: hub.url, HF_INFERENCE_ENDPOINT: router.url, HF_TOKEN: 'hf_theserversowntoken0000000' } });
});
after(async () => {
  await server?.close();
  await open?.close();
  await mcp?.close();
  await router?.close();
  await hub?.close();
});

/** Runs the authorization step the way a browser would, and returns the code the Hub sent back. */
async function authorize(base: string, clientId: string, challenge: string, redirectUri = `${base}/oauth/callback`): Promise<string> {
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid inference-api', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' });
  const answer = await fetch(`${hub.url}/oauth/authorize?${query}`, { redirect: 'manual' });
  assert.equal(answer.status, 302, await answer.text());
  const back = new URL(answer.headers.get('location')!);
  assert.equal(back.searchParams.get('state'), 's1');
  return back.searchParams.get('code')!;
}

const VERIFIER = 'v'.repeat(43);
const CHALLENGE = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(VERIFIER))).toString('base64url');

describe('over HTTP', () => {
  test('the page: a CSP without unsafe-inline that lets the Hub frame it, no X-Frame-Options, small, cached assets', async () => {
    const response = await fetch(`${server.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-frame-options'), null, 'the Space page embeds the app in an iframe');
    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.ok(directives.get('frame-ancestors')?.includes('https://huggingface.co'), csp);
    assert.ok(directives.get('frame-ancestors')?.includes("'self'"), csp);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('style-src'), ["'self'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('base-uri'), ["'none'"]);
    assert.deepEqual(directives.get('form-action'), ["'self'"]);
    assert.ok(directives.get('img-src')?.includes('https://cdn-avatars.huggingface.co'));

    const html = await response.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or event handler');
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2);
    let total = Buffer.byteLength(html);
    for (const asset of assets) {
      const plain = await fetch(`${server.url}${asset}`, { headers: { 'Accept-Encoding': 'identity' } });
      assert.equal(plain.status, 200);
      assert.match(plain.headers.get('cache-control') ?? '', /immutable/);
      total += (await plain.arrayBuffer()).byteLength;
    }
    assert.ok(total < 60_000, `page, script and style are ${total} bytes`);
    const script = assets.find((a) => a.endsWith('.js'))!;
    const source = await (await fetch(`${server.url}${script}`)).text();
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, 'the script makes no markup from strings');
    assert.doesNotMatch(source, /localStorage/, 'the token is kept for this tab only');
  });

  test('the Client ID Metadata Document names itself and the callback, as a public client', async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-cimd`);
    assert.equal(response.status, 200);
    const document = await response.json();
    assert.equal(document.client_id, `${server.url}/.well-known/oauth-cimd`);
    assert.deepEqual(document.redirect_uris, [`${server.url}/oauth/callback`]);
    assert.equal(document.token_endpoint_auth_method, 'none');
    assert.equal(document.client_uri, `${server.url}/`);
    assert.equal(typeof document.client_name, 'string');
  });

  test('POST /oauth/token exchanges a code for the page alone, and returns only the token, its lifetime and scope', async () => {
    const clientId = `${server.url}/.well-known/oauth-cimd`;
    const exchange = (body: unknown, headers: Record<string, string> = { Origin: server.url }) =>
      fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const good = (code: string) => ({ code, code_verifier: VERIFIER, redirect_uri: `${server.url}/oauth/callback` });

    assert.equal((await exchange(good('x'), {})).status, 403, 'no Origin');
    assert.equal((await exchange(good('x'), { Origin: 'https://evil.example' })).status, 403, 'another origin');
    assert.equal((await exchange('x'.repeat(10_000))).status, 413, 'a big body');
    assert.equal((await exchange({ code: 'x', code_verifier: 'short', redirect_uri: `${server.url}/oauth/callback` })).status, 400);
    assert.equal((await exchange({ ...good('x'), redirect_uri: 'https://evil.example/cb' })).status, 400);

    const wrong = await exchange({ ...good(await authorize(server.url, clientId, CHALLENGE)), code_verifier: 'w'.repeat(43) });
    assert.equal(wrong.status, 400);
    assert.match((await wrong.json()).error, /code_verifier does not match/);

    const issuedBefore = hub.issued.length;
    const ok = await exchange(good(await authorize(server.url, clientId, CHALLENGE)));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    const body = await ok.json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope']);
    assert.equal(body.access_token, hub.issued[issuedBefore]);
    const sent = hub.tokenRequests.at(-1)!;
    assert.equal(sent.form.get('grant_type'), 'authorization_code');
    assert.equal(sent.form.get('client_id'), clientId);
    assert.equal(sent.form.get('code_verifier'), VERIFIER);
    assert.equal(sent.authorization, undefined, 'a public client sends no client authentication');

    const who = await fetch(`${server.url}/oauth/whoami`, { headers: { Authorization: `Bearer ${body.access_token}` } });
    assert.deepEqual(await who.json(), { name: 'alice' });
    assert.equal((await fetch(`${server.url}/oauth/whoami`)).status, 401);
    assert.equal((await fetch(`${server.url}/oauth/whoami`, { headers: { Authorization: 'Bearer hf_notissuedbythehub000' } })).status, 401);
  });

  test("with the Space's own OAuth app, the page uses its client id and the server adds its secret", async () => {
    hub.apps.set('space-app-id', 'space-app-secret');
    await withTestServer(
      { env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, OAUTH_CLIENT_ID: 'space-app-id', OAUTH_CLIENT_SECRET: 'space-app-secret', OAUTH_SCOPES: 'openid profile inference-api', OPENID_PROVIDER_URL: hub.url } },
      async (app) => {
        const html = await (await fetch(`${app.url}/`)).text();
        const config = JSON.parse(/<script type="application\/json" id="page-config">(.*?)<\/script>/s.exec(html)![1]!);
        assert.equal(config.access.signIn.clientId, 'space-app-id');
        assert.equal(config.access.signIn.authorizeUrl, `${hub.url}/oauth/authorize`);
        assert.deepEqual(config.access.signIn.scope.split(' ').sort(), ['inference-api', 'openid', 'profile']);
        assert.doesNotMatch(html, /space-app-secret/);

        const code = await authorize(app.url, 'space-app-id', CHALLENGE);
        const response = await fetch(`${app.url}/oauth/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: app.url },
          body: JSON.stringify({ code, code_verifier: VERIFIER, redirect_uri: `${app.url}/oauth/callback` }),
        });
        assert.equal(response.status, 200, await response.clone().text());
        assert.match(hub.tokenRequests.at(-1)!.authorization ?? '', /^Basic /);
        assert.doesNotMatch(JSON.stringify(await response.json()), /space-app-secret/);
      },
    );
  });

  test('with auth off there is nothing to sign in to: the page says so and the sign-in routes do not exist', async () => {
    const html = await (await fetch(`${open.url}/`)).text();
    assert.match(html, /No sign-in needed/);
    assert.doesNotMatch(html, /Sign in with Hugging Face/);
    for (const route of ['/.well-known/oauth-cimd', '/oauth/callback', '/oauth/whoami']) {
      assert.notEqual((await fetch(`${open.url}${route}`)).status, 200, route);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** What a snippet on the page says, as its Copy button copies it. */
function snippetText(html: string, id: string): string {
  const code = new RegExp(`<pre id="${id}"[^>]*><code>([\\s\\S]*?)</code></pre>`).exec(html)?.[1];
  assert.ok(code !== undefined, `the page has no ${id}`);
  return decode(code);
}

/** The page's words as a visitor reads them: no tags, entities decoded, spaces collapsed. */
function visibleText(html: string): string {
  return decode(html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ');
}

function decode(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function pageConfig(html: string) {
  return JSON.parse(/<script type="application\/json" id="page-config">(.*?)<\/script>/s.exec(html)![1]!);
}

/** Nothing about Hugging Face sign-in or Hugging Face tokens, in words, controls, snippets or the script's data. */
function assertNoHuggingFaceSignIn(html: string): void {
  assert.doesNotMatch(html, /Sign in with Hugging Face|Hugging Face token|Paste a token|hf_…|settings\/tokens|HF_TOKEN|oauth-cimd|\/oauth\/authorize/);
  const config = pageConfig(html);
  assert.equal(config.access.mode, 'credential');
  assert.equal(config.access.signIn, undefined);
}

/**
 * The sign-in routes are not served: they get what every path that is not public gets, a 401
 * without a credential, and a 404 with a good one, as any unknown path does.
 */
async function assertSignInRoutesAbsent(base: string, credential: Record<string, string>): Promise<void> {
  for (const [method, route] of [['GET', '/.well-known/oauth-cimd'], ['GET', '/oauth/callback'], ['GET', '/oauth/whoami'], ['POST', '/oauth/token']] as const) {
    const init = (headers: Record<string, string>): RequestInit =>
      method === 'POST'
        ? { method, headers: { 'Content-Type': 'application/json', Origin: base, ...headers }, body: JSON.stringify({ code: 'c', code_verifier: VERIFIER, redirect_uri: `${base}/oauth/callback` }) }
        : { method, headers };
    const anonymous = await fetch(`${base}${route}`, init({}));
    assert.equal(anonymous.status, 401, `${method} ${route} without a credential: ${await anonymous.text()}`);
    const known = await fetch(`${base}${route}`, init(credential));
    assert.equal(known.status, 404, `${method} ${route} with a good credential: ${await known.text()}`);
  }
}

/** No secret the server holds appears in the page, its script or its style sheet. */
async function assertNoSecrets(base: string, html: string, secrets: string[]): Promise<void> {
  const assets = await Promise.all([...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(async (m) => (await fetch(`${base}${m[1]}`)).text()));
  for (const secret of secrets) {
    for (const text of [html, ...assets]) assert.ok(!text.includes(secret), 'a secret of the server appears on the page');
  }
}

describe('without Hugging Face tokens', () => {
  test('API keys only: the page asks for an API key in X-API-Key or Authorization, its snippets send X-API-Key, and it offers no Hugging Face sign-in', async () => {
    const key = `ci-${crypto.randomUUID()}`;
    const serverToken = fakeToken('server');
    await withTestServer({ env: { A2A_API_KEYS: `ci:${key}`, A2A_API_KEYS_CREDENTIAL: 'server', HF_TOKEN: serverToken, HF_ENDPOINT: hub.url } }, async (app) => {
      const response = await fetch(`${app.url}/`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self';/);
      const html = await response.text();
      assertNoHuggingFaceSignIn(html);
      const text = visibleText(html);
      assert.ok(text.includes("Calls need an API key from this server's operator, sent as X-API-Key: <key> or Authorization: Bearer <key>."), text);
      assert.match(html, /<label for="token-input">API key<\/label>/);
      assert.match(html, /<button type="submit">Use key<\/button>/);
      assert.doesNotMatch(html, /oauth-protected-resource/, 'API keys have no authorization server, so there is no RFC 9728 metadata to point at');

      assert.match(snippetText(html, 'snippet-curl'), /^ {2}-H "X-API-Key: \$A2A_API_KEY" \\$/m);
      assert.match(snippetText(html, 'snippet-sdk'), /headers\.set\('X-API-Key', process\.env\.A2A_API_KEY!\);/);
      assert.match(snippetText(html, 'snippet-fast-agent'), /^headers:\n {2}X-API-Key: "\$\{A2A_API_KEY\}"$/m);
      for (const id of ['snippet-curl', 'snippet-sdk', 'snippet-fast-agent']) assert.doesNotMatch(snippetText(html, id), /Authorization|TOKEN/, id);

      await assertNoSecrets(app.url, html, [key, serverToken]);
      await assertSignInRoutesAbsent(app.url, { 'X-API-Key': key });
    });
  });

  test('OIDC only: the page asks for an access token from the issuer as a bearer token, its snippets send one, and it offers no Hugging Face sign-in', async () => {
    const audience = 'https://agents.acme.test';
    const issuer = await startTestIssuer({ audience, scopes: ['agents:read'] });
    const exchangeSecret = `hf-exchange-secret-${crypto.randomUUID()}`;
    try {
      issuer.users.set('alice', { sub: 'alice', email: 'alice@acme.test' });
      const env = {
        A2A_OIDC_ISSUER: issuer.url,
        A2A_OIDC_AUDIENCE: audience,
        A2A_OIDC_CREDENTIAL: 'hf-exchange',
        HF_EXCHANGE_CLIENT_ID: 'acme-exchange-app',
        HF_EXCHANGE_CLIENT_SECRET: exchangeSecret,
        A2A_OIDC_CLIENT_ID: issuer.client.id,
        A2A_OIDC_CLIENT_SECRET: issuer.client.secret,
        HF_ENDPOINT: hub.url,
      };
      await withTestServer({ env }, async (app) => {
        const html = await (await fetch(`${app.url}/`)).text();
        assertNoHuggingFaceSignIn(html);
        const text = visibleText(html);
        assert.ok(text.includes(`Calls need an access token from ${issuer.url}, sent as Authorization: Bearer <token>.`), text);
        assert.match(html, /<label for="token-input">Access token<\/label>/);
        assert.doesNotMatch(html, /API key/);
        // The issuer is an authorization server: its RFC 9728 metadata is linked, and served.
        assert.match(html, /href="[^"]*\/\.well-known\/oauth-protected-resource"/);
        assert.equal((await fetch(`${app.url}/.well-known/oauth-protected-resource`)).status, 200);

        assert.match(snippetText(html, 'snippet-curl'), /^ {2}-H "Authorization: Bearer \$ACCESS_TOKEN" \\$/m);
        assert.match(snippetText(html, 'snippet-sdk'), /headers\.set\('Authorization', `Bearer \$\{process\.env\.ACCESS_TOKEN\}`\);/);
        assert.match(snippetText(html, 'snippet-fast-agent'), /^headers:\n {2}Authorization: "Bearer \$\{ACCESS_TOKEN\}"$/m);

        await assertNoSecrets(app.url, html, [exchangeSecret, issuer.client.secret]);
        await assertSignInRoutesAbsent(app.url, { Authorization: `Bearer ${await issuer.userToken('alice')}` });
      });
    } finally {
      await issuer.close();
    }
  });

  test('Hugging Face tokens and API keys: sign-in as before, and one line says an API key works too', async () => {
    const key = `ops-${crypto.randomUUID()}`;
    await withTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, A2A_API_KEYS: `ops:${key}`, A2A_API_KEYS_CREDENTIAL: 'none' } }, async (app) => {
      const html = await (await fetch(`${app.url}/`)).text();
      assert.match(html, /Sign in with Hugging Face/);
      assert.match(html, /<label for="token-input">Hugging Face token<\/label>/);
      const text = visibleText(html);
      assert.ok(text.includes("Calls may also carry an API key from this server's operator, sent as X-API-Key: <key> or Authorization: Bearer <key>."), text);
      assert.equal(pageConfig(html).access.mode, 'huggingface');
      assert.match(snippetText(html, 'snippet-curl'), /-H "Authorization: Bearer \$HF_TOKEN"/);
      assert.equal((await fetch(`${app.url}/.well-known/oauth-cimd`)).status, 200);
      await assertNoSecrets(app.url, html, [key]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

interface Traffic {
  requests: Array<{ url: string; method: string; authorization: string | undefined; body: string | null }>;
  settled(): Promise<unknown>;
}

/** A fresh browser context that records every request it makes (pop-ups and frames included). */
async function newContext(browser: Browser, options: BrowserContextOptions = DESKTOP): Promise<{ context: BrowserContext; traffic: Traffic; problems: string[]; dialogs: string[] }> {
  const context = await browser.newContext(options);
  const pending: Array<Promise<unknown>> = [];
  const traffic: Traffic = { requests: [], settled: () => Promise.all(pending) };
  const problems: string[] = [];
  const dialogs: string[] = [];
  context.on('request', (request) => {
    // Recorded at once: a window that closes right after a request (the sign-in pop-up) can make
    // allHeaders() fail, and the request must not drop out of the record. The headers it knows
    // already stand in until the full ones arrive.
    const seen = { url: request.url(), method: request.method(), authorization: request.headers().authorization, body: request.postData() };
    traffic.requests.push(seen);
    pending.push(
      request.allHeaders().then(
        (headers) => void (seen.authorization = headers.authorization),
        () => {},
      ),
    );
  });
  context.on('page', (page) => watch(page, problems, dialogs));
  return { context, traffic, problems, dialogs };
}

function watch(page: Page, problems: string[], dialogs: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
}

const lastAnswer = (scope: Page) => scope.locator('.msg.agent').last();

async function send(page: Page, text: string): Promise<Locator> {
  const before = await page.locator('.msg.agent').count();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.msg.agent').nth(before).waitFor();
  return page.locator('.msg.agent').nth(before);
}

async function finished(answer: Locator): Promise<void> {
  await answer.locator('.body:not(.streaming)').waitFor({ timeout: 15_000 });
}

async function pasteToken(page: Page, token: string): Promise<void> {
  await page.getByText('Paste a token').click();
  await page.getByLabel('Hugging Face token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
}

function assertTokenStayedHome(traffic: Traffic, token: string, base: string): void {
  assert.ok(traffic.requests.length > 0);
  for (const request of traffic.requests) {
    assert.ok(!request.url.includes(token) && !request.url.includes(encodeURIComponent(token)), `the token appeared in a URL: ${request.url.slice(0, 80)}`);
    assert.ok(!(request.body ?? '').includes(token), `the token appeared in a request body to ${request.url}`);
    if (request.authorization?.includes(token)) {
      const { origin, pathname } = new URL(request.url);
      assert.equal(origin, base, `the token went to another origin: ${request.url}`);
      assert.ok(pathname === '/a2a/jsonrpc' || pathname === '/oauth/whoami', `the token went to ${pathname}`);
    }
  }
  assert.ok(traffic.requests.some((r) => r.authorization === `Bearer ${token}` && r.url === `${base}/a2a/jsonrpc`), 'the test can fail: the token was used');
}

describe('in a real browser', { skip: browserSkip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
  });

  test('in one look, on a desktop and on a phone, light and dark: the name, what the agents do, whether a token is needed, and the chat', { timeout: 60_000 }, async () => {
    // The agents this Space template really ships, under a Space id as on the Hub.
    await withTestServer(
      { argv: ['--agent-cards', path.join(ROOT, 'agents')], env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, SPACE_ID: 'acme/a2a-agents' } },
      async (app) => {
        for (const [device, options] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
          for (const colorScheme of ['light', 'dark'] as const) {
            const { context, problems } = await newContext(browser, { ...options, colorScheme });
            const page = await context.newPage();
            await page.goto(`${app.url}/`);
            const height = options.viewport!.height;
            for (const target of [
              page.getByRole('heading', { level: 1, name: /a2a-agents/ }),
              page.locator('.lede', { hasText: 'A concise, helpful assistant' }),
              page.getByText('Calls need your own Hugging Face token'),
              page.getByRole('button', { name: 'Sign in with Hugging Face' }),
              page.getByLabel('Agent', { exact: true }),
              page.getByLabel('Message', { exact: true }),
              page.getByRole('button', { name: 'Send' }),
            ]) {
              await target.waitFor();
              const box = (await target.boundingBox())!;
              assert.ok(box.y >= 0 && box.y + box.height <= height, `${device}: ${target} ends at ${Math.round(box.y + box.height)} px, below the fold (${height} px)`);
            }
            const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            assert.equal(scroll, 0, `${device}: nothing is wider than the screen`);
            await shot(page, `page-${device}-${colorScheme}`);
            assert.deepEqual(problems, []);
            await context.close();
          }
        }
      },
    );
  });

  test('sign in with Hugging Face, chat with streaming, follow up in the same context, pick another agent, see tool activity and a failed task, sign out', { timeout: 90_000 }, async () => {
    const { context, traffic, problems, dialogs } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);

    await page.getByRole('button', { name: 'Sign in with Hugging Face' }).click();
    await page.getByText('Signed in as alice').waitFor();
    assert.equal(page.url(), `${server.url}/`, 'back on the page, with no code left in the address');
    const token = hub.issued.at(-1)!;
    const authorizeRequest = hub.requests.findLast((r) => r.path === '/oauth/authorize')!;
    assert.equal(authorizeRequest.query.get('client_id'), `${server.url}/.well-known/oauth-cimd`);
    assert.equal(authorizeRequest.query.get('code_challenge_method'), 'S256');
    assert.ok(authorizeRequest.query.get('scope')!.split(' ').includes('inference-api'));
    assert.equal(await page.evaluate((key) => JSON.parse(sessionStorage.getItem(key)!).token, TOKEN_KEY), token);
    assert.equal(await page.evaluate(() => localStorage.length), 0);

    // The agent picker describes agents other than the default, which the page's lede describes.
    assert.equal(await page.locator('#agent-about').isVisible(), false);

    // The default agent; then a follow-up that the model sees with the first turn.
    const first = await send(page, 'first question');
    await first.getByText('Answer 1: you said first question').waitFor();
    await finished(first);
    const second = await send(page, 'and a follow-up');
    await second.getByText('Answer 2: you said and a follow-up').waitFor();
    await finished(second);
    const sends = traffic.requests.filter((r) => r.url.endsWith('/a2a/jsonrpc') && r.body?.includes('SendStreamingMessage')).map((r) => JSON.parse(r.body!));
    assert.equal(sends[0].params.message.contextId, undefined);
    assert.ok(sends[1].params.message.contextId, 'the follow-up names the context');

    // Another agent, picked from the list.
    await page.getByLabel('Agent', { exact: true }).selectOption('echo');
    assert.match((await page.locator('#agent-about').textContent())!, /Repeats your message back/);
    const echoed = await send(page, 'Some *Markdown*: `code`, a [link](https://example.com/docs) and\n\n- one\n- two');
    await finished(echoed);
    assert.equal(await echoed.locator('.who').textContent(), 'echo');
    assert.equal(await echoed.locator('em').textContent(), 'Markdown');
    assert.equal(await echoed.locator('code').textContent(), 'code');
    assert.equal(await echoed.locator('li').count(), 2);
    const link = echoed.getByRole('link', { name: 'link' });
    assert.equal(await link.getAttribute('href'), 'https://example.com/docs');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match((await link.getAttribute('rel'))!, /noopener/);
    const lastSend = JSON.parse(traffic.requests.findLast((r) => r.body?.includes('SendStreamingMessage'))!.body!);
    assert.equal(lastSend.params.message.metadata.agent, 'echo');

    // Tool activity shows while the agent works, then the answer.
    await page.getByLabel('Agent', { exact: true }).selectOption('tools');
    const tooling = await send(page, 'find me a tiny classifier');
    await tooling.locator('.activity li', { hasText: 'Calling test/search_models' }).waitFor();
    await tooling.getByText('The tool said: Found 3 models').waitFor();
    await finished(tooling);

    // A failed task says why, in the server's words.
    await page.getByLabel('Agent', { exact: true }).selectOption('broke');
    const broke = await send(page, 'hello');
    const alert = broke.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent())!, /could not finish: .*402|credit/i);
    await shot(page, 'chat-desktop');

    // Sign out: the tab forgets the token, and the next message says what to do.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with Hugging Face' }).waitFor();
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), null);
    await page.getByLabel('Agent', { exact: true }).selectOption('echo');
    const refused = await send(page, 'still there?');
    assert.match((await refused.getByRole('alert').textContent())!, /needs your Hugging Face token\. Sign in with Hugging Face, or paste a token/);

    await traffic.settled();
    assertTokenStayedHome(traffic, token, server.url);
    assert.deepEqual(problems, []);
    assert.deepEqual(dialogs, []);
    await context.close();
  });

  test('the answer streams in, and Cancel stops a slow one', { timeout: 60_000 }, async () => {
    const { context, traffic, problems } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in with Hugging Face' }).click();
    await page.getByText('Signed in as alice').waitFor();

    await page.getByLabel('Agent', { exact: true }).selectOption('slow');
    const answer = await send(page, 'tell me everything');
    await answer.getByText(/word3\b/).waitFor();
    // Part of the answer is on screen while the rest is still coming.
    assert.ok(await answer.locator('.body.streaming').count());
    assert.doesNotMatch((await answer.textContent())!, /word299/);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).isEnabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Send' }).isEnabled(), false);

    await page.getByRole('button', { name: 'Cancel' }).click();
    // The task's own canceled status ends it, well before the page would give up on the stream (3 s).
    await answer.getByText('Canceled.').waitFor({ timeout: 2_500 });
    await traffic.settled();
    const cancel = traffic.requests.find((r) => r.body?.includes('"CancelTask"'));
    assert.ok(cancel, 'the page asked the Space to cancel the task');
    assert.ok(JSON.parse(cancel.body!).params.id, 'naming the task');
    const shown = await answer.locator('.body').textContent();
    await page.waitForTimeout(600);
    assert.equal(await answer.locator('.body').textContent(), shown, 'nothing more arrives after the cancel');
    assert.equal(await page.getByRole('button', { name: 'Send' }).isEnabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).isEnabled(), false);
    const stream = router.requests.findLast((r) => r.body?.model?.endsWith('/slow'))!;
    for (let i = 0; i < 50 && !stream.aborted; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(stream.aborted, 'the model call was stopped too');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("inside the Hub's iframe, sign-in opens its own window, which hands the code back to the frame and closes", { timeout: 60_000 }, async () => {
    const { context, traffic, problems } = await newContext(browser);
    const page = await context.newPage();
    hub.nextUser = { name: 'bob' };
    try {
      await page.goto(`${hub.url}/spaces/acme/demo`);
      const frame = page.frameLocator('iframe');
      await frame.getByRole('heading', { level: 1 }).waitFor();
      const popupOpened = page.waitForEvent('popup');
      await frame.getByRole('button', { name: 'Sign in with Hugging Face' }).click();
      const popup = await popupOpened;
      // It may have done its work and closed already: waiting for a close that has happened never ends.
      if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 10_000 });
      await frame.getByText('Signed in as bob').waitFor();
      await shot(page, 'space-iframe-signed-in');
      assert.equal(page.url(), `${hub.url}/spaces/acme/demo`, 'the Space page itself did not navigate');
      const token = hub.issued.at(-1)!;

      await frame.getByLabel('Agent', { exact: true }).selectOption('echo');
      await frame.getByLabel('Message', { exact: true }).fill('hello from the frame');
      await frame.getByRole('button', { name: 'Send' }).click();
      await frame.locator('.msg.agent .body', { hasText: 'hello from the frame' }).waitFor();

      // Links leave the frame.
      for (const target of await frame.locator('a[href^="http"]').evaluateAll((links) => links.map((a) => a.getAttribute('target')))) assert.equal(target, '_blank');

      await traffic.settled();
      assertTokenStayedHome(traffic, token, server.url);
      const callback = traffic.requests.find((r) => r.url.startsWith(`${server.url}/oauth/callback?`));
      assert.ok(callback, 'the Hub sent the sign-in window back to the callback');
      assert.deepEqual(problems, []);
    } finally {
      hub.nextUser = { name: 'alice' };
      await context.close();
    }
  });

  test('what the model writes is shown as text: no markup, no script, no javascript: links', { timeout: 60_000 }, async () => {
    const { context, problems, dialogs } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${open.url}/`);
    await page.getByLabel('Agent', { exact: true }).selectOption('echo');
    const attack = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(2)</script>',
      '[click me](javascript:alert(3))',
      '<a href="javascript:alert(4)">x</a> <iframe src="https://example.com"></iframe>',
      '**<b onmouseover=alert(5)>bold</b>** `<svg onload=alert(6)>`',
    ].join('\n\n');
    const answer = await send(page, attack);
    await finished(answer);
    const body = answer.locator('.body');
    await body.getByText('<img src=x onerror=alert(1)>').waitFor();
    await body.getByText('<script>alert(2)</script>').waitFor();
    await body.getByText('<svg onload=alert(6)>').waitFor();
    assert.equal(await body.locator('img, script, iframe, svg, b, [onerror], [onload], [onmouseover]').count(), 0);
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
    assert.match((await body.textContent())!, /\[click me\]\(javascript:alert\(3\)\)/);
    await body.locator('strong').hover();
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a token the Hub rejects, and one that lacks a permission, are explained', { timeout: 60_000 }, async () => {
    const { context, problems } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);

    // Pasted, and not accepted: nothing is kept.
    await pasteToken(page, 'hf_notarealtoken0000000000000000');
    await page.getByText('Hugging Face does not accept this token').waitFor();
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), null);

    // A token that worked once and has since been revoked.
    await page.evaluate((key) => sessionStorage.setItem(key, JSON.stringify({ token: 'hf_revokedsincesignin000000000', name: 'alice', expiresAt: 0 })), TOKEN_KEY);
    await page.reload();
    await page.getByText('Signed in as alice').waitFor();
    await page.getByLabel('Agent', { exact: true }).selectOption('echo');
    const revoked = await send(page, 'hello?');
    assert.match((await revoked.getByRole('alert').textContent())!, /does not accept your token.*Sign in again, or paste a valid token/);
    await page.getByRole('button', { name: 'Sign in with Hugging Face' }).waitFor();

    // A fine-grained token without "Make calls to Inference Providers".
    const limited = 'hf_nopermission00000000000000000';
    hub.tokens.set(limited, { name: 'carol', permissions: ['repo.content.read'] });
    await pasteToken(page, limited);
    await page.getByText('Signed in as carol').waitFor();
    const forbidden = await send(page, 'hello?');
    assert.match((await forbidden.getByRole('alert').textContent())!, /lacks the permission "Make calls to Inference Providers" \(inference-api\)/);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('rate limits are explained with the wait: the Hub answering 429, and this Space answering 429', { timeout: 60_000 }, async () => {
    const busyHub = await startFakeOAuthHub();
    try {
      await withTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: busyHub.url, RATE_LIMIT_PER_CALLER: '1' } }, async (app) => {
        const { context, problems } = await newContext(browser);
        const page = await context.newPage();
        await page.goto(`${app.url}/`);

        // The Hub limits whoami per IP, and every visitor of a Space shares one.
        busyHub.tokens.set('hf_daveabcdefabcdef00000000', { name: 'dave' });
        busyHub.mode = { kind: 'rate-limited', retryAfter: 2 };
        await pasteToken(page, 'hf_daveabcdefabcdef00000000');
        await page.getByText(/could not be checked yet/).waitFor();
        const waiting = await send(page, 'hi');
        assert.match((await waiting.getByRole('alert').textContent())!, /rate-limiting.*try again in [12] s/i);

        // This Space's own limit per caller: one request a second here, so a script keeps it spent.
        busyHub.mode = { kind: 'normal' };
        await new Promise((resolve) => setTimeout(resolve, 2_200)); // until the Hub's Retry-After has passed
        const erin = 'hf_erinabcdefabcdef00000000';
        busyHub.tokens.set(erin, { name: 'erin' });
        await page.getByRole('button', { name: 'Sign out' }).click();
        await pasteToken(page, erin);
        await page.getByText('Signed in as erin').waitFor();
        let hammering = true;
        const hammer = (async () => {
          while (hammering) {
            await fetch(`${app.url}/a2a/jsonrpc`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0', Authorization: `Bearer ${erin}` },
              body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'nope' } }),
            });
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        try {
          await new Promise((resolve) => setTimeout(resolve, 300));
          const limited = await send(page, 'hi again');
          assert.match((await limited.getByRole('alert').textContent())!, /Too many requests right now\. Wait \d+ seconds?, then send again\./);
        } finally {
          hammering = false;
          await hammer;
        }
        assert.deepEqual(problems, []);
        await context.close();
      });
    } finally {
      await busyHub.close();
    }
  });

  test('a refused consent is explained, and leaves the visitor signed out', { timeout: 60_000 }, async () => {
    const { context, problems } = await newContext(browser);
    const page = await context.newPage();
    hub.consent = 'deny';
    try {
      await page.goto(`${server.url}/`);
      await page.getByRole('button', { name: 'Sign in with Hugging Face' }).click();
      await page.getByText('Sign-in did not finish: access_denied.').waitFor();
      assert.equal(new URL(page.url()).search, '', 'the answer is gone from the address bar');
      await page.getByRole('link', { name: 'Back to the Space' }).click();
      await page.getByRole('button', { name: 'Sign in with Hugging Face' }).waitFor();
      assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), null);
      assert.deepEqual(problems, []);
    } finally {
      hub.consent = 'approve';
      await context.close();
    }
  });

  test('a Space that is restarting or asleep (502, 503, a dropped connection) is explained', { timeout: 60_000 }, async () => {
    const { context, problems } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${open.url}/`);
    await page.getByLabel('Agent', { exact: true }).selectOption('echo');
    for (const failure of ['502', '503', 'abort'] as const) {
      await page.route('**/a2a/jsonrpc', (route) =>
        failure === 'abort' ? route.abort('connectionreset') : route.fulfill({ status: Number(failure), contentType: 'text/html', body: '<html><body>Building…</body></html>' }),
      );
      const answer = await send(page, `try ${failure}`);
      assert.match((await answer.getByRole('alert').textContent())!, /restarting or asleep.*Try again in a moment/);
      await page.unroute('**/a2a/jsonrpc');
    }
    const back = await send(page, 'and now?');
    await back.getByText('and now?').waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('keyboard only: Tab reaches sign-in, the agent picker, the message box, Send and Cancel; every control has a name', { timeout: 60_000 }, async () => {
    const { context, problems } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);

    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('a, button, input, select, textarea, summary, [tabindex]')].flatMap((node) => {
        const e = node as HTMLElement & { labels?: NodeListOf<HTMLLabelElement> };
        const labelled = e.getAttribute('aria-labelledby')?.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
        const name = (e.getAttribute('aria-label') ?? labelled ?? '') || [...(e.labels ?? [])].map((l) => l.textContent).join(' ') || e.textContent || e.getAttribute('title') || '';
        return name.trim() ? [] : [e.outerHTML.slice(0, 80)];
      }),
    );
    assert.deepEqual(unnamed, []);
    for (const control of [
      page.getByRole('button', { name: 'Sign in with Hugging Face' }),
      page.getByLabel('Agent', { exact: true }),
      page.getByLabel('Message', { exact: true }),
      page.getByRole('button', { name: 'Send' }),
      page.getByRole('button', { name: 'Cancel' }),
      page.getByRole('button', { name: 'New chat' }),
      page.getByRole('log', { name: 'Conversation' }),
      page.getByRole('link', { name: 'Agent card' }),
      page.getByRole('button', { name: 'Copy the curl snippet' }),
    ]) {
      assert.equal(await control.count(), 1, String(control));
    }

    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim().slice(0, 30) || document.activeElement?.tagName);
    const tabTo = async (id: string, key: 'Tab' | 'Shift+Tab' = 'Tab') => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press(key);
        if ((await focused()) === id) return;
      }
      assert.fail(`${key} never reached ${id}`);
    };
    const order: string[] = [];
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      order.push(String(await focused()));
    }
    for (const id of ['sign-in', 'agent', 'message', 'send']) assert.ok(order.includes(id), `Tab reaches #${id}: ${order.join(' > ')}`);
    assert.ok(order.indexOf('sign-in') < order.indexOf('agent') && order.indexOf('agent') < order.indexOf('message') && order.indexOf('message') < order.indexOf('send'), order.join(' > '));

    // Paste a token, with the keyboard alone.
    const token = 'hf_keyboardonly00000000000000000';
    hub.tokens.set(token, { name: 'kim' });
    await page.locator('body').focus();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await tabTo('Paste a token');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'token-input');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as kim').waitFor();

    // Pick the slow agent, send with Enter, reach Cancel with Tab, cancel with Enter.
    await page.getByLabel('Agent', { exact: true }).focus();
    await page.keyboard.type('slow');
    assert.equal(await page.getByLabel('Agent', { exact: true }).inputValue(), 'slow');
    await tabTo('message');
    await page.keyboard.type('a long story, please');
    await page.keyboard.press('Enter');
    await lastAnswer(page).getByText(/word2\b/).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'cancel', 'Send is disabled while the answer comes, so Tab goes on to Cancel');
    await page.keyboard.press('Enter');
    await lastAnswer(page).getByText('Canceled.').waitFor();

    // Sign out from the keyboard, too.
    await tabTo('sign-out', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign in with Hugging Face' }).waitFor();
    assert.equal(await focused(), 'sign-in', 'focus lands on Sign in after signing out');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('with API keys only: paste a key, chat with the default agent; no key, a wrong key and forgetting it are explained', { timeout: 60_000 }, async () => {
    const key = `web-${crypto.randomUUID()}`;
    await withTestServer({ env: { A2A_API_KEYS: `web:${key}`, A2A_API_KEYS_CREDENTIAL: 'none' } }, async (app) => {
      const { context, traffic, problems } = await newContext(browser);
      const page = await context.newPage();
      await page.goto(`${app.url}/`);
      await page.locator('.need', { hasText: 'Calls need an API key' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign in with Hugging Face' }).count(), 0);
      assert.equal(await page.getByText('Paste a token').count(), 0);

      // No key yet: the message says what to bring.
      const bare = await send(page, 'anyone there?');
      assert.match((await bare.getByRole('alert').textContent())!, /This server needs an API key\. Paste it above, then send again\./);

      // A key the server does not have: refused, explained, and not kept.
      await page.getByLabel('API key', { exact: true }).fill('not-a-key-of-this-server-0000');
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.getByText('Using your API key').waitFor();
      const wrong = await send(page, 'hello?');
      assert.match((await wrong.getByRole('alert').textContent())!, /does not accept your API key/);
      await page.getByText('Your API key was not accepted. Paste another.').waitFor();
      assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);

      // The right key: the default agent (a passthrough one) answers.
      await page.getByLabel('API key', { exact: true }).fill(key);
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.getByText('Using your API key').waitFor();
      assert.equal(await page.evaluate((k) => JSON.parse(sessionStorage.getItem(k)!).token, TOKEN_KEY), key);
      const answer = await send(page, 'hello with a key');
      await answer.locator('.body', { hasText: 'hello with a key' }).waitFor();
      await finished(answer);
      assert.equal(await answer.locator('.who').textContent(), 'echo');
      assert.equal(await answer.getByRole('alert').count(), 0);
      await shot(page, 'page-api-key');

      // Forget it: the tab no longer holds it, and the field is back.
      await page.getByRole('button', { name: 'Forget key' }).click();
      await page.getByLabel('API key', { exact: true }).waitFor();
      assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);

      await traffic.settled();
      assert.ok(!traffic.requests.some((r) => new URL(r.url).pathname.startsWith('/oauth/')), 'no Hugging Face sign-in route is asked');
      assertTokenStayedHome(traffic, key, app.url);
      assert.deepEqual(problems, []);
      await context.close();
    });
  });

  test('with Hugging Face tokens and API keys: a pasted API key is kept as it is (not sent to the Hub to check) and the chat works with it', { timeout: 60_000 }, async () => {
    const key = `mixed-${crypto.randomUUID()}`;
    await withTestServer({ env: { FAST_AGENT_SERVE_OAUTH: 'huggingface', HF_ENDPOINT: hub.url, A2A_API_KEYS: `web:${key}`, A2A_API_KEYS_CREDENTIAL: 'none' } }, async (app) => {
      const { context, traffic, problems } = await newContext(browser);
      const page = await context.newPage();
      await page.goto(`${app.url}/`);
      await page.getByText('Paste a token').click();
      await page.getByLabel('Hugging Face token').fill(key);
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.getByText('Using your token').waitFor();
      const answer = await send(page, 'hello with a key on a Hugging Face server');
      await answer.locator('.body', { hasText: 'hello with a key on a Hugging Face server' }).waitFor();
      await finished(answer);
      assert.equal(await answer.getByRole('alert').count(), 0);
      await traffic.settled();
      assert.ok(!traffic.requests.some((r) => new URL(r.url).pathname === '/oauth/whoami'), 'the key was not checked as a Hugging Face token');
      assertTokenStayedHome(traffic, key, app.url);
      assert.deepEqual(problems, []);
      await context.close();
    });
  });

  test('with auth off, the chat works without signing in, and says no sign-in is needed', { timeout: 60_000 }, async () => {
    const { context, traffic, problems } = await newContext(browser, PHONE);
    const page = await context.newPage();
    await page.goto(`${open.url}/`);
    await page.getByText('No sign-in needed').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign in with Hugging Face' }).count(), 0);
    await page.getByRole('button', { name: 'Say hello' }).click();
    const answer = lastAnswer(page);
    await answer.getByText('Answer 1: you said Say hello').waitFor();
    await finished(answer);
    await shot(page, 'chat-phone');
    await traffic.settled();
    assert.ok(traffic.requests.every((r) => r.authorization === undefined), 'no token is sent when none is needed');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
