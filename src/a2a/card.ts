/**
 * The agent card: one card for the whole server, one skill per agent, in the two shapes clients
 * read. A2A 1.0 clients ask with `A2A-Version: 1.0` and get the 1.0 card; a request without the
 * header is A2A 0.3 by the spec and gets a 0.3 card that also carries the 1.0 interface list, so
 * both generations of client can call the agent from whatever they fetched.
 */
import { AgentCard, type SecurityRequirement, type SecurityScheme } from '@a2a-js/sdk';
import type { AgentSet } from '../agents/agent-set.ts';

export const JSONRPC_PATH = '/a2a/jsonrpc';
export const REST_PATH = '/a2a/rest';
const VERSION = '0.1.0';

export interface CardInput {
  /** Public base URL, without a trailing slash. */
  baseUrl: string;
  agents: AgentSet;
  /** Present when callers must bring a Hugging Face token. */
  auth?: { hubUrl: string; scopes: readonly string[] };
}

/** The 1.0 card, in the SDK's types: what the request handler and version checks read. */
export function buildAgentCard({ baseUrl, agents, auth }: CardInput): AgentCard {
  const main = agents.default;
  const security = auth ? hfSecurity(auth.hubUrl, auth.scopes) : { schemes: {}, requirements: [] };
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
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
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
      securityRequirements: security.requirements,
    })),
    signatures: [],
  };
}

/**
 * Either credential will do (requirements are OR): a Hugging Face token sent as a bearer token, or
 * an OAuth login through the Hub's OpenID Connect provider for clients that can open a browser.
 */
function hfSecurity(hubUrl: string, scopes: readonly string[]): { schemes: Record<string, SecurityScheme>; requirements: SecurityRequirement[] } {
  return {
    schemes: {
      hf_bearer: {
        scheme: {
          $case: 'httpAuthSecurityScheme',
          value: { scheme: 'Bearer', bearerFormat: 'Hugging Face token', description: 'Your Hugging Face access or OAuth token; every model call made for you uses it.' },
        },
      },
      hf_oauth: {
        scheme: {
          $case: 'openIdConnectSecurityScheme',
          value: { openIdConnectUrl: `${hubUrl}/.well-known/openid-configuration`, description: 'Log in with Hugging Face.' },
        },
      },
    },
    requirements: [{ schemes: { hf_bearer: { list: [] } } }, { schemes: { hf_oauth: { list: ['openid', ...scopes.filter((s) => s !== 'openid')] } } }],
  };
}

/** The 0.3 shape of the same card, with the 1.0 interfaces embedded (the two share no top-level field). */
export function legacyCardJson(card: AgentCard): Record<string, unknown> {
  const v1 = AgentCard.toJSON(card) as Record<string, unknown>;
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
    supportsAuthenticatedExtendedCard: false,
    supportedInterfaces: v1.supportedInterfaces,
  };
}

function legacyRequirement(requirement: SecurityRequirement): Record<string, string[]> {
  return Object.fromEntries(Object.entries(requirement.schemes).map(([name, scopes]) => [name, scopes.list]));
}

/** A 1.0 security scheme (a oneof) as the 0.3 `type`-tagged object; only the kinds this server uses. */
function legacyScheme({ scheme }: SecurityScheme): Record<string, string> {
  switch (scheme?.$case) {
    case 'httpAuthSecurityScheme':
      return { type: 'http', scheme: scheme.value.scheme.toLowerCase(), bearerFormat: scheme.value.bearerFormat, description: scheme.value.description };
    case 'openIdConnectSecurityScheme':
      return { type: 'openIdConnect', openIdConnectUrl: scheme.value.openIdConnectUrl, description: scheme.value.description };
    default:
      throw new Error(`no 0.3 form for security scheme ${scheme?.$case}`);
  }
}

/** Whether a request's `A2A-Version` header asks for A2A 0.3; an absent or empty header does. */
export function isLegacyVersion(header: string | undefined): boolean {
  const version = header?.trim();
  return !version || /^0\./.test(version);
}
