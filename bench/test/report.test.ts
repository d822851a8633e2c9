import { comparison, renderComparison, renderSwitchedOff, renderTable, spreadOf, type BenchReport } from '../lib/report';
import type { ScenarioResult } from '../lib/result';
import { fixedRateFigures } from '../scenarios/per-user';

const machine = { cpus: 2, cpuModel: 'test', memoryGiB: 1, node: 'v20', platform: 'linux' } as BenchReport['machine'];

function report(runs: number, scenarios: ScenarioResult[]): BenchReport {
  return { startedAt: '', durationSeconds: 0, scale: 'quick', runs, machine, database: '', redis: '', scenarios, failures: [], notes: [] };
}

/** A per-user result of one run: its highest rate with p99 ≤ 50 ms. */
function perUser(system: string, run: number, rate: number): ScenarioResult {
  return {
    id: 'per-user',
    title: 'Per-user notifications',
    system,
    run,
    setup: '',
    cpu: [],
    figures: [{ label: 'highest rate with p99 ≤ 50 ms', value: rate, unit: '/s', target: { op: '>=', value: 2500 } }],
  };
}

describe('bench report over several runs', () => {
  test('a spread is the median, lowest and highest of the finite values', () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(spreadOf([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
    expect(spreadOf([Number.NaN, 5])).toEqual({ median: 5, min: 5, max: 5, runs: 1 });
    expect(spreadOf([Number.NaN])).toBeUndefined();
  });

  test("Herald's ratio is taken run by run, then its median", () => {
    // Per run the ratio is 0.25, 1 and 1 (median 1); the medians alone would give 2,000 / 3,000.
    const scenarios = [
      perUser('Herald', 1, 1000),
      perUser('Plain', 1, 4000),
      perUser('Herald', 2, 2000),
      perUser('Plain', 2, 2000),
      perUser('Herald', 3, 3000),
      perUser('Plain', 3, 3000),
    ];
    const { rows } = comparison(report(3, scenarios));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.values).toEqual({ Herald: 2000, Plain: 3000 });
    expect(rows[0]!.spread.Plain).toEqual({ median: 3000, min: 2000, max: 4000, runs: 3 });
    expect(rows[0]!.ratios.Plain).toEqual({ median: 1, min: 0.25, max: 1, runs: 3 });
    expect(renderComparison(report(3, scenarios))).toContain('1.00x (0.25x–1.00x)');
  });

  test('the table gives each figure once, its median judged against the target, and says when a run had none', () => {
    const scenarios = [perUser('Herald', 1, 2000), perUser('Herald', 2, 3000), perUser('Herald', 3, Number.NaN)];
    const table = renderTable(report(3, scenarios));
    const rows = table.split('\n').filter((line) => line.includes('highest rate'));
    expect(rows).toHaveLength(1);
    // Median of 2,000 and 3,000 is 2,500: the target (≥ 2,500) is met on the median, not on each run.
    expect(rows[0]).toContain('2,500/s (2,000/s–3,000/s) [2 of 3 runs]');
    expect(rows[0]).toMatch(/\| met +\|$/);
  });

  test('one run reads as before: plain values, no spread', () => {
    const table = renderTable(report(1, [{ ...perUser('Herald', 1, 2000), run: undefined }]));
    expect(table).toContain('| 2,000/s ');
    expect(table).not.toContain('–');
  });

  test('a switched-off feature is set against Herald as shipped in the same run, and kept out of the side by side', () => {
    /** A per-user run at 1,000/s whose stack (clients left out) used `stack` CPU-ms per notification. */
    const at1000 = (run: number, stack: number, switchedOff?: string): ScenarioResult => ({
      ...perUser('Herald', run, 1000),
      ...(switchedOff ? { switchedOff } : {}),
      series: {
        steps: [
          {
            offered: 1000,
            cost: [
              { name: 'server', msPerDelivery: stack / 2 },
              { name: 'publisher', msPerDelivery: stack / 2 },
              { name: 'client processes', msPerDelivery: 5 },
            ],
          },
        ],
      },
    });
    const scenarios = [at1000(1, 0.8), at1000(1, 0.6, 'the check'), at1000(2, 0.4), at1000(2, 0.4, 'the check'), perUser('Plain', 1, 4000)];
    const table = renderSwitchedOff(report(2, scenarios));
    const row = (name: string) => table.split('\n').find((line) => line.startsWith(`| ${name} `))!;
    // Per run 0.75x and 1.00x: the median of the two, and the lowest and highest.
    expect(row('without the check')).toContain('0.50 ms (0.40 ms–0.60 ms); 0.88x (0.75x–1.00x)');
    expect(row('as shipped')).toContain('0.60 ms (0.40 ms–0.80 ms)');
    expect(comparison(report(2, scenarios)).rows[0]!.values).toEqual({ Herald: 1000, Plain: 4000 });
  });
  test('every server is also compared at the same rates: CPU at 2,000/s and p99 at 1,000/s, with per-run ratios', () => {
    /** A per-user run that stepped 1,000/s and 2,000/s with this p99 and stack CPU (clients left out). */
    const stepped = (system: string, run: number, p99: number, stack: number): ScenarioResult => {
      const steps = [
        { offered: 1000, p99, cost: [{ name: 'server', msPerDelivery: 9 }] },
        {
          offered: 2000,
          p99: 999,
          cost: [
            { name: 'server', msPerDelivery: stack },
            { name: 'client processes', msPerDelivery: 7 },
          ],
        },
      ];
      const result = perUser(system, run, 1000);
      return { ...result, figures: [...result.figures, ...fixedRateFigures(steps)] };
    };
    const scenarios = [
      stepped('Herald', 1, 30, 0.6),
      stepped('Other', 1, 10, 0.3),
      stepped('Herald', 2, 20, 0.5),
      stepped('Other', 2, 20, 0.5),
    ];
    const rows = comparison(report(2, scenarios)).rows;
    const row = (figure: string) => rows.find((r) => r.figure === figure)!;
    expect(row('stack CPU per notification at 2,000/s (no clients)').values).toEqual({ Herald: 0.55, Other: 0.4 });
    expect(row('stack CPU per notification at 2,000/s (no clients)').ratios.Other).toEqual({ median: 1.5, min: 1, max: 2, runs: 2 });
    expect(row('p99 at 1,000/s').ratios.Other).toEqual({ median: 2, min: 1, max: 3, runs: 2 });
    // A run that never stepped to the rate gives no figure rather than a wrong one.
    expect(fixedRateFigures([]).map((f) => f.value)).toEqual([Number.NaN, Number.NaN]);
  });

  test("the storm row sets Herald's catch-up against the plain server's reconnection, which has nothing to catch up", () => {
    const storm = (system: string, run: number, figures: Record<string, number>): ScenarioResult => ({
      id: 'storm',
      title: 'Reconnect storm',
      system,
      run,
      setup: '',
      cpu: [],
      figures: Object.entries(figures).map(([label, value]) => ({ label, value, unit: 'ms' })),
    });
    const caughtUp = 'all caught up, exactly, after reconnecting';
    const reconnected = 'all reconnected, before catching up';
    const scenarios = [
      storm('Herald', 1, { [caughtUp]: 6000, [reconnected]: 3000 }),
      storm('Plain', 1, { [caughtUp]: Number.NaN, [reconnected]: 2000 }),
      storm('Centrifugo', 1, { [caughtUp]: 1500, [reconnected]: 1000 }),
    ];
    const row = comparison(report(1, scenarios)).rows.find((r) => r.figure === 'reconnect storm, all caught up')!;
    expect(row.values).toEqual({ Herald: 6000, Plain: 2000, Centrifugo: 1500 });
    expect(row.ratios.Plain!.median).toBe(3);
    // A server that catches up is compared by its own catch-up, not by its stand-in.
    expect(row.ratios.Centrifugo!.median).toBe(4);
  });
});
