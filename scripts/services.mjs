// `npm run services`: only the local Redis and FerretDB, for several gateway instances to share.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

process.argv.push('--services-only');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await import(path.join(root, 'scripts/start.mjs'));
