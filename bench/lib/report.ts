import fs from 'node:fs';
import path from 'node:path';
import type { machine } from './cpu';
import { meets, type Cost, type Figure, type ScenarioResult } from './result';

export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  scale: 'full' | 'quick';
  /** `--runs=N`: how many times each scenario ran (each run's results carry `run`). @default 1 */
  runs?: number;
  machine: ReturnType<typeof machine>;
  /**
   * CPU-µs a fresh process is charged per wake-up that does nothing, woken back to back and after 4 ms
   * idle (see wakeupCostMicros): what every round trip a process waits on costs here besides its work.
   */
  wakeup?: { backToBackMicros?: number | undefined; after4msIdleMicros?: number | undefined };
  database: string;
  redis: string;
  scenarios: ScenarioResult[];
  /** Scenarios that could not finish, with the reason. */
  failures: { id: string; error: string }[];
  /** What a reader should know about the run (a compared server that was skipped, and why). */
  notes: string[];
  /** With `--compare`: the compared figures side by side. */
  comparison?: ReturnType<typeof comparison>;
}

/** The wake-up cost, in words. */
export function wakeupLine(wakeup: NonNullable<BenchReport['wakeup']>): string {
  const us = (v: number | undefined) => (v === undefined ? 'n/a' : `${Math.round(v)} µs`);
  return `CPU charged per empty wake-up of a process: ${us(wakeup.backToBackMicros)} back to back, ${us(wakeup.after4msIdleMicros)} after 4 ms idle.`;
}

/** A scenario's title, with the server it measured when that is not Herald. */
const titleOf = (s: ScenarioResult) =>
  [
    s.title,
    s.system && s.system !== 'Herald' ? `(${s.system})` : '',
    s.variant ? `at ${s.variant}` : '',
    s.switchedOff ? `without ${s.switchedOff}` : '',
    s.run ? `, run ${s.run}` : '',
  ]
    .filter(Boolean)
    .join(' ')
    .replace(' ,', ',');

/** A figure over the runs that measured it. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Runs with a finite value (a step that never met its bound has none). */
  runs: number;
}

/** Median (of an even count, the mean of the middle two), lowest and highest of the finite values. */
export function spreadOf(values: number[]): Spread | undefined {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const middle = finite.length >> 1;
  const median = finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, runs: finite.length };
}

