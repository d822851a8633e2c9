import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface SignedToken {
  token: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** Signs HS256 session tokens with JWT_SECRET: the demo's sign-in, tests and tools. Host apps sign their own. */
export interface TokenSigner {
  /** `tenants`: the workspaces the token grants (its `tenants` claim). */
  sign(identity: { userId: string; name: string; tenants?: readonly string[] }): SignedToken;
}

/**
 * HS256 with a key object made once (given a string, jsonwebtoken first tries
 * to parse it as a PEM key on every call). Synchronous on purpose: tools and
 * tests mint tokens inline. `iss`/`aud` are set when Herald checks them, so
 * its own tokens pass its own verifier.
 */
export function createTokenSigner(options: { secret: string; ttlSeconds: number; issuer?: string; audience?: string }): TokenSigner {
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  return {
    sign({ userId, name, tenants }) {
      const token = jwt.sign({ name, ...(tenants ? { tenants: [...tenants] } : {}) }, key, {
        algorithm: 'HS256',
        subject: userId,
        expiresIn: options.ttlSeconds,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      });
      return { token, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000).toISOString() };
    },
  };
}

/** Stands in where no JWT_SECRET is configured: Herald verifies tokens but cannot mint any. */
export const noTokenSigner: TokenSigner = {
  sign() {
    throw new Error('No JWT_SECRET is configured, so Herald cannot sign tokens; sign them in your own app.');
  },
};
