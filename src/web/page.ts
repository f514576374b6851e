/**
 * The HTML of the Space's page at `/` and of the sign-in callback at `/oauth/callback`. Rendered
 * once at start-up from the agent cards and the configuration: no request data ever reaches it, so
 * it can be cached and carries nothing personal. Behaviour lives in the page script (script.ts).
 */
import type { AgentSet } from '../agents/agent-set.ts';
import { JSONRPC_PATH } from '../a2a/card.ts';
import type { OtherCredential, PageAccess } from './access.ts';

export interface SignIn {
  /** The Hub's authorization endpoint. */
  authorizeUrl: string;
  clientId: string;
  /** Space-separated. */
  scope: string;
  redirectUri: string;
}

/** What the page offers (see access.ts), with the sign-in's addresses when it offers Hugging Face's. */
export type PageAccessView = Exclude<PageAccess, { mode: 'huggingface' }> | (Extract<PageAccess, { mode: 'huggingface' }> & { signIn: SignIn });

export interface PageInput {
  /** This server's public base URL, without a trailing slash. */
  baseUrl: string;
  agents: AgentSet;
  access: PageAccessView;
  hubUrl: string;
  /** `owner/name` on a Space. */
  spaceId: string | undefined;
  /** Paths of the page's script and style sheet. */
  assets: { script: string; style: string };
}

export function renderLandingPage(input: PageInput): string {
  const { baseUrl, agents, access, hubUrl, spaceId, assets } = input;
  const main = agents.default;
  const [owner, spaceName] = spaceId?.includes('/') ? spaceId.split('/', 2) : [undefined, undefined];
  const title = spaceName ?? main.name;
  const config = {
    rpcPath: JSONRPC_PATH,
    hubUrl,
    // What the script offers: the sign-in's public addresses, or the words for a pasted credential.
    access:
      access.mode === 'huggingface'
        ? { mode: access.mode, signIn: access.signIn, takesOthers: access.others.length > 0 }
        : access.mode === 'credential'
          ? { mode: access.mode, ...wordsFor(access.accepted) }
          : { mode: access.mode },
    agents: agents.all.map((agent) => ({ name: agent.name, description: agent.description, examples: agent.examples.slice(0, 4), default: agent === main })),
  };

  const options = agents.all
    .map((agent) => `<option value="${esc(agent.name)}"${agent === main ? ' selected' : ''}>${esc(agent.name)}${agent === main ? ' (default)' : ''}</option>`)
    .join('');
  const agentList = agents.all
    .map(
      (agent) =>
        `<li><strong>${esc(agent.name)}</strong>${agent === main ? ' <small>default</small>' : ''}: ${esc(agent.description)} <small class="muted">Model: <code>${esc(agent.modelName)}</code>${agent.mcpServers.length ? `; tools from ${agent.mcpServers.map((s) => `<code>${esc(s.name)}</code>`).join(', ')}` : ''}</small></li>`,
    )
    .join('\n');

  const account =
    access.mode === 'huggingface'
      ? `<p class="need"><strong>Calls need your own Hugging Face token</strong>, so you pay for and act as yourself.</p>
<div id="signed-out" class="row">
<button type="button" id="sign-in" class="primary">Sign in with Hugging Face</button>
<details id="paste"><summary>Paste a token</summary>
<form id="token-form" class="row">
<label for="token-input">Hugging Face token</label>
<input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" placeholder="hf_…" required>
<button type="submit">Use token</button>
</form>
<p class="muted small">A token with “Make calls to Inference Providers”, from <a href="${esc(hubUrl)}/settings/tokens" target="_blank" rel="noopener noreferrer">your settings</a>. It stays in this tab only.</p>
</details>
</div>
<div id="signed-in" class="row" hidden><span id="who" aria-live="polite"></span><button type="button" id="sign-out">Sign out</button></div>
${access.others.length ? `<p class="muted small">Calls may also carry ${access.others.map(fullDescription).join('; or ')}.</p>\n` : ''}<p id="account-note" class="note" role="status"></p>`
      : access.mode === 'credential'
        ? renderPasteOnly(access.accepted)
        : `<p class="need"><strong>No sign-in needed:</strong> this server runs with inbound authentication off, so calls need no token and model calls use the server's own token.</p>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<meta name="description" content="${esc(main.description)}">
<title>${esc(title)} · A2A agents</title>
<link rel="stylesheet" href="${assets.style}">
<script src="${assets.script}" defer></script>
</head>
<body data-page="main">
<header class="wrap top">
<div class="id">
<h1>${esc(title)}${owner ? ` <small class="muted">by ${esc(owner)}</small>` : ''}</h1>
<p class="lede">${esc(main.description)}</p>
</div>
<div class="account">
${account}
</div>
</header>
<main class="wrap">
<section class="chat" aria-labelledby="chat-title">
<h2 id="chat-title" class="sr-only">Try the agents</h2>
<div class="row bar">
<label for="agent">Agent</label>
<select id="agent">${options}</select>
<span id="agent-about" class="muted small" hidden></span>
<button type="button" id="new-chat" class="quiet">New chat</button>
</div>
<div id="log" class="log" role="log" aria-label="Conversation" tabindex="0">
<div id="examples" class="examples"></div>
</div>
<form id="composer" class="composer">
<label for="message" class="sr-only">Message</label>
<textarea id="message" rows="2" placeholder="Message ${esc(main.name)}… (Enter sends, Shift+Enter for a new line)" required></textarea>
<div class="actions">
<button type="submit" id="send" class="primary">Send</button>
<button type="button" id="cancel" disabled>Cancel</button>
</div>
</form>
<noscript><p class="note">The chat needs JavaScript; the endpoints below work from any A2A client.</p></noscript>
</section>
<section aria-labelledby="agents-title">
<h2 id="agents-title">Agents</h2>
<ul class="agents">
${agentList}
</ul>
<p class="muted small">Each agent is one skill on this Space's A2A card: a message goes to the default agent unless it names another in <code>metadata.agent</code>. Each is also an A2A agent of its own at <code>${esc(baseUrl)}/agents/&lt;name&gt;/</code>, for clients that cannot name one.</p>
</section>
${renderConnect(input)}
</main>
<footer class="wrap muted small">Served over the <a href="https://a2a-protocol.org/" target="_blank" rel="noopener noreferrer">Agent2Agent protocol</a> (1.0 and 0.3). ${access.mode === 'credential' ? `Your ${wordsFor(access.accepted).noun} stays in this browser tab and is sent only to this server.` : 'Your token stays in this browser tab and is sent only to this Space.'}</footer>
<script type="application/json" id="page-config">${jsonForScript(config)}</script>
</body>
</html>
`;
}