/** The same scenario measured in each run (same id, server and size), in the order they first ran. */
function sameScenarioGroups(scenarios: ScenarioResult[]): ScenarioResult[][] {
  const groups = new Map<string, ScenarioResult[]>();
  for (const s of scenarios) {
    const key = [s.id, s.system ?? 'Herald', s.variant ?? '', s.switchedOff ?? ''].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

/** "median (min–max)" when several runs measured it, else the one value. */
function formatSpread(spread: Spread | undefined, unit: string, totalRuns: number): string {
  if (!spread) return 'n/a';
  const median = formatValue(spread.median, unit);
  if (totalRuns <= 1) return median;
  const [min, max] = [formatValue(spread.min, unit), formatValue(spread.max, unit)];
  const range = min === max ? '' : ` (${min}–${max})`;
  const missing = spread.runs < totalRuns ? ` [${spread.runs} of ${totalRuns} runs]` : '';
  return `${median}${range}${missing}`;
}

/** Renders rows (the first is the header) as a Markdown table. */
function markdownTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 || unit === '' ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  if (unit === '') return text;
  return unit === '/s' || unit === '%' || unit === 'x' ? `${text}${unit}` : `${text} ${unit}`;
}

function formatTarget(figure: Figure): string {
  if (!figure.target) return '';
  return `${figure.target.op === '<=' ? '≤' : '≥'} ${formatValue(figure.target.value, figure.unit)}`;
}

function verdict(figure: Figure): string {
  const ok = meets(figure);
  return ok === undefined ? '' : ok ? 'met' : 'MISSED';
}

/** The table printed at the end of a run (also pasted into docs/performance.md). */
export function renderTable(report: BenchReport): string {
  if ((report.runs ?? 1) > 1) return renderMedianTable(report);
  const rows: string[][] = [['Scenario', 'Figure', 'Measured', 'Target', '']];
  for (const scenario of report.scenarios) {
    scenario.figures.forEach((figure, i) => {
      rows.push([
        i === 0 ? titleOf(scenario) : '',
        figure.label,
        formatValue(figure.value, figure.unit),
        formatTarget(figure),
        verdict(figure),
      ]);
    });
  }
  for (const failure of report.failures) rows.push([failure.id, 'did not finish', failure.error.split('\n')[0] ?? '', '', 'FAILED']);
  return markdownTable(rows);
}

/** With `--runs=N`: each figure's median over the runs, its spread, and the verdict on the median. */
function renderMedianTable(report: BenchReport): string {
  const runs = report.runs ?? 1;
  const rows: string[][] = [['Scenario', 'Figure', `Median of ${runs} runs (lowest–highest)`, 'Target', '']];
  for (const group of sameScenarioGroups(report.scenarios)) {
    group[0]!.figures.forEach((figure, i) => {
      const spread = spreadOf(group.map((s) => s.figures.find((f) => f.label === figure.label)?.value ?? Number.NaN));
      rows.push([
        i === 0 ? titleOf({ ...group[0]!, run: undefined }) : '',
        figure.label,
        formatSpread(spread, figure.unit, runs),
        formatTarget(figure),
        spread ? verdict({ ...figure, value: spread.median }) : '',
      ]);
    });
  }
  for (const failure of report.failures) rows.push([failure.id, 'did not finish', failure.error.split('\n')[0] ?? '', '', 'FAILED']);
  return markdownTable(rows);
}

/** CPU per process group for each scenario: shows whether the load generator was the limit. */
export function renderCpuTable(report: BenchReport): string {
  const names = [...new Set(report.scenarios.flatMap((s) => s.cpu.map((c) => c.name)))];
  const rows = [['Scenario', ...names]];
  for (const s of report.scenarios) rows.push([titleOf(s), ...names.map((n) => formatCpu(s.cpu.find((c) => c.name === n)?.percent))]);
  return markdownTable(rows);
}

/** CPU-ms per delivered notification (or topic message per socket) for each process group, and the stack's total without the clients. */
export function renderCostTable(report: BenchReport): string {
  const withCost = report.scenarios.filter((s) => s.cost && s.cost.length > 0);
  const names = [...new Set(withCost.flatMap((s) => s.cost!.map((c) => c.name)))];
  const rows = [['Scenario', ...names, 'stack without clients']];
  for (const s of withCost) {
    const cost = (n: string) => s.cost!.find((c) => c.name === n)?.msPerDelivery;
    const stack = s.cost!.filter((c) => c.name !== 'client processes').reduce((sum, c) => sum + c.msPerDelivery, 0);
    rows.push([titleOf(s), ...names.map((n) => formatMs(cost(n))), formatMs(stack)]);
  }
  return markdownTable(rows);
}

const formatMs = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '' : ms < 0.01 ? ms.toFixed(4) : ms.toFixed(3));

/**
 * The figures `--compare` sets side by side, by scenario id and label. `standIn`: the figure a server
 * that has no `label` is compared by instead (the plain Socket.IO server keeps nothing for a client that
 * was away, so its storm is its reconnection alone: the floor under any catch-up built on it).
 */
const COMPARED: { id: string; label: string; show: string; standIn?: string }[] = [
  { id: 'per-user', label: 'highest rate with p99 ≤ 50 ms', show: 'per-user notifications/s with p99 ≤ 50 ms' },
  { id: 'per-user', label: 'stack CPU-ms per notification', show: 'stack CPU per notification at that rate (no clients)' },
  { id: 'per-user', label: 'stack CPU-ms per notification at 2,000/s', show: 'stack CPU per notification at 2,000/s (no clients)' },
  { id: 'per-user', label: 'p99 latency at 1,000/s', show: 'p99 at 1,000/s' },
  {
    id: 'storm',
    label: 'all caught up, exactly, after reconnecting',
    show: 'reconnect storm, all caught up',
    standIn: 'all reconnected, before catching up',
  },
  { id: 'storm', label: 'all reconnected, before catching up', show: 'reconnect storm, all reconnected (before catching up)' },
  { id: 'idle-sockets', label: 'handshakes per second while connecting', show: 'handshakes per second' },
  { id: 'topic-fanout', label: 'last subscriber has it, median message', show: 'fan-out, last receipt, median message' },
  { id: 'topic-fanout', label: 'last subscriber has it, p99 over messages', show: 'fan-out, last receipt, p99 message' },
  {
    id: 'topic-fanout',
    label: 'first subscriber has it, median message from a backend library',
    show: 'fan-out, first subscriber, median, sent from a backend library',
  },
  {
    id: 'topic-fanout',
    label: 'first subscriber has it, median message over the HTTP API',
    show: 'fan-out, first subscriber, median, sent over HTTP',
  },
  { id: 'idle-sockets', label: 'server heap per socket', show: 'server heap per idle socket' },
  { id: 'idle-sockets', label: 'server RSS per socket', show: 'server RSS per idle socket' },
];

