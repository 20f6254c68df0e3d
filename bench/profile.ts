// Summarises a V8 .cpuprofile (from node --cpu-prof): self time per function (name + script)
// and per module (a node_modules package, a node: internal, a file of Herald's dist/).
//
//     node --import tsx bench/profile.ts bench/results/<file>.cpuprofile [--top 25]

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
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

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  sampledMs: number;
  idleMs: number;
  busyMs: number;
  top: ProfileEntry[];
  modules: ProfileEntry[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) return path.slice(nm + 'node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  if (dist !== -1) return path.slice(dist + 1);
  const src = path.lastIndexOf('/src/');
  if (src !== -1) return path.slice(src + 1);
  return path;
}

function moduleOf(url: string): string {
  if (!url) return '(native / VM)';
  const short = shortUrl(url);
  if (short.startsWith('node:')) return short.split('/')[0]!.replace(/^node:internal.*/, 'node:internal');
  if (url.includes('node_modules/')) {
    const parts = short.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return short;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export function summariseProfile(file: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // Time per node: each sample lasts until the next one (timeDeltas[i + 1]).
  const timeOf = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    for (let i = 0; i < samples.length; i++) {
      const d = i + 1 < deltas.length ? deltas[i + 1]! : 0;
      timeOf.set(samples[i]!, (timeOf.get(samples[i]!) ?? 0) + Math.max(0, d));
    }
  } else {
    const totalHits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
    const interval = (profile.endTime - profile.startTime) / totalHits;
    for (const n of profile.nodes) timeOf.set(n.id, (n.hitCount ?? 0) * interval);
  }

  const byFn = new Map<string, { name: string; where: string; us: number }>();
  const byModule = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = timeOf.get(node.id) ?? 0;
    if (us === 0) continue;
    sampled += us;
    const { functionName, url } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    const where = SPECIAL.has(name) ? '' : shortUrl(url);
    const key = `${name}\u0000${where}`;
    const entry = byFn.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFn.set(key, entry);
    const mod = SPECIAL.has(name) ? name : moduleOf(url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }
  const busy = sampled - idle;
  const ms = (us: number) => Math.round(us / 10) / 100;
  const share = (us: number) => Math.round((us / (busy || 1)) * 1000) / 10;
  const top = [...byFn.values()]
    .filter((e) => e.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, selfMs: ms(e.us), share: share(e.us) }));
  const modules = [...byModule.entries()]
    .filter(([m]) => m !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([m, us]) => ({ name: m, where: '', selfMs: ms(us), share: share(us) }));
  return {
    file,
    wallMs: ms(profile.endTime - profile.startTime),
    sampledMs: ms(sampled),
    idleMs: ms(idle),
    busyMs: ms(busy),
    top,
    modules,
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [
    `CPU profile ${s.file}`,
    `  wall ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms (shares below are of busy time)`,
    '  top self time:',
    ...s.top.map((e, i) => `  ${String(i + 1).padStart(3)}. ${e.selfMs.toFixed(0).padStart(8)} ms ${e.share.toFixed(1).padStart(5)}%  ${e.name}${e.where ? `  ${e.where}` : ''}`),
    '  by module:',
    ...s.modules.map((e) => `       ${e.selfMs.toFixed(0).padStart(8)} ms ${e.share.toFixed(1).padStart(5)}%  ${e.name}`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const topArg = process.argv.indexOf('--top');
  const topN = topArg === -1 ? 15 : Number(process.argv[topArg + 1]);
  if (files.length === 0) {
    console.error('usage: node --import tsx bench/profile.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  for (const f of files) console.log(formatProfile(summariseProfile(f, topN)) + '\n');
}