function renderConnect({ baseUrl, agents, access }: PageInput): string {
  const auth = snippetAuth(access);
  const value = (env: string) => `${auth?.bearer ? 'Bearer ' : ''}${env}`;
  const agent = agents.default.name;
  const curl = `curl -N ${baseUrl}${JSONRPC_PATH} \\
  -H "Content-Type: application/json" \\
  -H "A2A-Version: 1.0" \\${auth ? `\n  -H "${auth.header}: ${value(`$${auth.env}`)}" \\` : ''}
  -d '{"jsonrpc":"2.0","id":1,"method":"SendStreamingMessage","params":{"message":{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"Hello!"}],"metadata":{"agent":${JSON.stringify(agent)}}}}}'`;
  const fetchName = auth?.bearer ? 'withToken' : 'withKey';
  const sdk = `import { SendMessageRequest } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
${auth
    ? `
const ${fetchName}: typeof fetch = (url, init) => {
  const headers = new Headers(init?.headers);
  headers.set('${auth.header}', ${auth.bearer ? `\`Bearer \${process.env.${auth.env}}\`` : `process.env.${auth.env}!`});
  return fetch(url, { ...init, headers });
};`
    : ''}
const client = await new ClientFactory(
  ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory(${auth ? `{ fetchImpl: ${fetchName} }` : ''})],
  }),
).createFromUrl('${baseUrl}');

const task = await client.sendMessage(
  SendMessageRequest.fromJSON({
    message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'Hello!' }], metadata: { agent: ${JSON.stringify(agent)} } },
  }),
);`;
  const fastAgent = `type: a2a
name: ${agent.replace(/[^A-Za-z0-9_]/g, '_')}_space
url: ${baseUrl}
transport: JSONRPC${auth ? `
headers:
  ${auth.header}: "${value(`\${${auth.env}}`)}"` : ''}`;
  // RFC 9728 metadata is served when a scheme has an authorization server: the Hub, or the OIDC issuer.
  const metadata = access.mode === 'huggingface' || (access.mode === 'credential' && access.accepted.some((c) => c.kind === 'oidc'));
  const how =
    access.mode === 'huggingface'
      ? '<p class="muted small">Send your Hugging Face token as <code>Authorization: Bearer &lt;token&gt;</code>; every model and tool call made for you carries it.</p>'
      : access.mode === 'credential'
        ? `<p class="muted small">Calls need ${access.accepted.map(fullDescription).join('; or ')}.</p>`
        : '';

  const link = (path: string, label: string) => `<a href="${esc(baseUrl + path)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
  const snippet = (id: string, label: string, text: string) =>
    `<div class="snippet"><div class="row"><h3 id="${id}-title">${label}</h3><button type="button" class="quiet copy" data-copy="${id}" aria-label="Copy the ${label} snippet">Copy</button></div>
<pre id="${id}" tabindex="0" aria-labelledby="${id}-title"><code>${esc(text)}</code></pre></div>`;

  return `<section aria-labelledby="connect-title">
<h2 id="connect-title">Connect</h2>
<ul>
<li>${link('/.well-known/agent-card.json', 'Agent card')}: <code>${esc(baseUrl)}/.well-known/agent-card.json</code></li>
${metadata ? `<li>${link('/.well-known/oauth-protected-resource', 'Protected resource metadata')} (RFC 9728): how OAuth clients sign in</li>\n` : ''}<li>JSON-RPC: <code>${esc(baseUrl)}${JSONRPC_PATH}</code>; HTTP+JSON: <code>${esc(baseUrl)}/a2a/rest</code></li>
</ul>
${how}
${snippet('snippet-curl', 'curl', curl)}
${snippet('snippet-sdk', '@a2a-js/sdk', sdk)}
${snippet('snippet-fast-agent', 'fast-agent card', fastAgent)}
</section>`;
}

/** How the page and its script speak of the credential a visitor pastes when there is no Hugging Face sign-in. */
function wordsFor(accepted: readonly OtherCredential[]): { noun: string; a: string; short: string } {
  if (new Set(accepted.map((c) => c.kind)).size > 1) return { noun: 'API key or access token', a: 'an API key or an access token', short: 'key or token' };
  return accepted[0]!.kind === 'api-key' ? { noun: 'API key', a: 'an API key', short: 'key' } : { noun: 'access token', a: 'an access token', short: 'token' };
}

/** Where a credential comes from and how it is sent, as HTML after its noun ("an API key <this>"). */
function whereFrom(credential: OtherCredential): string {
  return credential.kind === 'api-key'
    ? `from this server's operator, sent as <code>${esc(credential.header)}: &lt;key&gt;</code> or <code>Authorization: Bearer &lt;key&gt;</code>`
    : `from <code>${esc(credential.issuer)}</code>, sent as <code>Authorization: Bearer &lt;token&gt;</code>`;
}

