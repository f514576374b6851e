/**
 * From the validated configuration to the running schemes: which ones, in which order, with which
 * downstream credential each, and what the card and the RFC 9728 metadata say about them. The one
 * place that knows how the identity settings fit together; src/server.ts only connects the result.
 *
 * Order matters only for which scheme claims a credential (see scheme.ts): API keys (X-API-Key, or a
 * bearer that is neither a Hugging Face token nor a JWT), then OIDC (JWTs), then Hugging Face
 * (everything else, so a stray value gets its familiar "not shaped like a Hugging Face token").
 */
import type { Config } from '../config.ts';
import type { AccessRule } from './access.ts';
import { API_KEY_HEADER, ApiKeyScheme } from './api-keys.ts';
import { Credential } from './credentials.ts';
import { HfTokenExchange } from './hf-exchange.ts';
import type { HubTokenVerifier } from './hub-verifier.ts';
import { HuggingFaceScheme } from './huggingface.ts';
import { discoverIssuer, OidcScheme, type DiscoveryOptions, type IssuerMetadata, type OidcSchemeOptions } from './oidc.ts';
import { protectedResourceMetadata } from './resource-metadata.ts';
import type { Scheme } from './scheme.ts';
import { TokenExchangeClient, type TokenExchangeOptions } from './token-exchange.ts';

/** Knobs of the identity machinery that tests turn (every one has a production default where it is declared). */
export interface IdentityOptions {
  discovery?: DiscoveryOptions;
  jwks?: OidcSchemeOptions['jwks'];
  /** Both token exchanges (Hugging Face and RFC 8693): cache margin, timeout, refusal memory, clock. */
  exchange?: Pick<TokenExchangeOptions, 'refreshMarginMs' | 'timeoutMs' | 'refusalTtlMs' | 'maxEntries' | 'now'>;
}

/** The secrets identity configuration holds, to be redacted wherever they might appear. */
export function identitySecrets(config: Config): string[] {
  const { apiKeys, oidc } = config.identity;
  return [
    ...(apiKeys?.keys.map((key) => key.key) ?? []),
    ...(oidc?.credential.kind === 'hf-exchange' ? [oidc.credential.clientSecret] : []),
    ...(oidc?.client ? [oidc.client.secret] : []),
  ];
}

/** What the agent card files are checked against. */
export function schemesForCards(config: Config) {
  return {
    ...(config.auth.mode === 'huggingface' && { huggingface: { scopes: config.auth.scopes } }),
    apiKeys: config.identity.apiKeys !== undefined,
    ...(config.identity.oidc && { oidc: { exchange: config.identity.oidc.client !== undefined } }),
  };
}

/** The issuer's discovery document, read at start-up; undefined without OIDC. Throws IssuerDiscoveryError. */
export async function discoverConfiguredIssuer(config: Config, options: DiscoveryOptions = {}): Promise<IssuerMetadata | undefined> {
  const oidc = config.identity.oidc;
  if (!oidc) return undefined;
  const metadata = await discoverIssuer(oidc.issuer, options);
  if (!oidc.jwksUrl && !metadata.jwksUri) throw new Error(`${metadata.discoveryUrl} lists no jwks_uri; set A2A_OIDC_JWKS_URL`);
  if (oidc.client && !metadata.tokenEndpoint) throw new Error(`${metadata.discoveryUrl} lists no token_endpoint, which token exchange needs`);
  return metadata;
}

export interface IdentityInput {
  config: Config;
  /** The Hub verifier the page shares (Hugging Face scheme only). */
  verifier: HubTokenVerifier;
  issuer: IssuerMetadata | undefined;
  /** This server's public base URL (the RFC 9728 resource). */
  resourceUrl: string;
  /** The card's name, for the RFC 9728 metadata. */
  name: string;
  /** Scopes agents need (their `scopes:`), advertised in the RFC 9728 metadata. */
  agentScopes: readonly string[];
  options?: IdentityOptions;
}

export interface Identity {
  /** Empty: no scheme, callers are anonymous. */
  schemes: Scheme[];
  /** The server's allow-list (A2A_ALLOW_*), when set. */
  access: AccessRule | undefined;
  /** RFC 9728 metadata, served when a scheme has an authorization server (the Hub, the OIDC issuer). */
  resourceMetadata: Record<string, unknown> | undefined;
  /** For the card. */
  card: { huggingface?: { hubUrl: string; scopes: readonly string[] }; apiKey?: { header: string }; oidc?: IssuerMetadata };
}

export function buildIdentity({ config, verifier, issuer, resourceUrl, name, agentScopes, options = {} }: IdentityInput): Identity {
  const { apiKeys, oidc, allow } = config.identity;
  const resourceMetadataUrl = `${resourceUrl}/.well-known/oauth-protected-resource`;
  const serverCredential = config.serverToken ? new Credential(config.serverToken, 'server') : undefined;
  const schemes: Scheme[] = [];

  if (apiKeys) {
    schemes.push(new ApiKeyScheme({ keys: apiKeys.keys, downstream: apiKeys.credential === 'server' ? { kind: 'server', credential: serverCredential! } : { kind: 'none' } }));
  }
  if (oidc && issuer) {
    const credential = oidc.credential;
    schemes.push(
      new OidcScheme({
        issuer: oidc.issuer,
        audience: oidc.audience,
        jwksUrl: oidc.jwksUrl ?? issuer.jwksUri!,
        algorithms: oidc.algorithms,
        groupsClaim: oidc.groupsClaim,
        jwks: options.jwks,
        resourceMetadataUrl,
        downstream:
          credential.kind === 'hf-exchange'
            ? {
                kind: 'hf-exchange',
                exchange: new HfTokenExchange({ ...options.exchange, hubUrl: config.hubUrl, clientId: credential.clientId, clientSecret: new Credential(credential.clientSecret, 'server'), scope: credential.scope }),
              }
            : credential.kind === 'server'
              ? { kind: 'server', credential: serverCredential! }
              : { kind: 'none' },
        exchange: oidc.client
          ? new TokenExchangeClient({ ...options.exchange, tokenUrl: issuer.tokenEndpoint!, clientId: oidc.client.id, clientSecret: new Credential(oidc.client.secret, 'server') })
          : undefined,
      }),
    );
  }
  if (config.auth.mode === 'huggingface') {
    schemes.push(new HuggingFaceScheme({ verifier, scopes: config.auth.scopes, resourceMetadataUrl }));
  }

  const hub = config.auth.mode === 'huggingface' ? { hubUrl: config.hubUrl, scopes: config.auth.scopes } : undefined;
  return {
    schemes,
    access: allow ? { scopes: [], allow } : undefined,
    resourceMetadata:
      hub || issuer
        ? protectedResourceMetadata({ resource: resourceUrl, hubUrl: hub?.hubUrl, issuer: issuer?.issuer, scopes: [...(hub?.scopes ?? []), ...agentScopes], name })
        : undefined,
    card: { ...(hub && { huggingface: hub }), ...(apiKeys && { apiKey: { header: API_KEY_HEADER } }), ...(issuer && { oidc: issuer }) },
  };
}
