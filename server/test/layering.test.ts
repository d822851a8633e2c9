import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../src');

/**
 * The floors of the server, lowest first. A file may import its own floor and
 * the ones below, never above; route files are edges wherever they live; the demo is on top.
 */
const isRoutes = (f: string) => f.endsWith('-routes.ts') && !f.startsWith('demo/');

const FLOORS: [floor: string, test: (file: string) => boolean][] = [
  [
    'platform',
    (f) => /^(platform|local-services|security)\//.test(f) || ['config.ts', 'config-schema.ts', 'off-page-config.ts'].includes(f),
  ],
  ['channels', (f) => f.startsWith('channels/')],
  ['domain', (f) => /^(notifications|preferences|topics|events|storage|recipients|push|email)\//.test(f) && !isRoutes(f)],
  ['edges', (f) => /^(realtime|http|auth)\//.test(f) || isRoutes(f)],
  ['composition', () => true],
];

function floorOf(file: string): number {
  return FLOORS.findIndex(([, test]) => test(file));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

function localImports(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/(?:from |require\(|import\()'(\.{1,2}\/[^']+)'/g)].map(
    (m) => path.relative(SRC, path.resolve(SRC, path.dirname(file), m[1]!)) + '.ts',
  );
}

describe('the server is built in floors', () => {
  const files = sourceFiles(SRC);

  it('imports point down only: platform -> channels -> domain -> edges -> composition', () => {
    const upward = files.flatMap((file) =>
      localImports(file)
        .filter((target) => floorOf(target) > floorOf(file))
        .map((target) => `${file} (${FLOORS[floorOf(file)]![0]}) imports ${target} (${FLOORS[floorOf(target)]![0]})`),
    );
    expect(upward).toEqual([]);
  });

  it('nothing outside the demo imports it, except the composition root', () => {
    const intoDemo = files.filter(
      (file) => !file.startsWith('demo/') && file !== 'main.ts' && localImports(file).some((t) => t.startsWith('demo/')),
    );
    expect(intoDemo).toEqual([]);
  });
});
