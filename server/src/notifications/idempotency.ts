import { createHash } from 'node:crypto';
import { AppError } from '../platform/errors';

/**
 * Not storing twice, in one device: every copy that must exist at most once per recipient carries a
 * `key`, and a unique index on `(userId, key)` refuses a second (see KEY_INDEX). The key is the
 * publish's `dedupeKey` (`d:<dedupeKey>`), else its Idempotency-Key (`i:<key>`). A copy published with
 * an Idempotency-Key also carries `request`, which names the key and the request's content, so the
 * insert of a retry that collides tells its own copy (same request: the answer) from another's (a
 * dedupeKey held by an earlier publish: deduplicated; the same Idempotency-Key with a different body:
 * a 409).
 */
export interface CopyKeys {
  key?: string;
  request?: string;
}

/** `key` and `request` for a publish's copies (both absent without a dedupeKey or an Idempotency-Key). */
export function copyKeys(dedupeKey: string | undefined, idempotencyKey: string | undefined, hash: string): CopyKeys {
  const keys: CopyKeys = {};
  if (dedupeKey !== undefined) keys.key = `d:${dedupeKey}`;
  else if (idempotencyKey !== undefined) keys.key = `i:${idempotencyKey}`;
  if (idempotencyKey !== undefined) keys.request = `${digest(idempotencyKey)}.${hash.slice(0, 32)}`;
  return keys;
}

/** How a copy found under a key relates to the request whose insert collided with it. */
export function relation(found: CopyKeys, mine: CopyKeys): 'own' | 'conflict' | 'other' {
  if (mine.request !== undefined && found.request === mine.request) return 'own';
  // The same Idempotency-Key (its part of `request`), another body.
  if (mine.request !== undefined && found.request?.split('.')[0] === mine.request.split('.')[0]) return 'conflict';
  // Under an `i:` key only the same Idempotency-Key collides: `request` was written with it.
  return mine.key?.startsWith('i:') ? 'conflict' : 'other';
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}

/** The hash of a request's content: the same for the same body with its keys or recipients in another order. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * JSON with every object's keys in sorted order, so the same request sent with its keys in another
 * order (as JSON libraries and hand-written bodies do) hashes the same.
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The answer to an Idempotency-Key already used for a different request (a publish, or a scheduled send). */
export function keyConflict(): AppError {
  return new AppError('conflict', 'This Idempotency-Key was already used for a different request.');
}
