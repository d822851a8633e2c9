import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose, { type Connection } from 'mongoose';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../../e2e/support/browser';
import { freePort } from '../../../server/src/local-services/free-port';
import type { LocalRedis } from '../../../server/src/local-services/redis-server';
import { freshMongoUri, startTestRedis } from '../../../server/test/support/services';
import { waitFor } from '../../../server/test/support/wait';

/**
 * The example host app as a new user would get it: the three packages packed as npm would publish
 * them, installed from those tarballs into a copy of the app outside this repository, the frontend
 * built with the Vite React-TS template's own settings (TypeScript 7, `tsc -b && vite build`), the
 * backend started against real MongoDB-wire and Redis servers, and two users' pages open in chromium.
 */
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLE = path.resolve(__dirname, '..');
const JWT_SECRET = 'host-app-example-secret-0123456789abcdef';

/** Copies the example without what a checkout would not have, and points it at the tarballs. */
function copyExample(to: string, tarballs: string[]): void {
  fs.cpSync(EXAMPLE, to, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist|test)$/.test(source),
  });
  const manifestPath = path.join(to, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
  for (const tarball of tarballs) {
    const name = `@herald/${/herald-(\w+)-\d/.exec(path.basename(tarball))![1]}`;
    expect(manifest.dependencies[name]).toBeDefined();
    manifest.dependencies[name] = `file:${tarball}`;
  }
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}

async function login(baseUrl: string, email: string, password: string): Promise<{ token: string; user: { id: string } }> {
  const response = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { token: string; user: { id: string } };
}

async function signInPage(browser: Browser, baseUrl: string, email: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(baseUrl);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.getByTestId('connection-state').getByText('Live').waitFor({ timeout: 15_000 });
  return page;
}

