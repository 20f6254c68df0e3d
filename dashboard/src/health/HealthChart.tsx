import type { Bucket } from './health';
import { clock, ms } from '../ui/format';

const W = 240;
const H = 60;
const BAR = W / 24;

/** The time axis under a chart: HTML, so that the labels keep their size when the chart stretches. */
function Axis({ top }: { top?: string }) {
  return (
    <div className="chart-axis" aria-hidden="true">
      <span>24 h ago</span>
      {top && <span className="chart-top">max {top}</span>}
      <span>now</span>
    </div>
  );
}

/** Attempts per hour over the last 24 hours: green for 2xx, red for the rest. */
export function AttemptsChart({ buckets, label }: { buckets: Bucket[]; label: string }) {
  const max = Math.max(1, ...buckets.map((b) => b.ok + b.bad));
  return (
    <>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        {buckets.map((b, i) => {
          const total = b.ok + b.bad;
          const hOk = (b.ok / max) * (H - 2);
          const hBad = (b.bad / max) * (H - 2);
          const x = i * BAR + 1;
          return (
            <g key={b.start}>
              <title>{`${clock(new Date(b.start).toISOString())}: ${total} requests, ${b.bad} failed`}</title>
              <rect x={x} y={0} width={BAR - 2} height={H} className="bar-track" />
              {hOk > 0 && <rect x={x} y={H - hOk} width={BAR - 2} height={hOk} className="bar-ok" />}
              {hBad > 0 && <rect x={x} y={H - hOk - hBad} width={BAR - 2} height={hBad} className="bar-bad" />}
            </g>
          );
        })}
      </svg>
      <Axis top={`${max}/h`} />
    </>
  );
}

/** Latency per hour: p50 and p95 lines (a lone hour is a short dash). */
export function LatencyChart({ buckets, label }: { buckets: Bucket[]; label: string }) {
  const max = Math.max(1, ...buckets.map((b) => b.p95 ?? 0));
  const y = (v: number) => H - (v / max) * (H - 4) - 2;
  const path = (pick: (b: Bucket) => number | null) => {
    let d = '';
    buckets.forEach((b, i) => {
      const v = pick(b);
      if (v === null) return;
      const x = i * BAR + BAR / 2;
      const prev = i > 0 ? pick(buckets[i - 1]!) : null;
      const next = i < buckets.length - 1 ? pick(buckets[i + 1]!) : null;
      if (prev === null && next === null) d += `M${x - BAR * 0.35},${y(v)} L${x + BAR * 0.35},${y(v)} `;
      else d += `${prev === null ? 'M' : 'L'}${x},${y(v)} `;
    });
    return d.trim();
  };
  return (
    <>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        {buckets.map((b, i) => (
          <rect key={b.start} x={i * BAR + 1} y={0} width={BAR - 2} height={H} className="bar-track" />
        ))}
        <path d={path((b) => b.p95)} className="line-p95" />
        <path d={path((b) => b.p50)} className="line-p50" />
      </svg>
      <Axis top={ms(max)} />
    </>
  );
}
