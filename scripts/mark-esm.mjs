// Marks a build directory as ES modules (`{"type":"module"}`), so Node and TypeScript read the .js and
// .d.ts files in it as ESM while the package's other build stays CommonJS. Used by `npm run build`.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/mark-esm.mjs <dir>');
fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
