import type { Logger } from '../platform/logger';
import { createAuthenticator, type Authenticate, type Authenticator, type AuthorizeTenant } from './authenticate';
import { createTokenSigner, noTokenSigner, type TokenSigner } from './token-signer';
import { createTokenVerifier, type TokenVerifierOptions } from './token-verifier';

/** The token signer (with a JWT secret) and the authenticator every user route and handshake goes through. */
export function createAuth(options: {
  auth: Omit<TokenVerifierOptions, 'logger'>;
  jwtTtlSeconds?: number | undefined;
  authenticate?: Authenticate | undefined;
  authorizeTenant?: AuthorizeTenant | undefined;
  logger: Logger;
}): { tokens: TokenSigner; authenticate: Authenticator } {
  const { auth, logger } = options;
  const tokens = auth.jwtSecret
    ? createTokenSigner({
        secret: auth.jwtSecret,
        ttlSeconds: options.jwtTtlSeconds ?? 43_200,
        ...(auth.issuer ? { issuer: auth.issuer } : {}),
        ...(auth.audience ? { audience: auth.audience } : {}),
      })
    : noTokenSigner;
  const authenticate = createAuthenticator({
    verifier: createTokenVerifier({ ...auth, logger }),
    ...(options.authenticate ? { hook: options.authenticate } : {}),
    ...(options.authorizeTenant ? { authorizeTenant: options.authorizeTenant } : {}),
  });
  return { tokens, authenticate };
}
