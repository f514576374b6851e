/**
 * The agent card: one card for the whole server, one skill per agent, in the two shapes clients
 * read. A2A 1.0 clients ask with `A2A-Version: 1.0` and get the 1.0 card; a request without the
 * header is A2A 0.3 by the spec and gets a 0.3 card that also carries the 1.0 interface list, so
 * both generations of client can call the agent from whatever they fetched.
 */
import { AgentCard, type OAuthFlows, type SecurityRequirement, type SecurityScheme } from '@a2a-js/sdk';
import type { AgentSet, AgentSpec } from '../agents/agent-set.ts';
import type { IssuerMetadata } from '../auth/oidc.ts';

export const JSONRPC_PATH = '/a2a/jsonrpc';
export const REST_PATH = '/a2a/rest';
const VERSION = '0.1.0';

/** The schemes callers may authenticate with; any one of them will do (requirements are OR). */
export interface CardSecurity {
  /** Hugging Face tokens (FAST_AGENT_SERVE_OAUTH=huggingface), with the scopes advertised. */
  huggingface?: { hubUrl: string; scopes: readonly string[] };
  /** API keys, sent in this header (or as a bearer token). */
  apiKey?: { header: string };
  /** OIDC access tokens: the issuer as its discovery document describes it. */
  oidc?: IssuerMetadata;
}

export interface CardInput {
  /** Public base URL, without a trailing slash. */
  baseUrl: string;
  agents: AgentSet;
  /** The schemes callers authenticate with; none: callers are anonymous. */
  security?: CardSecurity;
}

