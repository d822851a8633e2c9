// `npm run setup`: installs everything Herald needs on this machine and says what it did.
// Plain Node with no dependencies, because it runs before `npm ci`.
//
//   npm packages      npm ci, when node_modules is missing or older than package-lock.json
//   redis-server 7    Debian's package (apt-get), unless REDIS_URL is set
//   FerretDB v1.24.2  built from its Go module (with small fixes, see below) into Go's bin
//                     directory as ferretdb-herald, unless MONGODB_URI is set
//   Mailpit v1.33.1   go install, into Go's bin directory, unless SMTP_URL is set: `npm start` runs it
//                     in development so every email shows at http://localhost:8025
//   chromium          Debian's package, for the browser tests (skip with --no-browser)
//   .env              copied from .env.example with fresh secrets, if missing
//   build             npm run build
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const FERRETDB_VERSION = 'v1.24.2';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
/** What our build reports: upstream's version plus the marker of the fixes below. */
const FERRETDB_BUILD = `${FERRETDB_VERSION}-herald.6`;
const FERRETDB_BINARY = 'ferretdb-herald';
/**
 * Fixes to FerretDB 1.24's source:
 *
 * 1. Its SQLite backend creates its unique _id index on `_ferretdb_sjson->"_id"` but queries by
 *    `_ferretdb_sjson->'$._id'`. Both extract the same value, but SQLite only uses an index whose
 *    expression matches the query's, so every lookup by _id scanned the whole table (measured: 120 ms
 *    of CPU per lookup at 20,000 documents, 0.6 ms with the fix). The fix makes the queries use the
 *    index's own expression.
 * 2. An update, findAndModify or delete reads the matching documents, then writes them, without
 *    holding anything in between, so two conditional updates of one document both succeed (measured:
 *    two takeovers of the same pending document in 137 of 200 tries). MongoDB applies each to a
 *    document atomically, and Herald's claims and membership changes rely on that. The fix runs these
 *    read-then-write commands one at a time (SQLite runs one writer at a time anyway), releasing the
 *    lock even when a command panics (FerretDB recovers the panic and closes the connection).
 *    File: scripts/ferretdb/herald_write_lock.go.
 * 3. Upstream hands SQLite a filter only when it is exactly {_id: <string>}; every other query,
 *    update and count reads and decodes the whole collection, whatever its indexes (measured: 70 ms
 *    per sync at a few thousand notifications, and the database saturated by 200 clients). The fix
 *    hands SQLite the parts of the filter it can answer: _id equal to or $in a list of values, the
 *    first field of an index equal to or $in a list of strings (through that index), a field equal
 *    to null, a field compared with numbers, and $or of those. FerretDB still applies the whole
 *    filter to what comes back, as it does upstream. File: scripts/ferretdb/herald_pushdown.go.
 * 4. A count command decodes every document it counts. When the whole filter translates exactly
 *    (number ranges only where the field holds numbers, checked in SQL), SQLite counts instead
 *    (measured on a chaos-test database: a user's unread count 25-29 ms as one read, 4.2-4.5 ms as
 *    a count command).
 * 5. Every query iterator recorded its creator's stack for leak detection and got a finalizer that
 *    panics if it was never closed: about a seventh of a find's CPU. Turned off
 *    (scripts/ferretdb/herald_untracked.go); a find by _id went from 2.8 to 1.7 ms.
 * 6. A find sorted on one field with a limit reads and sorts every match in Go. When the filter
 *    translates exactly and the field holds only numbers, null or nothing in the matches (one SQL
 *    query checks), SQLite orders and limits instead: the newest notification of a user is one read.
 */
