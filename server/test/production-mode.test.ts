import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { configProblems as problems } from './support/config';
import type { RunningHerald } from '../src/main';
import type { LocalRedis } from '../src/local-services/redis-server';
import { openInspector } from './support/database';
import { startTestHerald } from './support/herald';
import { freshMongoUri, startTestRedis } from './support/services';

const strong = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/herald',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'Kq8vN2xR7pL4mT9wZ3cY6bH1jF5dS0aG',
  SERVICE_TOKEN: 'srv_4f9K2mQ8xT1vR7pL3nB6cW0z',
  NODE_ENV: 'production',
};

describe('production mode', () => {
  it('turns the demo off unless DEMO=true, and on elsewhere', () => {
    expect(loadConfig(strong).demo).toBe(false);
    expect(loadConfig({ ...strong, DEMO: 'true' }).demo).toBe(true);
    expect(loadConfig({ ...strong, NODE_ENV: 'development' }).demo).toBe(true);
    expect(loadConfig({ ...strong, NODE_ENV: 'development', DEMO: 'false' }).demo).toBe(false);
  });

  it.each([
    ['JWT_SECRET', 'x'.repeat(40)],
    ['SERVICE_TOKEN', 'ab'.repeat(20)],
    ['METRICS_TOKEN', 'change-me-change-me-change-me'],
  ])('refuses a weak %s and says which', (name, value) => {
    expect(problems({ ...strong, [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name} .*random secret`))]);
    expect(problems({ ...strong, NODE_ENV: 'development', [name]: value })).toEqual([]);
  });

  it('needs a way to check tokens, and JWT_SECRET for the demo', () => {
    const { JWT_SECRET: _unused, ...noSecret } = strong;
    expect(problems(noSecret)).toEqual([expect.stringMatching(/^JWT_SECRET is required .*AUTH_JWKS_URL/)]);
    expect(problems({ ...noSecret, AUTH_JWKS_URL: 'http://10.0.0.1/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' })).toEqual([
      expect.stringMatching(/^AUTH_JWKS_URL must be https/),
    ]);
    const idp = { ...noSecret, AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' };
    expect(problems(idp)).toEqual([]);
    expect(problems({ ...idp, DEMO: 'true' })).toEqual([expect.stringMatching(/^JWT_SECRET is required with the demo on/)]);
  });

  describe('a production gateway', () => {
    let redis: LocalRedis;
    let herald: RunningHerald;
    let mongodbUri: string;
    const clientBuild = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-client-'));
    fs.writeFileSync(path.join(clientBuild, 'index.html'), '<!doctype html><title>demo</title>');
    const metricsToken = 'mtr_9Qx2Lp7Vn4Kc8Rz1Tw6Yb3Hm';

    beforeAll(async () => {
      redis = await startTestRedis();
      mongodbUri = freshMongoUri();
      herald = await startTestHerald({
        mongodbUri,
        redisUrl: redis.url,
        env: { NODE_ENV: 'production', JWT_SECRET: strong.JWT_SECRET, SERVICE_TOKEN: strong.SERVICE_TOKEN, METRICS_TOKEN: metricsToken },
        options: { clientDir: clientBuild },
      });
    });
    afterAll(async () => {
      await herald?.close();
      await redis?.stop();
    });

    it('has no demo: no sign-in, no users, no posts, and no demo collection or user in the database', async () => {
      for (const [method, path] of [
        ['POST', '/api/auth/login'],
        ['GET', '/api/users'],
        ['GET', '/api/posts'],
        ['POST', '/api/posts'],
      ]) {
        const res = await fetch(`${herald.url}${path}`, {
          method,
          headers: { 'Content-Type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify({ username: 'alice' }) } : {}),
        });
        expect([path, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([path, 404, 'not_found']);
      }
      const inspector = await openInspector(mongodbUri);
      try {
        const collections = (await inspector.db!.listCollections().toArray()).map((c) => c.name);
        expect(collections).not.toEqual(expect.arrayContaining(['users']));
        expect(collections.filter((name) => ['users', 'posts', 'comments'].includes(name))).toEqual([]);
      } finally {
        await inspector.close();
      }
    });

    it('does not serve the demo UI', async () => {
      const res = await fetch(`${herald.url}/`, { headers: { Accept: 'text/html' } });
      expect(res.status).toBe(404);
    });

    it('serves /metrics and the admin stats only with METRICS_TOKEN', async () => {
      expect((await fetch(`${herald.url}/metrics`)).status).toBe(401);
      const scraped = await fetch(`${herald.url}/metrics`, { headers: { Authorization: `Bearer ${metricsToken}` } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^herald_connected_sockets /m);
      expect((await fetch(`${herald.url}/api/admin/stats`)).status).toBe(401);
      const stats = await fetch(`${herald.url}/api/admin/stats`, { headers: { Authorization: `Bearer ${metricsToken}` } });
      expect(stats.status).toBe(200);
    });
  });

  it('without METRICS_TOKEN, a production gateway has no /metrics at all', async () => {
    const redis = await startTestRedis();
    const herald = await startTestHerald({
      mongodbUri: freshMongoUri(),
      redisUrl: redis.url,
      env: { NODE_ENV: 'production', JWT_SECRET: strong.JWT_SECRET, SERVICE_TOKEN: strong.SERVICE_TOKEN },
    });
    try {
      expect((await fetch(`${herald.url}/metrics`)).status).toBe(404);
    } finally {
      await herald.close();
      await redis.stop();
    }
  });
});

describe('Herald’s data stays Herald’s', () => {
  it('refuses to start on a database whose users collection belongs to another app', async () => {
    const redis = await startTestRedis();
    const mongodbUri = freshMongoUri();
    const inspector = await openInspector(mongodbUri);
    try {
      await inspector.collection('users').insertOne({ username: 'host-user', email: 'h@example.com' });
      await expect(startTestHerald({ mongodbUri, redisUrl: redis.url })).rejects.toThrow(/users collection of another app/);
      expect((await inspector.db!.listCollections().toArray()).map((c) => c.name)).toEqual(['users']);
    } finally {
      await inspector.close();
      await redis.stop();
    }
  });
});