function fullDescription(credential: OtherCredential): string {
  return `${credential.kind === 'api-key' ? 'an API key' : 'an access token'} ${whereFrom(credential)}`;
}

/** The account box without Hugging Face sign-in: what to send, and a field to paste it into for the chat. */
function renderPasteOnly(accepted: readonly [OtherCredential, ...OtherCredential[]]): string {
  const words = wordsFor(accepted);
  const need =
    accepted.length === 1
      ? `<strong>Calls need ${words.a}</strong> ${whereFrom(accepted[0])}.`
      : `<strong>Calls need ${words.a}:</strong> ${accepted.map(fullDescription).join('; or ')}.`;
  return `<p class="need">${need}</p>
<div id="signed-out">
<form id="token-form" class="row paste">
<label for="token-input">${esc(words.noun.charAt(0).toUpperCase() + words.noun.slice(1))}</label>
<input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required>
<button type="submit">Use ${esc(words.short)}</button>
</form>
<p class="muted small">It stays in this tab only.</p>
</div>
<div id="signed-in" class="row" hidden><span id="who" aria-live="polite"></span><button type="button" id="sign-out">Forget ${esc(words.short)}</button></div>
<p id="account-note" class="note" role="status"></p>`;
}

/** The header the snippets send and the environment variable they read it from; undefined when calls need nothing. */
function snippetAuth(access: PageAccessView): { header: string; env: string; bearer: boolean } | undefined {
  if (access.mode === 'open') return undefined;
  if (access.mode === 'huggingface') return { header: 'Authorization', env: 'HF_TOKEN', bearer: true };
  const first = access.accepted[0];
  return first.kind === 'api-key' ? { header: first.header, env: 'A2A_API_KEY', bearer: false } : { header: 'Authorization', env: 'ACCESS_TOKEN', bearer: true };
}

/**
 * Where the Hub sends the browser back after sign-in. The code and state in its URL are read by the
 * page script, which finishes the sign-in in this window or hands them to the window that opened it.
 */
export function renderCallbackPage(assets: { script: string; style: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>Signing in…</title>
<link rel="stylesheet" href="${assets.style}">
<script src="${assets.script}" defer></script>
</head>
<body data-page="callback">
<main class="wrap">
<h1>Signing in with Hugging Face…</h1>
<p id="callback-status" role="status">One moment.</p>
<p><a href="/">Back to the Space</a></p>
</main>
</body>
</html>
`;
}

/** JSON inside a `<script type="application/json">` block: nothing in it may close the block. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
