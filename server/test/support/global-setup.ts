import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFerretDb, type LocalFerretDb } from '../../src/local-services/ferretdb';

declare global {
  var __heraldFerret: { db: LocalFerretDb; dir: string } | undefined;
}

/**
 * One throwaway FerretDB for the whole run (each test file uses its own
 * database in it), unless TEST_MONGODB_URI points at a MongoDB to use instead.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_MONGODB_URI) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-ferretdb-'));
  const db = await startFerretDb({ dataDir: dir });
  globalThis.__heraldFerret = { db, dir };
  process.env.TEST_MONGODB_URI = db.url;
}
