/**
 * What the page offers a visitor to call with, worked out once from the schemes the server runs:
 * nothing (inbound auth off), "Sign in with Hugging Face" (Hugging Face tokens are taken, perhaps
 * beside other credentials), or a field to paste the credential the server takes instead (API keys,
 * an OIDC issuer's access tokens). It names headers and the issuer only, never a key or a secret.
 */
import type { Identity } from '../auth/identity.ts';

/** A credential other than a Hugging Face token, as a caller sends it. */
export type OtherCredential =
  | { kind: 'api-key'; /** The header a key may come in besides `Authorization: Bearer`. */ header: string }
  | { kind: 'oidc'; /** The issuer whose access tokens are taken, exactly as configured. */ issuer: string };

export type PageAccess =
  /** Inbound auth off: callers are anonymous, and the page asks for nothing. */
  | { mode: 'open' }
  /** Hugging Face tokens are taken: sign-in and a pasted token; `others` are taken as well. */
  | { mode: 'huggingface'; others: readonly OtherCredential[] }
  /** Only other credentials are taken: no Hugging Face sign-in, a field to paste one of `accepted`. */
  | { mode: 'credential'; accepted: readonly [OtherCredential, ...OtherCredential[]] };

/** From the schemes as the agent card describes them (identity.card), in the order they claim credentials. */
export function pageAccess(card: Identity['card']): PageAccess {
  const others: OtherCredential[] = [
    ...(card.apiKey ? [{ kind: 'api-key' as const, header: card.apiKey.header }] : []),
    ...(card.oidc ? [{ kind: 'oidc' as const, issuer: card.oidc.issuer }] : []),
  ];
  if (card.huggingface) return { mode: 'huggingface', others };
  const [first, ...rest] = others;
  return first ? { mode: 'credential', accepted: [first, ...rest] } : { mode: 'open' };
}
