// Numbers, the results table and the machine description.

import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Summary {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function summarise(values: number[]): Summary {
  const n = values.length;
  if (n === 0) return { n, p50: null, p95: null, p99: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => round3(sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!);
  let sum = 0;
  for (const v of values) sum += v;
  return { n, p50: at(50), p95: at(95), p99: at(99), max: round3(sorted[n - 1]!), mean: round3(sum / n) };
}

export const round3 = (v: number) => Math.round(v * 1000) / 1000;
export const round1 = (v: number) => Math.round(v * 10) / 10;

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function mb(bytes: number): number {
  return round1(bytes / (1024 * 1024));
}

export interface Row {
  scenario: string;
  measure: string;
  unit: string;
  herald: number | null;
  baseline: number | null;
  /** Shown after the baseline figure, e.g. "@64": the connection count that won the bare sweep. */
  baselineNote?: string;
  /** herald ÷ baseline, or the figure the target is about when that differs (says `ratioOf`). */
  ratio: number | null;
  ratioOf?: string;
  /** How the ratio reads: a percentage (the default) or "2.4×" (CPU per delivery against the bare client's per POST). */
  ratioAs?: 'percent' | 'times';
  target: string;
  pass: boolean | null;
}

function cell(v: number | null, unit: string): string {
  if (v === null || Number.isNaN(v)) return '—';
  if (unit === '/s') return `${int(v)}/s`;
  if (unit === 'ms') return `${v.toFixed(2)} ms`;
  if (unit === 'MB') return `${v.toFixed(1)} MB`;
  if (unit === 'µs') return `${v.toFixed(1)} µs`;
  if (unit === 'B') return `${int(v)} B`;
  return String(v);
}

export function table(rows: Row[]): string {
  const head = ['scenario', 'measure', 'Herald', 'bare undici', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [
    r.scenario,
    r.measure,
    cell(r.herald, r.unit),
    `${cell(r.baseline, r.unit)}${r.baselineNote && r.baseline !== null ? ` ${r.baselineNote}` : ''}`,
    r.ratio === null ? '—' : `${r.ratioAs === 'times' ? `${r.ratio.toFixed(2)}×` : `${(r.ratio * 100).toFixed(1)}%`}${r.ratioOf ? ` ${r.ratioOf}` : ''}`,
    r.target,
    r.pass === null ? '—' : r.pass ? 'pass' : 'MISS',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function machine(root: string) {
  const cpus = os.cpus();
  let commit: string | null = null;
  let dirty: boolean | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    /* not a git checkout */
  }
  let version: string | null = null;
  try {
    version = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).version;
  } catch {
    /* ignore */
  }
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryMB: Math.round(os.totalmem() / 1024 / 1024),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    heraldVersion: version,
    gitCommit: commit,
    srcModified: dirty,
  };
}
