// `npm run pack`: the three packages as npm would publish them, into .packs/ (or the directory given):
// what examples/host-app installs, and what `npm publish` would upload. Run `npm run build` first.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, '.packs'));
fs.mkdirSync(out, { recursive: true });
for (const name of ['shared', 'server', 'client']) {
  const built = { shared: 'dist/cjs/index.js', server: 'dist/index.js', client: 'dist/index.js' }[name];
  if (!fs.existsSync(path.join(root, name, built))) throw new Error(`${name} is not built: run npm run build first`);
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: path.join(root, name), encoding: 'utf8' }),
  );
  console.log(path.join(out, filename));
}
