/** The nearest-rank percentile of values already sorted ascending. */
function atRank(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Percentile by nearest rank over a copy of the values; NaN for no values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  return values.length === 0 ? Number.NaN : atRank(Float64Array.from(values).sort(), p);
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => atRank(sorted, p);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]! };
}

/** Concatenates the typed arrays the workers send back. */
export function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A wall clock with sub-millisecond resolution that all processes on this machine share. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Splits items into n nearly equal slices, round robin. */
export function spread<T>(items: T[], n: number): T[][] {
  const slices: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => slices[i % n]!.push(item));
  return slices;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A growable Float64Array, so recording a receipt does not allocate. */
export class Samples {
  private buffer = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const bigger = new Float64Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = value;
  }

  /** The samples so far, and a fresh start. */
  take(): Float64Array {
    const out = this.buffer.slice(0, this.length);
    this.length = 0;
    return out;
  }
}
