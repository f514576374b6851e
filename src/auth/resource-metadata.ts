/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) at /.well-known/oauth-protected-resource: tells
 * an OAuth-capable client that this server takes bearer tokens in the Authorization header, which
 * authorization servers issue them (the Hub for Hugging Face tokens, the company's OpenID issuer for
 * OIDC access tokens), and which scopes to ask for.
 */
export interface ResourceMetadataInput {
  /** This server's public base URL. */
  resource: string;
  /** The Hub, when Hugging Face tokens are taken. */
  hubUrl?: string;
  /** The OpenID issuer, when its access tokens are taken. */
  issuer?: string;
  scopes: readonly string[];
  name: string;
}

export function protectedResourceMetadata({ resource, hubUrl, issuer, scopes, name }: ResourceMetadataInput) {
  return {
    resource,
    authorization_servers: [hubUrl, issuer].filter((server): server is string => server !== undefined),
    scopes_supported: [...new Set(scopes)],
    bearer_methods_supported: ['header'],
    resource_name: name,
    resource_documentation: `${resource}/`,
  };
}
