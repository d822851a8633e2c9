// `npm start`: build once if there is no build yet, then run the gateway (see server/src/cli/start.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builds = ['shared/dist/cjs/index.js', 'server/dist/cli/start.js', 'client/demo-dist/index.html'];
const missing = builds.filter((file) => !existsSync(path.join(root, file)));
if (missing.length > 0) {
  console.log(`No build yet (${missing.join(', ')}): running npm run build first.`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
await import(path.join(root, 'server/dist/cli/start.js'));
