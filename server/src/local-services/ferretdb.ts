import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './free-port';
import { startProcess, waitUntilReady, type ManagedProcess } from './managed-process';

/** The FerretDB release this project is built and tested against. */
export const FERRETDB_VERSION = 'v1.24.2';

export interface LocalFerretDb {
  /** A mongodb:// URL without a database name; append one. */
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface LocalFerretDbOptions {
  /** Where the SQLite files live; keep it to keep the data. */
  dataDir: string;
  /** @default a free port */
  port?: number;
  /** @default 20000 */
  startTimeoutMs?: number;
  /** host:port for FerretDB's own metrics (`/debug/metrics`: requests and time per command and collection). @default none */
  debugAddr?: string;
}

export function goBinDir(): string {
  if (process.env.GOBIN) return process.env.GOBIN;
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    if (gopath) return path.join(gopath.split(path.delimiter)[0] ?? gopath, 'bin');
  } catch {
    // no Go toolchain: fall back to its default location
  }
  return path.join(os.homedir(), 'go', 'bin');
}

export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Where the FerretDB binary is: FERRETDB_BIN, then the build `npm run setup` makes (ferretdb-herald,
 * in Go's bin directory or on PATH; it carries small fixes, see scripts/setup.mjs: queries on _id or
 * on an index's first field read through the index, SQLite filters, counts and orders what it can,
 * and conditional writes to one document are atomic, as on MongoDB), then a stock ferretdb, which
 * works but reads the whole collection on every query.
 */
export function findFerretDb(): string | undefined {
  const bin = goBinDir();
  const candidates = [
    process.env.FERRETDB_BIN,
    path.join(bin, 'ferretdb-herald'),
    onPath('ferretdb-herald'),
    onPath('ferretdb'),
    path.join(bin, 'ferretdb'),
  ];
  return candidates.find((candidate): candidate is string => !!candidate && fs.existsSync(candidate));
}

/** Starts FerretDB (SQLite backend) on loopback, with no debug port and no telemetry, and waits for it. */
export async function startFerretDb(options: LocalFerretDbOptions): Promise<LocalFerretDb> {
  const bin = findFerretDb();
  if (!bin) throw new Error('ferretdb is not installed: run `npm run setup` (or set MONGODB_URI to use another MongoDB)');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const dir = path.resolve(options.dataDir);
  const proc = startProcess(bin, [
    '--handler=sqlite',
    // WAL with synchronous=NORMAL: a commit is durable once the WAL is synced at checkpoint, not fsynced one by
    // one. A power loss can lose the last commits, as MongoDB's default write concern can lose the last 100 ms of
    // its journal; a crash of FerretDB itself loses nothing. Without it every write waits for its own fsync.
    `--sqlite-url=file:${dir}/?_pragma=synchronous(normal)`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dir}`,
    `--debug-addr=${options.debugAddr ?? '-'}`,
    '--telemetry=disable',
    '--log-level=warn',
  ]);
  await waitUntilReady(proc, 'ferretdb', waitForPort(port, options.startTimeoutMs ?? 20_000));
  return { url: `mongodb://127.0.0.1:${port}/`, port, process: proc, stop: () => proc.stop() };
}
