import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { importJWK, jwtVerify } from 'jose';
import { checkOffPage, type PushConfig } from '../../src/off-page-config';

// http_ece: the RFC 8188 / 8291 implementation web-push encrypts with; here it decrypts, as a browser would.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ece = require('http_ece') as { decrypt(body: Buffer, params: { version: string; privateKey: ECDH; authSecret: string }): Buffer };

/** One message as the push service received it, decrypted with the subscription's keys. */
export interface ReceivedPush {
  subscription: string;
  payload: unknown;
  headers: { ttl?: string; urgency?: string; topic?: string };
  /** The VAPID token's claims, checked against the `k` key of its Authorization header. */
  /** The VAPID token's claims, its expiry, and the token itself. */
  vapid: { sub: string; aud: string; exp: number; publicKey: string; token: string };
}

/** What the push service answers next for a subscription (a status, and headers); then 201 again. */
type Scripted = { status: number; headers?: Record<string, string> };

/**
 * A Web Push service on loopback HTTPS, as FCM or Mozilla's autopush is to a browser: it keeps each
 * subscription's private keys (a browser's), checks every request's VAPID signature and `aes128gcm`
 * encoding, decrypts the payload, and answers 201, or what a test scripted for the subscription
 * (`500`, `429` with `Retry-After`, `410`). Its certificate is the one `scripts/test-ca.mjs` made, which
 * the test processes trust through NODE_EXTRA_CA_CERTS, as production trusts a push service's.
 */
export async function startPushService() {
  const tlsDir = path.resolve(__dirname, '../../../.data/test-push-tls');
  const keys = new Map<string, { ecdh: ECDH; auth: string }>();
  const scripts = new Map<string, Scripted[]>();
  const received: ReceivedPush[] = [];
  const answered: { subscription: string; status: number }[] = [];

  const server = https.createServer({
    cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')),
    key: fs.readFileSync(path.join(tlsDir, 'key.pem')),
  });
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
        const subscription = id === undefined ? undefined : keys.get(id);
        const answer = (status: number, headers: Record<string, string> = {}) => {
          answered.push({ subscription: id ?? '', status });
          res.writeHead(status, headers).end();
        };
        if (req.method !== 'POST' || !id || !subscription) return answer(404);
        const next = scripts.get(id)?.shift();
        if (next) return answer(next.status, next.headers);
        if (req.headers['content-encoding'] !== 'aes128gcm') return answer(400);
        const vapid = /^vapid t=([^,\s]+),\s*k=([\w-]+)$/.exec(req.headers.authorization ?? '');
        if (!vapid) return answer(401);
        const publicKey = Buffer.from(vapid[2]!, 'base64url');
        const jwk = {
          kty: 'EC',
          crv: 'P-256',
          x: publicKey.subarray(1, 33).toString('base64url'),
          y: publicKey.subarray(33, 65).toString('base64url'),
        };
        let claims;
        try {
          ({ payload: claims } = await jwtVerify(vapid[1]!, await importJWK(jwk, 'ES256'), { audience: `https://127.0.0.1:${port}` }));
        } catch {
          return answer(403);
        }
        const plaintext = ece.decrypt(Buffer.concat(chunks), {
          version: 'aes128gcm',
          privateKey: subscription.ecdh,
          authSecret: subscription.auth,
        });
        received.push({
          subscription: id,
          payload: JSON.parse(plaintext.toString('utf8')) as unknown,
          headers: {
            ...(req.headers.ttl ? { ttl: String(req.headers.ttl) } : {}),
            ...(req.headers.urgency ? { urgency: String(req.headers.urgency) } : {}),
            ...(req.headers.topic ? { topic: String(req.headers.topic) } : {}),
          },
          vapid: { sub: String(claims.sub), aud: String(claims.aud), exp: Number(claims.exp), publicKey: vapid[2]!, token: vapid[1]! },
        });
        answer(201);
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;

  return {
    origin,
    received,
    answered,
    /** A new browser subscription on this service: what `PushSubscription.toJSON()` gives. */
    subscribe(): { id: string; endpoint: string; keys: { p256dh: string; auth: string } } {
      const id = randomBytes(8).toString('hex');
      const ecdh = createECDH('prime256v1');
      const p256dh = ecdh.generateKeys().toString('base64url');
      const auth = randomBytes(16).toString('base64url');
      keys.set(id, { ecdh, auth });
      return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh, auth } };
    },
    /** The subscription is gone (the user revoked it): every request now gets 410. */
    revoke(id: string) {
      scripts.set(
        id,
        Array.from({ length: 1000 }, () => ({ status: 410 })),
      );
    },
    /** The next answers for a subscription, before it answers 201 again. */
    script(id: string, ...answers: Scripted[]) {
      scripts.set(id, [...(scripts.get(id) ?? []), ...answers]);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type PushService = Awaited<ReturnType<typeof startPushService>>;

/** Push settings that send to this push service with these VAPID keys (`webpush.generateVAPIDKeys()`). */
export function pushConfigFor(service: Pick<PushService, 'origin'>, vapid: { publicKey: string; privateKey: string }): PushConfig {
  const { config } = checkOffPage({
    push: {
      vapidPublicKey: vapid.publicKey,
      vapidPrivateKey: vapid.privateKey,
      vapidSubject: 'mailto:ops@example.com',
      serviceOrigins: [service.origin],
    },
  });
  return config.push!;
}
