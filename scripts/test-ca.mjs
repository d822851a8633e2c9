#!/usr/bin/env node
// The certificate of the loopback HTTPS push service the tests send Web Push to (server/test/support/
// push-service.ts): made once with openssl, self-signed for 127.0.0.1, and trusted by the test processes
// through NODE_EXTRA_CA_CERTS (the npm test scripts set it; Node reads it only at start).
//   node scripts/test-ca.mjs [--print]   creates the certificate if missing (--print: and prints its path)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.data/test-push-tls');
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
if (!fs.existsSync(cert) || !fs.existsSync(key)) {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
if (process.argv.includes('--print')) console.log(cert);