/** The 1.0 card, in the SDK's types: what the request handler and version checks read. */
export function buildAgentCard({ baseUrl, agents, security: configured }: CardInput): AgentCard {
  const main = agents.default;
  const security = securityOf(configured, agents);
  return {
    name: main.name,
    description: main.description,
    version: VERSION,
    provider: undefined,
    supportedInterfaces: [
      { url: `${baseUrl}${JSONRPC_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      { url: `${baseUrl}${REST_PATH}`, protocolBinding: 'HTTP+JSON', tenant: '', protocolVersion: '1.0' },
      { url: `${baseUrl}${JSONRPC_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: security.requirements.length > 0 },
    securitySchemes: security.schemes,
    securityRequirements: security.requirements,
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: agents.all.map((agent) => ({
      id: agent.name,
      name: agent.name,
      description: agent.description,
      tags: agent.tags,
      examples: agent.examples,
      inputModes: [],
      outputModes: [],
      securityRequirements: security.requirementsFor(agent),
    })),
    signatures: [],
  };
}

interface Advertised {
  name: string;
  scheme: SecurityScheme;
  /** The scopes this scheme's requirement lists for an agent needing `scopes`; undefined when its callers cannot hold them. */
  scopesFor(scopes: readonly string[]): string[] | undefined;
}

/**
 * Every configured scheme, each a requirement of its own (requirements are OR, so any one will do):
 * - `hf_bearer`: a Hugging Face token as a bearer token; `hf_oauth`: a login through the Hub's
 *   OpenID Connect provider, for clients that can open a browser. Their callers hold the scopes the
 *   server advertises, so a skill needing another scope does not list them.
 * - `api_key`: an API key in X-API-Key (or as a bearer token). Keys carry no scopes.
 * - `oidc`: the company issuer's OpenID Connect discovery; `oauth2_*`: each flow its discovery
 *   document lists (the 1.0 shape holds one flow per scheme), with its scopes and each agent's.
 * A skill's requirements carry that agent's scopes.
 */
function securityOf(security: CardSecurity | undefined, agents: AgentSet) {
  const advertised: Advertised[] = [];
  if (security?.huggingface) {
    const { hubUrl, scopes } = security.huggingface;
    const held = (needed: readonly string[]) => needed.every((scope) => scopes.includes(scope));
    advertised.push(
      {
        name: 'hf_bearer',
        scheme: {
          scheme: {
            $case: 'httpAuthSecurityScheme',
            value: { scheme: 'Bearer', bearerFormat: 'Hugging Face token', description: 'Your Hugging Face access or OAuth token; every model call made for you uses it.' },
          },
        },
        scopesFor: (needed) => (held(needed) ? [] : undefined),
      },
      {
        name: 'hf_oauth',
        scheme: { scheme: { $case: 'openIdConnectSecurityScheme', value: { openIdConnectUrl: `${hubUrl}/.well-known/openid-configuration`, description: 'Log in with Hugging Face.' } } },
        scopesFor: (needed) => (held(needed) ? ['openid', ...scopes.filter((s) => s !== 'openid')] : undefined),
      },
    );
  }
  if (security?.apiKey) {
    advertised.push({
      name: 'api_key',
      scheme: {
        scheme: {
          $case: 'apiKeySecurityScheme',
          value: { location: 'header', name: security.apiKey.header, description: `An API key from the operator, in ${security.apiKey.header} or as "Authorization: Bearer <key>".` },
        },
      },
      scopesFor: (needed) => (needed.length === 0 ? [] : undefined),
    });
  }
  if (security?.oidc) {
    const issuer = security.oidc;
    advertised.push({
      name: 'oidc',
      scheme: { scheme: { $case: 'openIdConnectSecurityScheme', value: { openIdConnectUrl: issuer.discoveryUrl, description: `Sign in with ${issuer.issuer}; send its access token as a bearer token.` } } },
      scopesFor: (needed) => [...needed],
    });
    for (const [name, flow] of oauthFlows(issuer, scopeDescriptions(issuer, agents))) {
      advertised.push({
        name,
        scheme: { scheme: { $case: 'oauth2SecurityScheme', value: { flows: { flow }, oauth2MetadataUrl: issuer.discoveryUrl, description: `OAuth 2.0 at ${issuer.issuer}.` } } },
        scopesFor: (needed) => [...needed],
      });
    }
  }
  const requirementsFor = (scopes: readonly string[]): SecurityRequirement[] =>
    advertised.flatMap(({ name, scopesFor }) => {
      const list = scopesFor(scopes);
      return list ? [{ schemes: { [name]: { list } } }] : [];
    });
  const forCard = requirementsFor([]);
  return {
    schemes: Object.fromEntries(advertised.map(({ name, scheme }) => [name, scheme])) as Record<string, SecurityScheme>,
    requirements: forCard,
    requirementsFor: (agent: AgentSpec) => (agent.access.scopes.length === 0 ? forCard : requirementsFor(agent.access.scopes)),
  };
}

/** The flows the issuer lists and this server can describe: authorization code (with PKCE), client credentials, device code. */
function oauthFlows(issuer: IssuerMetadata, scopes: Record<string, string>): Array<[string, NonNullable<OAuthFlows['flow']>]> {
  const flows: Array<[string, NonNullable<OAuthFlows['flow']>]> = [];
  const token = issuer.tokenEndpoint;
  if (!token) return flows;
  if (issuer.grantTypes.includes('authorization_code') && issuer.authorizationEndpoint) {
    flows.push(['oauth2_authorization_code', { $case: 'authorizationCode', value: { authorizationUrl: issuer.authorizationEndpoint, tokenUrl: token, refreshUrl: '', scopes, pkceRequired: true } }]);
  }
  if (issuer.grantTypes.includes('client_credentials')) {
    flows.push(['oauth2_client_credentials', { $case: 'clientCredentials', value: { tokenUrl: token, refreshUrl: '', scopes } }]);
  }
  if (issuer.grantTypes.includes('urn:ietf:params:oauth:grant-type:device_code') && issuer.deviceAuthorizationEndpoint) {
    flows.push(['oauth2_device_code', { $case: 'deviceCode', value: { deviceAuthorizationUrl: issuer.deviceAuthorizationEndpoint, tokenUrl: token, refreshUrl: '', scopes } }]);
  }
  return flows;
}

/** The issuer's scopes and every agent's, each described by the agents that need it. */
function scopeDescriptions(issuer: IssuerMetadata, agents: AgentSet): Record<string, string> {
  const scopes: Record<string, string> = Object.fromEntries(issuer.scopes.map((scope) => [scope, '']));
  for (const agent of agents.all) {
    for (const scope of agent.access.scopes) scopes[scope] = scopes[scope] ? `${scopes[scope]}, ${agent.name}` : `Needed by the agents: ${agent.name}`;
  }
  return scopes;
}

/**
 * The card as A2A 0.3 can say it: 0.3 has no device-code flow, and its clients (the SDK's among
 * them) refuse an OAuth 2.0 scheme without a flow, so that scheme and the requirements naming it
 * are left out. The other schemes still offer every way in.
 */
export function forV03(card: AgentCard): AgentCard {
  const dropped = new Set(Object.entries(card.securitySchemes).filter(([, scheme]) => !hasV03Form(scheme)).map(([name]) => name));
  if (dropped.size === 0) return card;
  const keep = (requirements: SecurityRequirement[]) => requirements.filter((requirement) => !Object.keys(requirement.schemes).some((name) => dropped.has(name)));
  return {
    ...card,
    securitySchemes: Object.fromEntries(Object.entries(card.securitySchemes).filter(([name]) => !dropped.has(name))),
    securityRequirements: keep(card.securityRequirements),
    skills: card.skills.map((skill) => ({ ...skill, securityRequirements: keep(skill.securityRequirements) })),
  };
}

function hasV03Form({ scheme }: SecurityScheme): boolean {
  return scheme?.$case !== 'oauth2SecurityScheme' || scheme.value.flows?.flow?.$case !== 'deviceCode';
}

/** The 0.3 shape of the same card, with the 1.0 interfaces embedded (the two share no top-level field). */
export function legacyCardJson(full: AgentCard): Record<string, unknown> {
  const v1 = AgentCard.toJSON(full) as Record<string, unknown>;
  const card = forV03(full);
  const legacyInterfaces = card.supportedInterfaces.filter((i) => i.protocolVersion === '0.3');
  const primary = legacyInterfaces[0]!;
  return {
    protocolVersion: '0.3.0',
    name: card.name,
    description: card.description,
    url: primary.url,
    preferredTransport: primary.protocolBinding,
    additionalInterfaces: legacyInterfaces.map((i) => ({ url: i.url, transport: i.protocolBinding })),
    version: card.version,
    capabilities: {
      streaming: card.capabilities?.streaming ?? false,
      pushNotifications: card.capabilities?.pushNotifications ?? false,
    },
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: card.skills.map((skill) => ({
      id: skill.id,
      name: skill.name,
      description: skill.description,
      tags: skill.tags,
      ...(skill.examples.length > 0 && { examples: skill.examples }),
      ...(skill.securityRequirements.length > 0 && { security: skill.securityRequirements.map(legacyRequirement) }),
    })),
    ...(Object.keys(card.securitySchemes).length > 0 && {
      securitySchemes: Object.fromEntries(Object.entries(card.securitySchemes).map(([name, scheme]) => [name, legacyScheme(scheme)])),
      security: card.securityRequirements.map(legacyRequirement),
    }),
    supportsAuthenticatedExtendedCard: card.capabilities?.extendedAgentCard ?? false,
    supportedInterfaces: v1.supportedInterfaces,
  };
}

function legacyRequirement(requirement: SecurityRequirement): Record<string, string[]> {
  return Object.fromEntries(Object.entries(requirement.schemes).map(([name, scopes]) => [name, scopes.list]));
}

/** A 1.0 security scheme (a oneof) as the 0.3 `type`-tagged object; only the kinds this server uses (see forV03). */
function legacyScheme({ scheme }: SecurityScheme): Record<string, unknown> {
  switch (scheme?.$case) {
    case 'httpAuthSecurityScheme':
      return { type: 'http', scheme: scheme.value.scheme.toLowerCase(), bearerFormat: scheme.value.bearerFormat, description: scheme.value.description };
    case 'openIdConnectSecurityScheme':
      return { type: 'openIdConnect', openIdConnectUrl: scheme.value.openIdConnectUrl, description: scheme.value.description };
    case 'apiKeySecurityScheme':
      return { type: 'apiKey', in: scheme.value.location, name: scheme.value.name, description: scheme.value.description };
    case 'oauth2SecurityScheme': {
      const flow = scheme.value.flows?.flow;
      const flows: Record<string, unknown> = {};
      if (flow?.$case === 'authorizationCode') flows.authorizationCode = { authorizationUrl: flow.value.authorizationUrl, tokenUrl: flow.value.tokenUrl, scopes: flow.value.scopes };
      if (flow?.$case === 'clientCredentials') flows.clientCredentials = { tokenUrl: flow.value.tokenUrl, scopes: flow.value.scopes };
      return { type: 'oauth2', flows, oauth2MetadataUrl: scheme.value.oauth2MetadataUrl, description: scheme.value.description };
    }
    default:
      throw new Error(`no 0.3 form for security scheme ${scheme?.$case}`);
  }
}

/** Whether a request's `A2A-Version` header asks for A2A 0.3; an absent or empty header does. */
export function isLegacyVersion(header: string | undefined): boolean {
  const version = header?.trim();
  return !version || /^0\./.test(version);
}
