import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type LocalRedis } from '../../src/local-services/redis-server';
import { waitFor } from './wait';

const run = promisify(execFile);

export interface LocalRedisCluster {
  /** Comma-separated node URLs, as REDIS_URL takes them. */
  url: string;
  nodes: LocalRedis[];
  stop(): Promise<void>;
}

/** A throwaway Redis Cluster of `masters` nodes (no replicas) on loopback. */
export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dirs = Array.from({ length: masters }, () => fs.mkdtempSync(path.join(os.tmpdir(), 'herald-cluster-')));
  const nodes = await Promise.all(
    dirs.map((dir) =>
      startRedisServer({
        dataDir: dir,
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000'],
      }),
    ),
  );
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const probe = new Redis(nodes[0]!.url);
    try {
      await waitFor(async () => expect(await probe.call('CLUSTER', 'INFO')).toMatch(/cluster_state:ok/), 20_000, 100);
    } finally {
      probe.disconnect();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: nodes.map((n) => n.url).join(','), nodes, stop };
}