const FERRETDB_PATCHES = [
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    from: `IDColumn = DefaultColumn + "->'$._id'"`,
    to: `IDColumn = DefaultColumn + "->\\"_id\\""`,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: `\tmatched, modified, upserted, err := h.updateDocument(connCtx, params)\n`,
    to: `\tmatched, modified, upserted, err := h.heraldUpdateDocument(connCtx, params)\n`,
  },
  {
    file: 'internal/handler/msg_findandmodify.go',
    from: `\tres, err := h.findAndModifyDocument(connCtx, params)\n`,
    to: `\tres, err := h.heraldFindAndModifyDocument(connCtx, params)\n`,
  },
  {
    file: 'internal/handler/msg_delete.go',
    from: `\t\td, err = h.execDelete(connCtx, c, &p)\n`,
    to: `\t\td, err = h.heraldExecDelete(connCtx, c, &p)\n`,
  },
  // Query and Explain (twice each): ask heraldWhere first; upstream's _id-only pushdown is the fallback.
  {
    file: 'internal/backends/sqlite/collection.go',
    from: `\tif params.Filter.Len() == 1 {\n\t\tv, _ := params.Filter.Get("_id")\n`,
    to: `\twhereClause, args = heraldWhere(meta, params.Filter)\n\tif whereClause == "" && params.Filter.Len() == 1 {\n\t\tv, _ := params.Filter.Get("_id")\n`,
    times: 2,
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: `\torderByClause := prepareOrderByClause(params.Sort)\n\tsortPushdown := `,
    to: `\tfilterPushdown = whereClause != ""\n\n\torderByClause := prepareOrderByClause(params.Sort)\n\tsortPushdown := `,
  },
  // Counts: the count command offers the backend to count (HeraldCount); SQLite does when the filter translates exactly.
  {
    file: 'internal/backends/collection.go',
    from: `\tOnlyRecordIDs bool\n\tComment       string\n}\n`,
    to:
      `\tOnlyRecordIDs bool\n\tComment       string\n\n\t// HeraldCount, when set, lets the backend count the matching documents into it instead of\n\t// returning them; it sets -1 when it did not.\n\tHeraldCount *int64\n\n` +
      `\t// HeraldSort and HeraldLimit, when set, let the backend return only the first HeraldLimit\n\t// matches in that order (the handler still sorts and limits them).\n\tHeraldSort  *types.Document\n\tHeraldLimit int64\n}\n`,
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: `func (c *collection) Query(ctx context.Context, params *backends.QueryParams) (*backends.QueryResult, error) {\n`,
    to:
      `func (c *collection) Query(ctx context.Context, params *backends.QueryParams) (*backends.QueryResult, error) {\n\tif res, counted, err := c.heraldCount(ctx, params); counted {\n\t\treturn res, err\n\t}\n\n` +
      `\tif res, sorted, err := c.heraldSorted(ctx, params); sorted {\n\t\treturn res, err\n\t}\n\n`,
  },
  // Sorted finds with a limit: offered to the backend (HeraldSort); SQLite orders when the filter translates exactly.
  {
    file: 'internal/handler/msg_find.go',
    from: `\th.L.DebugContext(ctx, fmt.Sprintf("Converted %+v for %+v to %+v.", params, cInfo, qp))\n`,
    to:
      `\tif !h.DisablePushdown && params.Sort.Len() == 1 && params.Sort.Keys()[0] != "$natural" && params.Limit > 0 &&\n` +
      `\t\tqp.Filter.Len() == params.Filter.Len() && !cInfo.Capped() {\n\t\tqp.HeraldSort = params.Sort\n\t\tqp.HeraldLimit = params.Skip + params.Limit\n\t}\n\n` +
      `\th.L.DebugContext(ctx, fmt.Sprintf("Converted %+v for %+v to %+v.", params, cInfo, qp))\n`,
  },
  {
    file: 'internal/handler/msg_count.go',
    from: `\tqueryRes, err := c.Query(connCtx, &qp)\n\tif err != nil {\n\t\treturn nil, lazyerrors.Error(err)\n\t}\n`,
    to:
      `\theraldCounted := int64(-1)\n\tif params.Skip == 0 && params.Limit == 0 {\n\t\tqp.HeraldCount = &heraldCounted\n\t}\n\n` +
      `\tqueryRes, err := c.Query(connCtx, &qp)\n\tif err != nil {\n\t\treturn nil, lazyerrors.Error(err)\n\t}\n\n` +
      `\tif heraldCounted >= 0 {\n\t\tqueryRes.Iter.Close()\n\n` +
      `\t\treturn documentOpMsg(must.NotFail(types.NewDocument("n", int32(heraldCounted), "ok", float64(1))))\n\t}\n`,
  },
  // Leak tracking: every iterator recorded its creator's stack and a finalizer (a seventh of the CPU of a find).
  {
    file: 'internal/util/resource/resource.go',
    from: `func Track(obj any, token *Token) {\n`,
    to: `func Track(obj any, token *Token) {\n\tif heraldUntracked {\n\t\treturn\n\t}\n\n`,
  },
  {
    file: 'internal/util/resource/resource.go',
    from: `func Untrack(obj any, token *Token) {\n`,
    to: `func Untrack(obj any, token *Token) {\n\tif heraldUntracked {\n\t\treturn\n\t}\n\n`,
  },
];
/** Files added to FerretDB's source: [in this repository, in FerretDB's tree]. */
const FERRETDB_FILES = [
  ['scripts/ferretdb/herald_write_lock.go', 'internal/handler/herald_write_lock.go'],
  ['scripts/ferretdb/herald_pushdown.go', 'internal/backends/sqlite/herald_pushdown.go'],
  ['scripts/ferretdb/herald_untracked.go', 'internal/util/resource/herald_untracked.go'],
];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const done = [];

