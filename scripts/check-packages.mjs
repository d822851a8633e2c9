// `npm run check:packages`: packs the three packages and lints them as a consumer would meet them:
// publint (entry points, files, exports) and Are the Types Wrong (types resolve, ESM/CJS as declared).
// @herald/shared and @herald/server load with require and import; @herald/client is ES modules only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-packs-'));
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });

try {
  const tarballs = execFileSync('node', [path.join(root, 'scripts/pack.mjs'), out], { encoding: 'utf8' })
    .trim()
    .split('\n');
  for (const tarball of tarballs) {
    const esmOnly = path.basename(tarball).startsWith('herald-client-');
    run(bin('publint'), ['--strict', tarball]);
    // node10 (TypeScript's moduleResolution "node") predates "exports"; the stylesheet has no types to find.
    run(bin('attw'), [
      tarball,
      '--profile',
      esmOnly ? 'esm-only' : 'node16',
      ...(esmOnly ? ['--exclude-entrypoints', 'style.css', 'herald-sw.js'] : []),
    ]);
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
