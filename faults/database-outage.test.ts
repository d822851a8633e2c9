import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFerretDb, type LocalFerretDb } from '../server/src/local-services/ferretdb';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { closeAllSockets, connect, recordNotifications } from '../server/test/support/sockets';
import { login, postNotification, type LoggedIn } from '../server/test/support/http';
import { waitFor } from '../server/test/support/wait';
import { startTestHerald } from '../server/test/support/herald';
import { startTestRedis } from '../server/test/support/services';

describe('when the database is unreachable', () => {
  let dir: string;
  let ferret: LocalFerretDb;
  let redis: LocalRedis;
  let herald: RunningHerald;
  let bob: LoggedIn;

  beforeAll(async () => {
    // Its own FerretDB, because this test stops it.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-outage-'));
    ferret = await startFerretDb({ dataDir: dir });
    redis = await startTestRedis();
    herald = await startTestHerald({ mongodbUri: `${ferret.url}outage`, redisUrl: redis.url });
    bob = await login(herald.url, 'bob');
  });

  afterAll(async () => {
    closeAllSockets();
    await herald?.close();
    await redis?.stop();
    await ferret?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publish answers 503 database_unavailable quickly, pushes nothing, and works again once the database is back', async () => {
    const socket = await connect(herald.url, bob.token);
    const received = recordNotifications(socket);
    const port = ferret.port;

    ferret.process.kill('SIGKILL');
    await ferret.process.exited;

    const started = Date.now();
    const res = await postNotification(herald.url, { userIds: [bob.user.id], type: 'comment.created', title: 'lost?' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('database_unavailable');
    expect(res.body.error.message).toMatch(/nothing was sent/i);
    expect(Date.now() - started).toBeLessThan(10_000);

    await expect(herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'a.b', title: 'lost too?' })).rejects.toMatchObject({
      code: 'database_unavailable',
      status: 503,
    });

    const ready = await fetch(`${herald.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.mongodb).toBe('unavailable');

    ferret = await startFerretDb({ dataDir: dir, port });
    await waitFor(
      async () => {
        const res2 = await postNotification(herald.url, { userIds: [bob.user.id], type: 'comment.created', title: 'after recovery' });
        expect(res2.status).toBe(201);
      },
      20_000,
      250,
    );

    await waitFor(() => expect(received.length).toBeGreaterThanOrEqual(1));
    expect(received.every((n) => n.title === 'after recovery')).toBe(true);
    const sync = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(sync.data?.notifications.map((n) => n.title).every((t) => t === 'after recovery')).toBe(true);
  });
});