/**
 * Figures of every compared server side by side: each one's median over the runs, and Herald's over
 * each other's taken run by run (servers measured in the same run share the machine's state then), so
 * below 1 is better where lower is.
 */
export function comparison(report: BenchReport): {
  systems: string[];
  runs: number;
  rows: { figure: string; unit: string; values: Record<string, number>; spread: Record<string, Spread>; ratios: Record<string, Spread> }[];
} {
  const runs = report.runs ?? 1;
  const measured = report.scenarios.filter((s) => !s.variant && !s.switchedOff);
  const systems = [...new Set(measured.map((s) => s.system ?? 'Herald'))];
  const figureIn = (system: string, id: string, label: string, run: number) =>
    measured.find((s) => s.id === id && (s.system ?? 'Herald') === system && (s.run ?? 1) === run)?.figures.find((f) => f.label === label);
  const rows = COMPARED.map(({ id, label, show, standIn }) => {
    const has = (system: string) =>
      Array.from({ length: runs }, (_, i) => figureIn(system, id, label, i + 1)).some((f) => Number.isFinite(f?.value));
    // Herald is always measured by `label`; another server without it by its stand-in.
    const valueIn = (system: string, run: number) =>
      figureIn(system, id, system !== 'Herald' && standIn && !has(system) ? standIn : label, run);
    const values: Record<string, number> = {};
    const spread: Record<string, Spread> = {};
    const ratios: Record<string, Spread> = {};
    let unit = '';
    const runNumbers = Array.from({ length: runs }, (_, i) => i + 1);
    for (const system of systems) {
      const figures = runNumbers.map((run) => valueIn(system, run));
      unit = figures.find((f) => f)?.unit ?? unit;
      const over = spreadOf(figures.map((f) => f?.value ?? Number.NaN));
      if (over) {
        values[system] = over.median;
        spread[system] = over;
      }
      if (system === 'Herald') continue;
      const ratio = spreadOf(
        runNumbers.map((run) => {
          const herald = valueIn('Herald', run)?.value;
          const other = valueIn(system, run)?.value;
          return herald === undefined || other === undefined || other === 0 ? Number.NaN : herald / other;
        }),
      );
      if (ratio) ratios[system] = ratio;
    }
    return { figure: show, unit, values, spread, ratios };
  });
  return { systems, runs, rows: rows.filter((r) => Object.keys(r.values).length > 0) };
}

/** `--scaling`: each sized run's figures, one row per size. */
export function renderScaling(report: BenchReport): string {
  const sized = report.scenarios.filter((s) => s.variant);
  const out: string[] = [];
  for (const id of [...new Set(sized.map((s) => s.id))]) {
    const runs = sized.filter((s) => s.id === id);
    const labels = [...new Set(runs.flatMap((s) => s.figures.filter((f) => Number.isFinite(f.value)).map((f) => f.label)))];
    const rows = [[runs[0]!.title, ...labels]];
    for (const run of runs) {
      rows.push([
        run.variant!,
        ...labels.map((l) => {
          const figure = run.figures.find((f) => f.label === l);
          return figure ? formatValue(figure.value, figure.unit) : '';
        }),
      ]);
    }
    out.push(markdownTable(rows));
  }
  return out.join('\n\n');
}

