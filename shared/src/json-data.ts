import { z } from 'zod';

/** Largest `data` object accepted on a notification, measured as JSON text. */
export const MAX_DATA_BYTES = 4096;
const MAX_DEPTH = 8;
const encoder = new TextEncoder();
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Why a key is refused: `$` keys are MongoDB operators, prototype names are
 * prototype-pollution vectors, and dots or NUL are not valid field names in
 * every MongoDB-wire database we run on.
 */
function keyProblem(key: string): string | undefined {
  if (key.startsWith('$')) return 'keys must not start with "$"';
  if (FORBIDDEN_KEYS.has(key)) return `"${key}" is not allowed as a key`;
  if (key.includes('.') || key.includes('\u0000')) return 'keys must not contain "." or NUL';
  if (key.length === 0 || key.length > 100) return 'keys must be 1 to 100 characters';
  return undefined;
}

function findProblem(value: unknown, path: (string | number)[], depth: number): { path: (string | number)[]; message: string } | undefined {
  if (depth > MAX_DEPTH) return { path, message: `nesting deeper than ${MAX_DEPTH} levels` };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, message: 'numbers must be finite' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = findProblem(value[i], [...path, i], depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const message = keyProblem(key);
      if (message) return { path: [...path, key], message };
      const problem = findProblem(value[key], [...path, key], depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return { path, message: 'only JSON values are allowed' };
}

/** A small JSON object attached to a notification for the app's own use. */
export const jsonDataSchema = z
  .custom<JsonObject>((value) => isPlainObject(value), { message: 'must be a JSON object' })
  .superRefine((value, ctx) => {
    const problem = findProblem(value, [], 0);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
      return;
    }
    if (encoder.encode(JSON.stringify(value)).length > MAX_DATA_BYTES) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_DATA_BYTES} bytes as JSON` });
    }
  });