function say(message) {
  console.log(`\x1b[1m[setup]\x1b[0m ${message}`);
}

function fail(message) {
  console.error(`\x1b[31m[setup] ${message}\x1b[0m`);
  process.exit(1);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) fail(`\`${command} ${commandArgs.join(' ')}\` failed (exit ${result.status ?? result.signal}).`);
}

function output(command, commandArgs, options = {}) {
  try {
    return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();
  } catch {
    return undefined;
  }
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = output('sh', ['-c', 'command -v apt-get']) !== undefined;
let aptUpdated = false;

function aptInstall(packages, why) {
  if (!hasApt) fail(`${why}: install ${packages.join(', ')} with your package manager, then run npm run setup again.`);
  const sudo = isRoot ? [] : ['sudo'];
  if (!isRoot && output('sh', ['-c', 'command -v sudo']) === undefined)
    fail(`${why}: run as root, or install ${packages.join(', ')} yourself.`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    say('apt-get update');
    run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(isRoot ? [] : ['apt-get']), 'update', '-qq'], { env });
    aptUpdated = true;
  }
  say(`apt-get install ${packages.join(' ')} (${why})`);
  run(sudo[0] ?? 'apt-get', [...(isRoot ? [] : ['apt-get']), 'install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
}

// Environment as the app will see it: real variables win over .env.
const envFile = path.join(root, '.env');
const fileEnv = fs.existsSync(envFile) ? parseEnv(fs.readFileSync(envFile, 'utf8')) : {};
const envValue = (name) => process.env[name] || fileEnv[name] || '';

// 1. Node
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`Node.js ${process.versions.node} is too old: Herald needs 20.19 or newer.`);

// 2. npm packages
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  say('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  done.push('npm packages installed (npm ci)');
} else {
  done.push('npm packages already installed');
}

// 3. Redis
if (envValue('REDIS_URL')) {
  done.push(`Redis: using REDIS_URL, nothing installed`);
} else {
  const version = /v=(\d+)\./.exec(output(process.env.REDIS_SERVER_BIN || 'redis-server', ['--version']) ?? '');
  if (version && Number(version[1]) >= 7) {
    done.push(`redis-server ${version[1]}.x already installed`);
  } else {
    aptInstall(['redis-server'], version ? `redis-server ${version[1]} is older than 7` : 'redis-server is missing');
    // The Debian package starts a system service on 6379; Herald runs its own instances and does not need it.
    output('sh', ['-c', 'command -v systemctl >/dev/null && systemctl disable --now redis-server']);
    done.push('redis-server installed (apt-get)');
  }
}

