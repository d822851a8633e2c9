import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a frame lives, short: a package name for node_modules, a path from the repository otherwise. */
function where(url: string, root: string): string {
  if (!url) return '(native)';
  const file = url.replace(/^file:\/\//, '');
  const pkg = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  if (file.startsWith('node:')) return file;
  return path.relative(root, file);
}

/**
 * The functions that used the most CPU (self time) in one V8 `.cpuprofile`, grouped by function and file,
 * with the share of the profile's busy time (idle and GC shown as their own rows).
 */
export function topFunctions(file: string, root: string, limit = 15): { name: string; ms: number; share: number }[] {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  // Each sample's time is the delta to the next one.
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const ms = (deltas[i + 1] ?? 0) / 1000;
    selfMs.set(samples[i]!, (selfMs.get(samples[i]!) ?? 0) + ms);
  }
  const totals = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName === '(idle)' ? '(idle)' : `${frame.functionName || '(anonymous)'} ${where(frame.url, root)}`;
    totals.set(name, (totals.get(name) ?? 0) + ms);
    if (name !== '(idle)') busy += ms;
  }
  return [...totals]
    .filter(([name]) => name !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => ({ name, ms, share: busy > 0 ? ms / busy : 0 }));
}

/** A text summary of every profile in `dir`: the top functions of each process. */
export function summarizeProfiles(dir: string, root: string): string {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  return files
    .map((f) => {
      const rows = topFunctions(path.join(dir, f), root);
      return [
        `${f}:`,
        ...rows.map((r) => `  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`),
      ].join('\n');
    })
    .join('\n\n');
}
