/**
 * The little of oidc-provider's API the test issuer uses (the package ships no types of its own).
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenFormat?: 'jwt' | 'opaque';
    accessTokenTTL?: number;
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface OidcContext {
    oidc: {
      params: Record<string, string | undefined>;
      client: unknown;
      provider: Provider;
    };
    body: unknown;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(name: string, handler: (ctx: OidcContext) => Promise<void>, params?: string | string[], dupes?: string | string[]): void;
    on(event: string, listener: (...args: any[]) => void): this;
    readonly Client: { find(id: string): Promise<unknown> };
    readonly AccessToken: new (init: Record<string, unknown>) => { save(): Promise<string>; expiration: number; scope?: string; resourceServer?: unknown };
    readonly ResourceServer: new (identifier: string, info: ResourceServerInfo) => unknown;
  }

  export const errors: {
    InvalidGrant: new (description?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
    InvalidScope: new (description?: string, scope?: string) => Error;
    InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}
