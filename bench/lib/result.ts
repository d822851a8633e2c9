import type { CpuShare } from './cpu';

export interface Target {
  op: '<=' | '>=';
  value: number;
}

/** One measured figure of a scenario, with its target when the issue sets one. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
  target?: Target;
  /** Why a figure is what it is, when the number alone would mislead. */
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** What ran, in one line: instances, clients, messages. */
  setup: string;
  figures: Figure[];
  /** CPU of every process while the figure was measured (100% = one core). */
  cpu: CpuShare[];
  /** Series for the charts and the JSON file. */
  series?: Record<string, unknown>;
}

/** true / false against the target; undefined when there is none or nothing was measured. */
export function meets(figure: Figure): boolean | undefined {
  if (!figure.target || !Number.isFinite(figure.value)) return undefined;
  return figure.target.op === '<=' ? figure.value <= figure.target.value : figure.value >= figure.target.value;
}
