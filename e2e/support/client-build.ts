import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Builds the client into a temporary directory, so browser tests always run the current source. */
export function buildClient(): string {
  const root = path.resolve(__dirname, '../..');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-client-'));
  const result = spawnSync(
    path.join(root, 'node_modules/.bin/vite'),
    ['build', '--config', 'client/vite.config.ts', '--outDir', outDir, '--emptyOutDir', 'client'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`client build failed:\n${result.stdout}\n${result.stderr}`);
  return outDir;
}
