import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { RunningHerald } from '../src/main';
import { createLogger } from '../src/platform/logger';
import { createTokenVerifier } from '../src/auth/token-verifier';
import { TEST_JWT_SECRET, startTestHerald } from './support/herald';
import { AUDIENCE, ISSUER, startIdentityProvider, type SigningKey } from './support/identity-provider';
import { freshMongoUri, startTestRedis } from './support/services';
import { closeAllSockets, connect } from './support/sockets';
import type { LocalRedis } from '../src/local-services/redis-server';

type Provider = Awaited<ReturnType<typeof startIdentityProvider>>;

/** What GET /api/notifications/counts answers with this bearer token: 200, or the error code and message. */
async function answer(herald: RunningHerald, token: string): Promise<{ status: number; code?: string; message?: string }> {
  const res = await fetch(`${herald.url}/api/notifications/counts`, { headers: { Authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, ...(body.error ? { code: body.error.code, message: body.error.message } : {}) };
}

const refused = (check: RegExp) => ({ status: 401, code: 'invalid_token', message: expect.stringMatching(check) });

describe("the host app's tokens", () => {
  let idp: Provider;
  let redis: LocalRedis;
  let herald: RunningHerald;
  let k1: SigningKey;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    k1 = await idp.newKey('k1');
    idp.publish(k1);
    redis = await startTestRedis();
    herald = await startTestHerald({
      mongodbUri: freshMongoUri(),
      redisUrl: redis.url,
      env: { AUTH_JWKS_URL: idp.jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
  });
  afterAll(async () => {
    closeAllSockets();
    await herald?.close();
    await redis?.stop();
    await idp?.close();
  });

  it.each(['auth0|64f1c2', '6f1c2b9e-2d4b-4c1a-9f4e-1b2c3d4e5f60', '42', 'ada@example.com'])(
    'an RS256 token from the JWKS for %s is accepted, on HTTP and on the socket, as exactly that user',
    async (sub) => {
      const token = await idp.sign(k1, { sub });
      expect(await answer(herald, token)).toEqual({ status: 200 });
      const socket = await connect(herald.url, token);
      const { notifications } = await herald.gateway.publishNotification({ userIds: [sub], type: 'host.token', title: 'hi' });
      const synced = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
      expect(synced.data?.notifications.map((n) => n.id)).toEqual([notifications[0]!.id]);
    },
  );

  it('refuses, naming the check that failed', async () => {
    const foreign = await idp.newKey('k1'); // another key that reuses a known kid
    const now = Math.floor(Date.now() / 1000);
    expect(await answer(herald, await idp.sign(k1, { iss: 'https://evil.example/' }))).toEqual(refused(/wrong issuer/));
    expect(await answer(herald, await idp.sign(k1, { aud: 'some-other-service' }))).toEqual(refused(/wrong audience/));
    expect(await answer(herald, await idp.sign(k1, {}, { kid: 'nobody' }))).toEqual(refused(/unknown signing key/));
    expect(await answer(herald, await idp.sign(foreign))).toEqual(refused(/bad signature/));
    expect(await answer(herald, await idp.sign(k1, { exp: undefined }))).toEqual(refused(/missing claim "exp"/));
    expect(await answer(herald, await idp.sign(k1, { sub: undefined }))).toEqual(refused(/"sub" is not a user id/));
    expect(await answer(herald, await idp.sign(k1, { sub: 'not a user id' }))).toEqual(refused(/"sub" is not a user id/));
    expect(await answer(herald, await idp.sign(k1, { exp: now - 30, iat: now - 60 }))).toMatchObject({
      status: 401,
      code: 'token_expired',
    });
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const claims = header({ sub: 'auth0|64f1c2', iss: ISSUER, aud: AUDIENCE, exp: now + 300 });
    expect(await answer(herald, `${header({ alg: 'none', typ: 'JWT' })}.${claims}.`)).toEqual(refused(/algorithm none not accepted/));
    const odd = await answer(herald, `${header({ alg: 'X'.repeat(500) })}.${claims}.c2ln`);
    expect(odd).toEqual(refused(/algorithm not accepted/));
    expect(odd.message).not.toContain('XXX');
    // HS256 "signed" with the RSA public key: HS256 only ever checks against JWT_SECRET.
    const publicPem = await idp.publicPem(k1);
    const confused = jwt.sign({ sub: 'auth0|64f1c2', iss: ISSUER, aud: AUDIENCE }, publicPem, { algorithm: 'HS256', expiresIn: 300 });
    expect(await answer(herald, confused)).toEqual(refused(/bad signature/));
    expect(await answer(herald, 'not.a.jwt')).toEqual(refused(/malformed/));
  });

  it('a socket refused for a wrong audience hears why in connect_error', async () => {
    const error = await connect(herald.url, await idp.sign(k1, { aud: 'some-other-service' })).then(
      () => {
        throw new Error('the handshake was accepted');
      },
      (e: Error & { data?: { code: string; message: string } }) => e,
    );
    expect(error.data).toEqual({ code: 'invalid_token', message: expect.stringContaining('wrong audience') });
  });

  it('HS256 tokens the host signs with JWT_SECRET are accepted when they carry the issuer and audience', async () => {
    const sign = (claims: object) => jwt.sign({ name: 'Host', ...claims }, TEST_JWT_SECRET, { subject: 'host-user-7', expiresIn: 300 });
    expect(await answer(herald, sign({ iss: ISSUER, aud: AUDIENCE }))).toEqual({ status: 200 });
    expect(await answer(herald, sign({ aud: AUDIENCE }))).toEqual(refused(/missing claim "iss"|wrong issuer/));
    const hs512 = jwt.sign({ iss: ISSUER, aud: AUDIENCE }, TEST_JWT_SECRET, { subject: 'x', expiresIn: 300, algorithm: 'HS512' });
    expect(await answer(herald, hs512)).toEqual(refused(/algorithm HS512 not accepted/));
  });
});

describe('the JWKS is refetched for a new kid, at most once per cooldown', () => {
  it('rotates to a new key without a restart, and does not refetch for every unknown kid', async () => {
    const idp = await startIdentityProvider();
    try {
      const k1 = await idp.newKey('k1');
      idp.publish(k1);
      const verifier = createTokenVerifier({
        jwksUrl: idp.jwksUrl,
        issuer: ISSUER,
        audience: AUDIENCE,
        logger: createLogger('silent'),
        jwksCooldownMs: 1000,
      });
      expect((await verifier.verify(await idp.sign(k1))).userId).toBe('auth0|64f1c2');
      expect(idp.fetches).toBe(1);

      // Unknown kids within the cooldown: refused without hammering the identity provider.
      for (let i = 0; i < 5; i++)
        await expect(verifier.verify(await idp.sign(k1, {}, { kid: `nobody-${i}` }))).rejects.toThrow(/unknown signing key/);
      expect(idp.fetches).toBe(1);

      const k2 = await idp.newKey('k2', 'ES256');
      idp.publish(k2);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await verifier.verify(await idp.sign(k2, { sub: 'rotated' }))).userId).toBe('rotated');
      expect(idp.fetches).toBe(2);
      expect((await verifier.verify(await idp.sign(k1))).userId).toBe('auth0|64f1c2');
    } finally {
      await idp.close();
    }
  });
});

describe('the same key-set URL rule and lifetime cap embedded as from the environment', () => {
  const logger = createLogger('silent');
  it('refuses an http:// key set on another host unless jwksAllowHttp', () => {
    const options = { issuer: ISSUER, audience: AUDIENCE, logger };
    expect(() => createTokenVerifier({ ...options, jwksUrl: 'http://host-app:4000/jwks.json' })).toThrow(/AUTH_JWKS_ALLOW_HTTP/);
    expect(() => createTokenVerifier({ ...options, jwksUrl: 'http://host-app:4000/jwks.json', jwksAllowHttp: true })).not.toThrow();
    expect(() => createTokenVerifier({ ...options, jwksUrl: 'http://127.0.0.1:4000/jwks.json' })).not.toThrow();
  });

  it('a name claim with hidden or invisible characters is replaced by the user id (it is shown to others)', async () => {
    const verifier = createTokenVerifier({ jwtSecret: TEST_JWT_SECRET, logger });
    const sign = (name: string) => jwt.sign({ name }, TEST_JWT_SECRET, { subject: 'u1', expiresIn: 60, algorithm: 'HS256' });
    expect((await verifier.verify(sign('Ada'))).name).toBe('Ada');
    for (const name of ['\u202EnimdA', 'Ad\u200Fa', '\u0301\u0302', 'a\u0000b'])
      expect((await verifier.verify(sign(name))).name).toBe('u1');
  });

  it('refuses JWT_SECRET tokens valid for longer than maxTokenLifetimeSeconds', async () => {
    const verifier = createTokenVerifier({ jwtSecret: TEST_JWT_SECRET, maxTokenLifetimeSeconds: 3600, logger });
    const sign = (expiresIn: number) => jwt.sign({}, TEST_JWT_SECRET, { subject: 'u1', expiresIn, algorithm: 'HS256' });
    expect((await verifier.verify(sign(3600))).userId).toBe('u1');
    await expect(verifier.verify(sign(100 * 365 * 24 * 3600))).rejects.toThrow(/valid for longer than 3600 s/);
    const unlimited = createTokenVerifier({ jwtSecret: TEST_JWT_SECRET, logger });
    expect((await unlimited.verify(sign(100 * 365 * 24 * 3600))).userId).toBe('u1');
  });
});

describe('an identity-provider outage', () => {
  const code = (work: Promise<unknown>) =>
    work.then(
      () => 'accepted',
      (error: { code?: string }) => error.code ?? 'no code',
    );

  it('keeps checking tokens with the last key set fetched, and answers a retryable 503 where it cannot, never 401', async () => {
    const idp = await startIdentityProvider();
    try {
      const k1 = await idp.newKey('k1');
      idp.publish(k1);
      const options = { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE, logger: createLogger('silent') };
      const verifier = createTokenVerifier({ ...options, jwksCooldownMs: 100, jwksCacheMaxAgeMs: 200 });
      expect(await code(verifier.verify(await idp.sign(k1)))).toBe('accepted');

      for (const mode of [502, 'reset'] as const) {
        idp.fail(mode);
        // The cached key set is older than its maximum age: a refresh is tried, fails, and the last one serves.
        await new Promise((resolve) => setTimeout(resolve, 250));
        const fetchesBefore = idp.fetches;
        expect({ mode, outcome: await code(verifier.verify(await idp.sign(k1))) }).toEqual({ mode, outcome: 'accepted' });
        expect(idp.fetches).toBeGreaterThan(fetchesBefore);
        // A key the last key set does not have may have been rotated in during the outage: retry later.
        const rotated = await idp.newKey(`rotated-${mode}`);
        expect(await code(verifier.verify(await idp.sign(rotated)))).toBe('service_unavailable');
        // A bad signature is still refused as one.
        const forged = (await idp.sign(k1)).replace(/.{8}$/, 'AAAAAAAA');
        expect(await code(verifier.verify(forged))).toBe('invalid_token');
      }

      // Never fetched yet, and the provider is down: retry later, not signed out.
      const fresh = createTokenVerifier(options);
      expect(await code(fresh.verify(await idp.sign(k1)))).toBe('service_unavailable');

      idp.fail(null);
      expect(await code(fresh.verify(await idp.sign(k1)))).toBe('accepted');
    } finally {
      await idp.close();
    }
  });
});

describe('a public key instead of a JWKS (AUTH_PUBLIC_KEY)', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let idp: Provider;
  let es: SigningKey;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    es = await idp.newKey('any', 'ES256');
    redis = await startTestRedis();
    herald = await startTestHerald({
      mongodbUri: freshMongoUri(),
      redisUrl: redis.url,
      env: { AUTH_PUBLIC_KEY: await idp.publicPem(es), AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
  });
  afterAll(async () => {
    await herald?.close();
    await redis?.stop();
    await idp?.close();
  });

  it('accepts tokens signed by its private key with its own algorithm only', async () => {
    expect(await answer(herald, await idp.sign(es, { sub: 'User-A' }))).toEqual({ status: 200 });
    const other = await idp.newKey('any', 'ES256');
    expect(await answer(herald, await idp.sign(other))).toEqual(refused(/bad signature/));
    const rsa = await idp.newKey('any', 'RS256');
    expect(await answer(herald, await idp.sign(rsa))).toEqual(refused(/algorithm RS256 not accepted/));
    expect(await answer(herald, await idp.sign(es, { aud: 'elsewhere' }))).toEqual(refused(/wrong audience/));
  });

  it('is refused at start without an issuer and audience', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    await expect(
      startTestHerald({
        mongodbUri: freshMongoUri(),
        redisUrl: redis.url,
        env: { AUTH_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      }),
    ).rejects.toThrow(/AUTH_ISSUER and AUTH_AUDIENCE are required/);
  });
});

describe('HS256 tokens signed with JWT_SECRET', () => {
  const verifier = createTokenVerifier({ jwtSecret: TEST_JWT_SECRET, issuer: ISSUER, audience: AUDIENCE, logger: createLogger('silent') });
  // Read at each use: the file's other tests run first, for seconds.
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: object, secret = TEST_JWT_SECRET, algorithm: jwt.Algorithm = 'HS256') =>
    // Through JSON, so a claim given as undefined is left out.
    jwt.sign(
      JSON.parse(JSON.stringify({ sub: 'host-user-7', iss: ISSUER, aud: AUDIENCE, exp: now() + 300, name: 'Host', ...claims })),
      secret,
      {
        algorithm,
      },
    );
  const reason = (token: string) =>
    verifier.verify(token).then(
      () => 'accepted',
      (error: { code: string; message: string }) => `${error.code}: ${error.message}`,
    );

  it('are accepted with their identity and expiry', async () => {
    const exp = now() + 300;
    expect(await verifier.verify(sign({ exp }))).toEqual({ userId: 'host-user-7', name: 'Host', expiresAt: (exp + 5) * 1000 });
  });

  it('are refused, naming the check that failed, in the same words as other tokens', async () => {
    expect(await reason(sign({}, 'another-secret-of-enough-length-0123456789'))).toMatch(/^invalid_token: .*bad signature/);
    expect(await reason(sign({ iss: 'https://evil.example/' }))).toMatch(/^invalid_token: .*wrong issuer/);
    expect(await reason(sign({ aud: 'some-other-service' }))).toMatch(/^invalid_token: .*wrong audience/);
    expect(await reason(sign({ exp: undefined }))).toMatch(/^invalid_token: .*missing claim "exp"/);
    expect(await reason(sign({ iat: now() + 600 }))).toMatch(/^invalid_token: .*issued in the future/);
    expect(await reason(sign({ nbf: now() + 600 }))).toMatch(/^invalid_token: .*not valid yet/);
    expect(await reason(sign({ exp: now() - 30 }))).toMatch(/^token_expired: /);
    expect(await reason(sign({ sub: 'not a user id' }))).toMatch(/^invalid_token: .*"sub" is not a user id/);
    expect(await reason(sign({}, TEST_JWT_SECRET, 'HS512'))).toMatch(/^invalid_token: .*algorithm HS512 not accepted/);
    const [header, , signature] = sign({}).split('.');
    expect(await reason(`${header}.${Buffer.from('not json').toString('base64url')}.${signature}`)).toMatch(/^invalid_token: .*malformed/);
    // Within the clock tolerance (5 s) an expired token still passes, as with jose.
    expect(await reason(sign({ exp: now() - 1 }))).toBe('accepted');
  });
});
