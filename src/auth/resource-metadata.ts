/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) at /.well-known/oauth-protected-resource: tells
 * an OAuth-capable client that this server takes Hugging Face tokens in the Authorization header,
 * which authorization server issues them, and which scopes to ask for.
 */
export interface ResourceMetadataInput {
  /** This server's public base URL. */
  resource: string;
  hubUrl: string;
  scopes: readonly string[];
  name: string;
}

export function protectedResourceMetadata({ resource, hubUrl, scopes, name }: ResourceMetadataInput) {
  return {
    resource,
    authorization_servers: [hubUrl],
    scopes_supported: [...scopes],
    bearer_methods_supported: ['header'],
    resource_name: name,
    resource_documentation: `${resource}/`,
  };
}
