import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export const ISSUER = 'https://id.example.test/';
export const AUDIENCE = 'herald-api';

export interface SigningKey {
  kid: string;
  alg: string;
  pair: KeyPair;
}

/**
 * A real identity provider's key endpoint on loopback: it serves a JWKS over
 * HTTP (counting fetches) and signs tokens with its keys, as Auth0, Okta or
 * Keycloak would. Keys can be rotated while it runs.
 */
export async function startIdentityProvider() {
  const published: SigningKey[] = [];
  let fetches = 0;
  let outage: number | 'reset' | null = null;
  const server = http.createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    if (outage === 'reset') {
      req.socket.destroy();
      return;
    }
    if (outage !== null) {
      res.writeHead(outage, { 'Content-Type': 'text/html' }).end('<h1>Bad gateway</h1>');
      return;
    }
    void Promise.all(
      published.map(async (k) => ({ ...(await exportJWK(k.pair.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' }) as JWK),
    ).then((keys) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  async function newKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
    return { kid, alg, pair: await generateKeyPair(alg, { extractable: true }) };
  }

  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    newKey,
    /** Fails every key-set fetch from now on: answers this status, or drops the connection; null: serves again. */
    fail(mode: number | 'reset' | null) {
      outage = mode;
    },
    /** Starts serving this key (beside the others). */
    publish(key: SigningKey) {
      published.push(key);
    },
    publicPem: (key: SigningKey) => exportSPKI(key.pair.publicKey),
    /** A token signed by `key`, with the usual claims unless overridden (`undefined` removes one). */
    async sign(key: SigningKey, claims: JWTPayload = {}, header: { kid?: string | undefined } = {}): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { sub: 'auth0|64f1c2', name: 'Ada', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      const kid = 'kid' in header ? header.kid : key.kid;
      return new SignJWT(payload).setProtectedHeader({ alg: key.alg, ...(kid ? { kid } : {}) }).sign(key.pair.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
