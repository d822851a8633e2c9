import fs from 'node:fs';
import { freePort, waitForPort } from './free-port';
import { startProcess, waitUntilReady, type ManagedProcess } from './managed-process';

export interface LocalRedis {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  /** @default a free port */
  port?: number;
  /** Keep data (append-only file) in this directory; without it nothing is written to disk. */
  dataDir?: string;
  /** @default 10000 */
  startTimeoutMs?: number;
  /** More redis-server arguments, e.g. cluster mode. */
  extraArgs?: string[];
}

/** The redis-server binary: REDIS_SERVER_BIN, else the one on PATH. */
export function redisServerBin(): string {
  return process.env.REDIS_SERVER_BIN ?? 'redis-server';
}

/** Starts a redis-server bound to loopback and waits until it accepts connections. */
export async function startRedisServer(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--protected-mode', 'yes'];
  if (options.dataDir) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    args.push('--dir', options.dataDir, '--appendonly', 'yes', '--save', '');
  } else {
    args.push('--save', '', '--appendonly', 'no');
  }
  args.push(...(options.extraArgs ?? []));
  const proc = startProcess(redisServerBin(), args);
  await waitUntilReady(proc, 'redis-server', waitForPort(port, options.startTimeoutMs ?? 10_000));
  return { url: `redis://127.0.0.1:${port}`, port, process: proc, stop: () => proc.stop() };
}
