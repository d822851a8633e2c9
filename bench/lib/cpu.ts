import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it has exited. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return 0;
  }
}

export interface CpuGroup {
  name: string;
  pids: number[];
}

export interface CpuShare {
  name: string;
  /** Share of one core over the window: 100 means one full core. */
  percent: number;
}

/** Measures the CPU each named group of processes uses between start() and stop(). */
export function cpuMeter(groups: CpuGroup[]): { stop(): CpuShare[] } {
  const started = performance.now();
  const before = groups.map((group) => group.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0));
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      return groups.map((group, i) => {
        const used = group.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - (before[i] ?? 0);
        return { name: group.name, percent: seconds > 0 ? (used / seconds) * 100 : 0 };
      });
    },
  };
}

/** What the results say about the machine they came from. */
export function machine(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string } {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** A process's resident memory in bytes, from /proc (for processes that cannot report their own heap). */
export function rssBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * The CPU a process is charged for waking up to do nothing: a timer chain in a fresh Node process, each
 * wake-up after `gapMs` of idleness, CPU used divided by wake-ups. On bare metal a few microseconds; on
 * some virtual machines tens to hundreds, which then dominate a process that wakes often for little
 * work (a publisher at a low rate wakes for every reply it awaits).
 */
export function wakeupCostMicros(gapMs: number, wakeups: number): number | undefined {
  const script = `const c0 = process.cpuUsage(); let i = 0;
const tick = () => { if (++i < ${wakeups}) return void setTimeout(tick, ${gapMs});
  const c = process.cpuUsage(c0); console.log((c.user + c.system) / ${wakeups}); };
setTimeout(tick, ${gapMs});`;
  try {
    const micros = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 }).trim());
    return Number.isFinite(micros) ? micros : undefined;
  } catch {
    return undefined;
  }
}