// 4. FerretDB
function goBinDir() {
  const gobin = output('go', ['env', 'GOBIN']);
  if (gobin) return gobin;
  const gopath = output('go', ['env', 'GOPATH']);
  return path.join(gopath ? gopath.split(path.delimiter)[0] : path.join(os.homedir(), 'go'), 'bin');
}

function ferretCandidates() {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, FERRETDB_BINARY));
  return [process.env.FERRETDB_BIN, path.join(goBinDir(), FERRETDB_BINARY), ...onPath].filter((file) => file && fs.existsSync(file));
}

function ferretVersion(file) {
  return /version: (v[\w.-]+)/.exec(output(file, ['--version']) ?? '')?.[1];
}

function buildFerretDb() {
  if (!output('go', ['version']))
    fail('FerretDB is built from source with Go, and `go` is not installed. Install Go 1.22+ (or set MONGODB_URI).');
  const started = Date.now();
  // `go install …@version` builds it, but the module ships without build/version/version.txt and
  // FerretDB then panics at start; so copy the module source, add the version file its release
  // build generates, and build that. Only the Go module proxy is used.
  say(`building FerretDB ${FERRETDB_VERSION} with Go (about a minute and a half the first time)`);
  const info = JSON.parse(output('go', ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`]) ?? 'null');
  if (!info?.Dir) fail(`could not download ${FERRETDB_MODULE}@${FERRETDB_VERSION} from the Go module proxy`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-ferretdb-'));
  try {
    const src = path.join(work, 'src');
    fs.cpSync(info.Dir, src, { recursive: true });
    for (const entry of fs.readdirSync(src, { recursive: true })) {
      fs.chmodSync(path.join(src, entry), fs.statSync(path.join(src, entry)).isDirectory() ? 0o755 : 0o644);
    }
    fs.chmodSync(src, 0o755);
    fs.writeFileSync(path.join(src, 'build', 'version', 'version.txt'), `${FERRETDB_BUILD}\n`);
    for (const patch of FERRETDB_PATCHES) {
      const patched = path.join(src, patch.file);
      const code = fs.readFileSync(patched, 'utf8');
      if (code.split(patch.from).length - 1 !== (patch.times ?? 1))
        fail(`FerretDB's ${patch.file} no longer has the lines Herald's fix replaces, as many times as expected`);
      fs.writeFileSync(patched, code.replaceAll(patch.from, patch.to));
    }
    for (const [ours, theirs] of FERRETDB_FILES) fs.copyFileSync(path.join(root, ours), path.join(src, theirs));
    const bin = goBinDir();
    fs.mkdirSync(bin, { recursive: true });
    run('go', ['build', '-trimpath', '-o', path.join(bin, FERRETDB_BINARY), './cmd/ferretdb'], {
      cwd: src,
      env: { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' },
    });
    return { file: path.join(bin, FERRETDB_BINARY), seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (envValue('MONGODB_URI')) {
  done.push('MongoDB: using MONGODB_URI, nothing installed');
} else {
  const existing = ferretCandidates().find((file) => ferretVersion(file) === FERRETDB_BUILD);
  if (existing) {
    done.push(`FerretDB ${FERRETDB_BUILD} already installed (${existing})`);
  } else {
    const { file, seconds } = buildFerretDb();
    const version = ferretVersion(file);
    if (version !== FERRETDB_BUILD) fail(`the FerretDB build at ${file} reports ${version ?? 'no version'}`);
    done.push(`FerretDB ${FERRETDB_BUILD} built in ${seconds} s (${file})`);
  }
}

// 5. Mailpit: the SMTP server and web inbox `npm start` runs in development
const MAILPIT_VERSION = 'v1.33.1';
// `go install` does not stamp the version Mailpit prints; Go records the module's in the binary.
function mailpitVersion(file) {
  return /\tmod\tgithub\.com\/axllent\/mailpit\t(v[\w.-]+)/.exec(output('go', ['version', '-m', file]) ?? '')?.[1];
}
if (envValue('SMTP_URL')) {
  done.push('Mailpit: SMTP_URL is set, nothing installed');
} else {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'mailpit'));
  const existing = [process.env.MAILPIT_BIN, path.join(goBinDir(), 'mailpit'), ...onPath]
    .filter((file) => file && fs.existsSync(file))
    .find((file) => mailpitVersion(file) === MAILPIT_VERSION);
  if (existing) {
    done.push(`Mailpit ${MAILPIT_VERSION} already installed (${existing})`);
  } else {
    if (!output('go', ['version'])) fail('Mailpit is built with Go, and `go` is not installed. Install Go 1.22+ (or set SMTP_URL).');
    const started = Date.now();
    say(`building Mailpit ${MAILPIT_VERSION} with Go (a minute or two the first time)`);
    run('go', ['install', `github.com/axllent/mailpit@${MAILPIT_VERSION}`], { env: { ...process.env, GOFLAGS: '-buildvcs=false' } });
    done.push(`Mailpit ${MAILPIT_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s (${path.join(goBinDir(), 'mailpit')})`);
  }
}

// 6. Chromium for the browser tests
if (args.has('--no-browser')) {
  done.push('chromium: skipped (--no-browser); the browser tests need /usr/bin/chromium');
} else if (fs.existsSync('/usr/bin/chromium')) {
  done.push('chromium already installed');
} else {
  aptInstall(['chromium'], "the browser tests drive Debian's chromium");
  done.push('chromium installed (apt-get)');
}

// 7. .env
if (fs.existsSync(envFile)) {
  done.push('.env already exists (left as is)');
} else {
  const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
  // A VAPID pair for Web Push (what `npx herald vapid-keys` prints): P-256, the public key uncompressed.
  const { x, y, d } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' });
  const vapidPublic = Buffer.concat([Buffer.from([4]), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]).toString('base64url');
  const filled = example
    .replace(/^JWT_SECRET=$/m, `JWT_SECRET=${randomBytes(32).toString('hex')}`)
    .replace(/^SERVICE_TOKEN=$/m, `SERVICE_TOKEN=${randomBytes(24).toString('hex')}`)
    .replace(/^METRICS_TOKEN=$/m, `METRICS_TOKEN=${randomBytes(24).toString('hex')}`)
    .replace(/^VAPID_PUBLIC_KEY=$/m, `VAPID_PUBLIC_KEY=${vapidPublic}`)
    .replace(/^VAPID_PRIVATE_KEY=$/m, `VAPID_PRIVATE_KEY=${d}`)
    .replace(/^VAPID_SUBJECT=$/m, 'VAPID_SUBJECT=mailto:admin@localhost')
    .replace(/^EMAIL_LINK_SECRET=$/m, `EMAIL_LINK_SECRET=${randomBytes(32).toString('hex')}`);
  fs.writeFileSync(envFile, filled, { mode: 0o600 });
  done.push('.env created with a fresh JWT_SECRET, SERVICE_TOKEN, METRICS_TOKEN, VAPID key pair and EMAIL_LINK_SECRET');
}

// 8. Build
if (args.has('--no-build')) {
  done.push('build skipped (--no-build)');
} else {
  say('building (npm run build)');
  run('npm', ['run', 'build']);
  done.push('built shared/, server/ and client/');
}

console.log('\nSetup finished:');
for (const line of done) console.log(`  ✓ ${line}`);
console.log('\nNext: npm start (then open http://localhost:3000), or npm test.\n');