describe('examples/host-app: Herald added to an existing MERN app, from the packed packages', () => {
  let dir: string;
  let redis: LocalRedis;
  let mongodbUri: string;
  let inspector: Connection;
  let host: ChildProcess | undefined;
  let hostLog = '';
  let baseUrl: string;
  let browser: Browser;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-host-app-'));
    const { stdout } = await run('node', [path.join(ROOT, 'scripts/pack.mjs'), path.join(dir, 'packs')], { cwd: ROOT });
    const tarballs = stdout.trim().split('\n');
    expect(tarballs).toHaveLength(3);
    const app = path.join(dir, 'app');
    copyExample(app, tarballs);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, timeout: 300_000 });
    await run('npm', ['run', 'build'], { cwd: app, timeout: 120_000 });

    redis = await startTestRedis();
    mongodbUri = freshMongoUri();
    inspector = await mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = { ...process.env, PORT: String(port), MONGODB_URI: mongodbUri, REDIS_URL: redis.url, JWT_SECRET, NODE_ENV: 'production' };
    host = spawn('node', ['server/index.js'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    host.stdout!.on('data', (chunk: Buffer) => (hostLog += chunk.toString()));
    host.stderr!.on('data', (chunk: Buffer) => (hostLog += chunk.toString()));
    await waitFor(
      async () => {
        if (host!.exitCode !== null) throw new Error(`the host app exited:\n${hostLog}`);
        const health = await fetch(`${baseUrl}/healthz`).catch(() => undefined);
        expect(health?.status).toBe(200);
      },
      30_000,
      200,
    );
    browser = await launchBrowser();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (host && host.exitCode === null) {
      const exited = new Promise((resolve) => host!.once('exit', resolve));
      host.kill('SIGTERM');
      await exited;
    }
    await inspector?.close();
    await redis?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows a notification the host backend publishes live, counts it, and shows nothing to another user', async () => {
    const alicePage = await signInPage(browser, baseUrl, 'alice@example.com', 'alice-password');
    const carolPage = await signInPage(browser, baseUrl, 'carol@example.com', 'carol-password');

    // Bob comments on Alice's post through the host's own API; its route publishes.
    const bob = await login(baseUrl, 'bob@example.com', 'bob-password');
    const { posts } = (await (await fetch(`${baseUrl}/api/posts`, { headers: { authorization: `Bearer ${bob.token}` } })).json()) as {
      posts: { id: string; authorId: string }[];
    };
    const post = posts.find((p) => p.authorId === 'u_alice')!;
    const created = await fetch(`${baseUrl}/api/posts/${post.id}/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ text: 'Nice post!' }),
    });
    expect(created.status).toBe(201);

    await alicePage.getByTestId('toast').getByText('Bob commented on “Hello from Alice”').waitFor({ timeout: 10_000 });
    await expect(alicePage.getByTestId('unread-badge').textContent()).resolves.toBe('1');
    await alicePage.getByTestId('bell').click();
    await expect(alicePage.getByTestId('notification-item').count()).resolves.toBe(1);

    // Carol's page got nothing: no badge, no toast, an empty feed (from the server, not just the socket).
    await carolPage.getByTestId('bell').click();
    await carolPage.getByText('You are all caught up.').waitFor({ timeout: 5000 });
    await expect(carolPage.getByTestId('unread-badge').count()).resolves.toBe(0);
    await expect(carolPage.getByTestId('toast').count()).resolves.toBe(0);

    // Stored once, for Alice only, in Herald's own collection beside the host's.
    const stored = await inspector.db!.collection('herald_notifications').find({}).toArray();
    expect(stored.map((n) => [n.userId, n.type, n.seq])).toEqual([['u_alice', 'comment.created', 1]]);
    expect(await inspector.db!.collection('users').countDocuments()).toBe(3);
  });

  it('keeps the host page’s CSS (the Vite template’s centred #root, 18px font) out of the component', async () => {
    const page = await signInPage(browser, baseUrl, 'alice@example.com', 'alice-password');
    await page.getByTestId('bell').click();
    // The panel fills once its first page arrives: measure then, not before.
    await page.locator('.hr-item-text').first().waitFor({ timeout: 10_000 });
    const styles = await page.evaluate(() => {
      const style = (selector: string) => getComputedStyle(document.querySelector(selector)!);
      return {
        hostRoot: style('#root').textAlign,
        hostFont: style('#root').fontSize,
        component: { textAlign: style('.hr-root').textAlign, fontSize: style('.hr-root').fontSize },
        title: { textAlign: style('.hr-panel-title').textAlign, fontSize: style('.hr-panel-title').fontSize },
        itemText: style('.hr-item-text').textAlign,
      };
    });
    // The host's rules are really there (else this test would prove nothing)…
    expect(styles.hostRoot).toBe('center');
    expect(styles.hostFont).toBe('18px');
    // …and stop at the component.
    expect(styles.component).toEqual({ textAlign: 'start', fontSize: '14px' });
    expect(styles.title).toEqual({ textAlign: 'start', fontSize: '15px' });
    // (Start, not left: under dir="rtl" it is the right.)
    expect(styles.itemText).toBe('start');
  });

  it('lets another service publish with createHeraldPublisher alone: CommonJS, no Express or Socket.IO loaded', async () => {
    const page = await signInPage(browser, baseUrl, 'alice@example.com', 'alice-password');
    const script = `
      const { createHeraldPublisher } = require('@herald/server');
      (async () => {
        const herald = await createHeraldPublisher({ mongodbUri: process.env.MONGODB_URI, redisUrl: process.env.REDIS_URL, collectionPrefix: 'herald_' });
        await herald.publishNotification({ userIds: ['u_alice'], type: 'order.shipped', title: 'Your order shipped' }, { idempotencyKey: 'order-1-shipped' });
        const loaded = Object.keys(require.cache).filter((file) => /node_modules[\\\\/](express|socket\\.io|engine\\.io)[\\\\/]/.test(file));
        await herald.close();
        console.log(JSON.stringify({ loaded }));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const { stdout } = await run('node', ['--input-type=commonjs', '-e', script], { cwd: path.join(dir, 'app'), env, timeout: 30_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ loaded: [] });
    await page.getByTestId('toast').getByText('Your order shipped').waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('unread-badge').textContent()).resolves.toBe('2');
  });

  it('imports the client in Node for server-side rendering, and its core without React', async () => {
    const script = `
      import { renderToString } from 'react-dom/server';
      import { createElement } from 'react';
      import { NotificationComponent, NotificationProvider } from '@herald/client';
      import { FeedClient, createFeedApi } from '@herald/client/core';
      const html = renderToString(createElement(NotificationProvider, { token: 't', userId: 'u_alice', apiPath: '/herald' }, createElement(NotificationComponent)));
      console.log(JSON.stringify({ html, core: [typeof FeedClient, typeof createFeedApi] }));`;
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: path.join(dir, 'app'), timeout: 30_000 });
    const out = JSON.parse(stdout) as { html: string; core: string[] };
    expect(out.html).toContain('class="hr-root"');
    expect(out.core).toEqual(['function', 'function']);
    // Every module the core entry loads, followed through its relative imports: none imports React.
    const dist = path.join(dir, 'app/node_modules/@herald/client/dist');
    const seen = new Set<string>();
    const imports: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, specifier] of fs.readFileSync(path.join(dist, file), 'utf8').matchAll(/from ["']([^"']+)["']/g)) {
        if (specifier!.startsWith('./')) visit(specifier!.slice(2));
        else imports.push(specifier!);
      }
    };
    visit('core.js');
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((specifier) => /^react/.test(specifier))).toEqual([]);
  });

  it('runs the gateway on its own with `npx herald`: production mode, no demo in the package', async () => {
    const app = path.join(dir, 'app');
    const port = await freePort();
    const gatewayEnv = {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      MONGODB_URI: freshMongoUri(),
      REDIS_URL: redis.url,
      // Production refuses placeholder-looking secrets: real random ones.
      JWT_SECRET: randomBytes(32).toString('base64url'),
      SERVICE_TOKEN: randomBytes(32).toString('base64url'),
      MONGODB_COLLECTION_PREFIX: 'herald_',
    };
    // The demo is not in the package: asking for it is refused at start, with the reason.
    const herald = path.join(app, 'node_modules/.bin/herald');
    const refused = await run(herald, [], { cwd: app, env: { ...gatewayEnv, DEMO: 'true' }, timeout: 30_000 }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/not of the @herald\/server package: set DEMO=false/) });

    const gateway = spawn(herald, [], { cwd: app, env: gatewayEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    gateway.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    gateway.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          if (gateway.exitCode !== null) throw new Error(`herald exited:\n${output}`);
          expect((await fetch(`${url}/readyz`).catch(() => undefined))?.status).toBe(200);
        },
        30_000,
        200,
      );
      const published = await fetch(`${url}/api/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayEnv.SERVICE_TOKEN}` },
        body: JSON.stringify({ userIds: ['u_alice'], type: 'welcome', title: 'Welcome' }),
      });
      expect(published.status).toBe(201);
      expect((await fetch(`${url}/api/auth/login`, { method: 'POST' })).status).toBe(404);
      // Production: /metrics is not public without a METRICS_TOKEN.
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
    } finally {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    expect(gateway.exitCode).toBe(0);
  });
});
