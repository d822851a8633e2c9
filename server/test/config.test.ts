import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { configProblems } from './support/config';

const good = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/herald',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'j'.repeat(32),
  SERVICE_TOKEN: 's'.repeat(24),
};

function problems(env: Record<string, string>): string[] {
  const found = configProblems(env);
  if (found.length === 0) throw new Error('config was accepted');
  return found;
}

describe('configuration is validated once at start', () => {
  it('applies defaults', () => {
    const config = loadConfig(good);
    expect(config.port).toBe(3000);
    expect(config.corsOrigins).toEqual([]);
    expect(config.jwtTtlSeconds).toBe(43200);
  });

  it('names every missing variable', () => {
    const found = problems({});
    for (const name of ['MONGODB_URI', 'REDIS_URL', 'JWT_SECRET', 'SERVICE_TOKEN']) {
      expect(found.some((p) => p.startsWith(`${name} `))).toBe(true);
    }
  });

  it.each([
    ['PORT', 'http', /port number/],
    ['PORT', '70000', /port number/],
    ['MONGODB_URI', 'localhost:27017', /mongodb:\/\//],
    ['REDIS_URL', 'http://x', /redis:\/\//],
    ['JWT_SECRET', 'short', /32/],
    ['SERVICE_TOKEN', 'short', /24/],
    ['CORS_ORIGINS', 'http://ok.example, not an origin', /origins/],
    ['LOG_LEVEL', 'loud', /.+/],
    ['ROUTING_MODE', 'everyone', /per-user or broadcast/],
    ['HTTP_REQUEST_TIMEOUT_SECONDS', '0', /.+/],
    ['RATE_LIMIT_USER_EVENTS', 'fast', /<points>\/<seconds>s/],
    ['RATE_LIMIT_IP_HANDSHAKES', '0/60s', /<points>\/<seconds>s/],
    ['TRUST_PROXY', 'my-proxy', /addresses, subnets/],
    ['HTTP_HEADERS_TIMEOUT_SECONDS', '40', /not be more than HTTP_REQUEST_TIMEOUT_SECONDS/],
  ])('%s=%s is refused with a message naming it', (name, value, message) => {
    const found = problems({ ...good, [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name} `));
    expect(found[0]).toMatch(message);
  });

  it('reports every problem in one pass, those of single variables and those across them alike', () => {
    const found = problems({
      ...good,
      PORT: 'http',
      HTTP_HEADERS_TIMEOUT_SECONDS: '40',
      AUTH_JWKS_URL: 'http://keys.internal:4000/jwks.json',
      AUTH_PUBLIC_KEY_FILE: '/nonexistent/key.pem',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT /),
        expect.stringMatching(/^HTTP_HEADERS_TIMEOUT_SECONDS must not be more/),
        expect.stringMatching(/^AUTH_JWKS_URL must be https:\/\/ .*AUTH_JWKS_ALLOW_HTTP=true/),
        expect.stringMatching(/^AUTH_PUBLIC_KEY_FILE cannot be read/),
        expect.stringMatching(/^AUTH_ISSUER and AUTH_AUDIENCE are required/),
      ]),
    );
  });

  it('AUTH_JWKS_URL over http:// to a host that is not loopback only with AUTH_JWKS_ALLOW_HTTP=true', () => {
    const withIssuer = { ...good, AUTH_ISSUER: 'https://id.example/', AUTH_AUDIENCE: 'herald' };
    expect(loadConfig({ ...withIssuer, AUTH_JWKS_URL: 'http://127.0.0.1:4000/jwks.json' }).auth.jwksUrl).toBe(
      'http://127.0.0.1:4000/jwks.json',
    );
    expect(problems({ ...withIssuer, AUTH_JWKS_URL: 'http://host-app:4000/jwks.json' })).toEqual([
      expect.stringMatching(/^AUTH_JWKS_URL .*AUTH_JWKS_ALLOW_HTTP=true/),
    ]);
    const allowed = loadConfig({ ...withIssuer, AUTH_JWKS_URL: 'http://host-app:4000/jwks.json', AUTH_JWKS_ALLOW_HTTP: 'true' });
    expect(allowed.auth).toMatchObject({ jwksUrl: 'http://host-app:4000/jwks.json', jwksAllowHttp: true });
    expect(problems({ ...withIssuer, AUTH_JWKS_URL: 'ftp://host-app/jwks.json', AUTH_JWKS_ALLOW_HTTP: 'true' })).toEqual([
      expect.stringMatching(/^AUTH_JWKS_URL must be an https:\/\/ URL/),
    ]);
  });

  it('AUTH_MAX_TOKEN_LIFETIME_SECONDS: optional, at least a minute', () => {
    expect(loadConfig(good).auth.maxTokenLifetimeSeconds).toBeUndefined();
    expect(loadConfig({ ...good, AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' }).auth.maxTokenLifetimeSeconds).toBe(3600);
    expect(problems({ ...good, AUTH_MAX_TOKEN_LIFETIME_SECONDS: '5' })).toEqual([
      expect.stringMatching(/^AUTH_MAX_TOKEN_LIFETIME_SECONDS /),
    ]);
  });

  it('rate limits: defaults, <points>/<seconds>s, or off', () => {
    const rates = loadConfig({ ...good, RATE_LIMIT_USER_EVENTS: '50/10s', RATE_LIMIT_IP_HANDSHAKES: 'off' }).limits.rates;
    expect(rates.userEvents).toEqual({ points: 50, seconds: 10 });
    expect(rates.ipHandshakes).toBe(false);
    expect(rates.userRequests).toEqual({ points: 300, seconds: 60 });
  });

  it('ROUTING_MODE=broadcast is refused on a Redis Cluster (sharded pub/sub has no patterns)', () => {
    expect(loadConfig({ ...good, ROUTING_MODE: 'broadcast' }).routing).toBe('broadcast');
    const found = problems({ ...good, ROUTING_MODE: 'broadcast', REDIS_URL: 'redis://10.0.0.1:6379,redis://10.0.0.2:6379' });
    expect(found).toEqual([expect.stringMatching(/^ROUTING_MODE .*single Redis/)]);
  });

  it('npm start with a bad variable prints one clear message and exits 1', () => {
    const root = path.resolve(__dirname, '../..');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/cli/start.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...good, JWT_SECRET: 'too-short' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('JWT_SECRET must be at least 32 characters');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