/**
 * `--switched-off`: Herald's per-user runs without one feature each, against Herald as shipped: the
 * highest rate with p99 ≤ 50 ms and the stack's CPU per notification at each rate both ran (clients
 * left out), with the ratio to as shipped taken run by run (below 1: the feature costs that much).
 */
export function renderSwitchedOff(report: BenchReport): string {
  const runs = report.runs ?? 1;
  const perUser = report.scenarios.filter((s) => s.id === 'per-user' && (s.system ?? 'Herald') === 'Herald' && !s.variant);
  const shipped = (run: number) => perUser.find((s) => !s.switchedOff && (s.run ?? 1) === run);
  const features = [...new Set(perUser.flatMap((s) => (s.switchedOff ? [s.switchedOff] : [])))];
  const runNumbers = Array.from({ length: runs }, (_, i) => i + 1);
  const stepsOf = (s: ScenarioResult | undefined) => (s?.series?.steps ?? []) as { offered: number; cost: Cost[] }[];
  const stackAt = (s: ScenarioResult | undefined, rate: number) => {
    const step = stepsOf(s).find((x) => x.offered === rate);
    return step ? step.cost.filter((c) => c.name !== 'client processes').reduce((sum, c) => sum + c.msPerDelivery, 0) : Number.NaN;
  };
  const highest = (s: ScenarioResult | undefined) => s?.figures.find((f) => f.label.startsWith('highest rate with p99'));
  const rates = [...new Set(runNumbers.flatMap((run) => stepsOf(shipped(run)).map((step) => step.offered)))].sort((a, b) => a - b);
  const rows = [
    [
      'Herald',
      highest(perUser[0])?.label ?? 'highest rate',
      ...rates.map((r) => `stack CPU per notification at ${r.toLocaleString('en')}/s`),
    ],
  ];
  const cell = (value: (s: ScenarioResult | undefined) => number, unit: string, feature?: string) => {
    const of = (run: number) => perUser.find((s) => s.switchedOff === feature && (s.run ?? 1) === run);
    const spread = spreadOf(runNumbers.map((run) => value(of(run))));
    if (!feature) return formatSpread(spread, unit, runs);
    const ratio = spreadOf(runNumbers.map((run) => value(of(run)) / value(shipped(run))));
    return `${formatSpread(spread, unit, runs)}; ${ratio ? formatSpread(ratio, 'x', runs) : 'n/a'}`;
  };
  for (const feature of [undefined, ...features]) {
    rows.push([
      feature ? `without ${feature}` : 'as shipped',
      cell((s) => highest(s)?.value ?? Number.NaN, '/s', feature),
      ...rates.map((rate) => cell((s) => stackAt(s, rate), 'ms', feature)),
    ]);
  }
  return markdownTable(rows);
}

export function renderComparison(report: BenchReport): string {
  const { systems, runs, rows } = comparison(report);
  const others = systems.filter((s) => s !== 'Herald');
  const table = [['Figure', ...systems, ...others.map((o) => `Herald / ${o}`)]];
  for (const row of rows) {
    table.push([
      row.figure,
      ...systems.map((s) => (row.spread[s] ? formatSpread(row.spread[s], row.unit, runs) : '')),
      ...others.map((o) => (row.ratios[o] ? formatSpread(row.ratios[o], 'x', runs) : '')),
    ]);
  }
  return markdownTable(table);
}

