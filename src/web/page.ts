/**
 * The landing page at `/`: what this Space serves and how to call it. Rendered once at start-up
 * from the agent cards; it shows no token and runs no script.
 */
import type { AgentSet } from '../agents/agent-set.ts';
import { JSONRPC_PATH, REST_PATH } from '../a2a/card.ts';

export interface PageInput {
  baseUrl: string;
  agents: AgentSet;
  authRequired: boolean;
}

export function renderLandingPage({ baseUrl, agents, authRequired }: PageInput): string {
  const main = agents.default;
  const auth = authRequired ? `\n  -H "Authorization: Bearer $HF_TOKEN" \\` : '';
  const curl = `curl ${baseUrl}${JSONRPC_PATH} \\
  -H "Content-Type: application/json" \\
  -H "A2A-Version: 1.0" \\${auth}
  -d '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"Hello!"}]}}}'`;

  const rows = agents.all
    .map(
      (agent) => `<tr><td><code>${esc(agent.name)}</code>${agent === main ? ' <small>(default)</small>' : ''}</td>` +
        `<td>${esc(agent.description)}</td><td><code>${esc(agent.modelName)}</code></td></tr>`,
    )
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(main.name)} · A2A agent</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{background:#f6f8fa;padding:1rem;overflow:auto;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.4rem;text-align:left;vertical-align:top}
.note{background:#fff8c5;padding:.6rem 1rem;border-radius:6px}
</style>
</head>
<body>
<h1>${esc(main.name)}</h1>
<p>${esc(main.description)}</p>
<p>This Space serves AI agents over the <a href="https://a2a-protocol.org/">Agent2Agent (A2A) protocol</a>, versions 1.0 and 0.3.</p>
${authRequired
    ? '<p class="note">Calls need your own Hugging Face token: <code>Authorization: Bearer &lt;token&gt;</code>. Every model and tool call made for you uses your token, so you pay for and act as yourself.</p>'
    : '<p class="note">Inbound authentication is off: model calls use the server\'s own token.</p>'}
<h2>Agents</h2>
<table><thead><tr><th>Name</th><th>What it does</th><th>Model</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p>Messages go to the default agent; name another with <code>"metadata": {"agent": "&lt;name&gt;"}</code> on the message.</p>
<h2>Endpoints</h2>
<ul>
<li>Agent card: <a href="/.well-known/agent-card.json"><code>${esc(baseUrl)}/.well-known/agent-card.json</code></a></li>
<li>JSON-RPC: <code>${esc(baseUrl)}${JSONRPC_PATH}</code></li>
<li>HTTP+JSON: <code>${esc(baseUrl)}${REST_PATH}</code></li>
</ul>
<h2>Try it</h2>
<pre>${esc(curl)}</pre>
</body>
</html>
`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
