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

export interface Cost {
  name: string;
  msPerDelivery: number;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** Which server was measured (`--compare` measures several); Herald when absent. */
  system?: string;
  /** `--scaling`: the size it ran at ("10000 sockets", "3 instances"). */
  variant?: string;
  /** `--switched-off`: the feature Herald ran without ("the staleness check"). */
  switchedOff?: string;
  /** `--runs=N` (N > 1): which of the runs measured it, from 1. */
  run?: number;
  /** What ran, in one line: instances, clients, messages. */
  setup: string;
  figures: Figure[];
  /** CPU of every process while the figure was measured (100% = one core). */
  cpu: CpuShare[];
  /** CPU-ms each process group spent per delivered notification or message, while measuring. */
  cost?: Cost[];
  /** Series for the charts and the JSON file. */
  series?: Record<string, unknown>;
}

/** true / false against the target; undefined when there is none or nothing was measured. */
export function meets(figure: Figure): boolean | undefined {
  if (!figure.target || !Number.isFinite(figure.value)) return undefined;
  return figure.target.op === '<=' ? figure.value <= figure.target.value : figure.value >= figure.target.value;
}