function formatCpu(percent: number | undefined): string {
  return percent === undefined ? '' : `${Math.round(percent)}%`;
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A line chart as inline SVG: x and each series' y, with axes labelled. */
export function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: [number, number][]; color: string }[];
  hLine?: { y: number; label: string };
}): string {
  const w = 640;
  const h = 320;
  const pad = { l: 64, r: 16, t: 32, b: 48 };
  const all = options.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = Math.max(1, ...all.map(([, y]) => y), options.hLine?.y ?? 0) * 1.1;
  const sx = (x: number) => pad.l + (x / maxX) * (w - pad.l - pad.r);
  const sy = (y: number) => h - pad.b - (y / maxY) * (h - pad.t - pad.b);
  const ticks = (max: number) => [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<text x="${w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(options.title)}</text>`,
    `<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#333"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${h - pad.b}" stroke="#333"/>`,
    ...ticks(maxX).map((x) => `<text x="${sx(x)}" y="${h - pad.b + 14}" text-anchor="middle">${Math.round(x).toLocaleString('en')}</text>`),
    ...ticks(maxY).map((y) => `<text x="${pad.l - 6}" y="${sy(y) + 4}" text-anchor="end">${Math.round(y).toLocaleString('en')}</text>`),
    `<text x="${w / 2}" y="${h - 10}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text x="14" y="${h / 2}" text-anchor="middle" transform="rotate(-90 14 ${h / 2})">${escape(options.yLabel)}</text>`,
  ];
  if (options.hLine) {
    parts.push(
      `<line x1="${pad.l}" y1="${sy(options.hLine.y)}" x2="${w - pad.r}" y2="${sy(options.hLine.y)}" stroke="#c00" stroke-dasharray="4 3"/>`,
      `<text x="${w - pad.r}" y="${sy(options.hLine.y) - 4}" text-anchor="end" fill="#c00">${escape(options.hLine.label)}</text>`,
    );
  }
  options.series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')}"/>`,
    );
    for (const [x, y] of pts) parts.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="3" fill="${s.color}"/>`);
    parts.push(`<rect x="${pad.l + 10}" y="${pad.t + 4 + i * 16}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${pad.l + 26}" y="${pad.t + 13 + i * 16}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function tableHtml(markdown: string): string {
  const lines = markdown.split('\n').filter((l) => !/^\|-/.test(l));
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => escape(c.trim()));
  const [head, ...body] = lines;
  return `<table><thead><tr>${cells(head ?? '')
    .map((c) => `<th>${c}</th>`)
    .join('')}</tr></thead><tbody>${body
    .map(
      (l) =>
        `<tr>${cells(l)
          .map((c) => `<td class="${c === 'MISSED' || c === 'FAILED' ? 'miss' : c === 'met' ? 'met' : ''}">${c}</td>`)
          .join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
}

/** Writes results.json and report.html (tables and charts) into dir. */
export function writeReport(report: BenchReport, dir: string, charts: string[]): { json: string; html: string } {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'results.json');
  const html = path.join(dir, 'report.html');
  fs.writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  const m = report.machine;
  fs.writeFileSync(
    html,
    `<!doctype html><meta charset="utf-8"><title>Herald benchmark ${escape(report.startedAt)}</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.miss{color:#b00;font-weight:bold}td.met{color:#070}</style>
<h1>Herald benchmark</h1>
<p>${escape(report.startedAt)}, ${report.durationSeconds.toFixed(0)} s, scale: ${report.scale}. Machine: ${m.cpus} × ${escape(m.cpuModel)}, ${m.memoryGiB} GiB, Node ${escape(m.node)}, ${escape(m.platform)}. Database: ${escape(report.database)}. Redis: ${escape(report.redis)}.${report.wakeup ? ` ${escape(wakeupLine(report.wakeup))}` : ''}</p>
<h2>Figures</h2>${tableHtml(renderTable(report))}
<h2>CPU while measuring (100% = one core)</h2>${tableHtml(renderCpuTable(report))}
<h2>CPU-ms per delivered notification or message</h2>${tableHtml(renderCostTable(report))}
${report.scenarios.some((s) => s.system && s.system !== 'Herald') ? `<h2>Side by side</h2>${tableHtml(renderComparison(report))}` : ''}
${report.scenarios.some((s) => s.switchedOff) ? `<h2>Herald's per-user scenario with one feature switched off</h2>${tableHtml(renderSwitchedOff(report))}` : ''}
${report.scenarios.some((s) => s.variant) ? `<h2>Scaling</h2>${renderScaling(report).split('\n\n').map(tableHtml).join('')}` : ''}
${report.notes.map((n) => `<p>${escape(n)}</p>`).join('')}
<h2>Setups</h2><ul>${report.scenarios
      .map(
        (s) =>
          `<li><b>${escape(s.title)}</b>: ${escape(s.setup)}${s.figures
            .filter((f) => f.note)
            .map((f) => `<br><i>${escape(f.label)}</i>: ${escape(f.note!)}`)
            .join('')}</li>`,
      )
      .join('')}</ul>
<h2>Charts</h2>${charts.join('\n')}
`,
  );
  return { json, html };
}
