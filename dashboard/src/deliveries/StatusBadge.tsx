import type { Delivery, DeliveryStatus, Webhook } from '../api/types';
import { nextTry } from '../ui/format';

const TONE: Record<DeliveryStatus, string> = { succeeded: 'green', failed: 'red', pending: 'amber', cancelled: 'gray' };
const TEXT: Record<DeliveryStatus, string> = { succeeded: 'Succeeded', failed: 'Failed', pending: 'Pending', cancelled: 'Cancelled' };

type Summary = Pick<Delivery, 'last_status_code' | 'last_error' | 'attempts' | 'status' | 'next_attempt_at'>;

/** A pending delivery that was already tried has failed at least once and waits for its next try. */
export const isRetrying = (d: Pick<Delivery, 'status' | 'attempts'>) => d.status === 'pending' && d.attempts > 0;

/**
 * A delivery that is queued but not due (pending with no next attempt time: CONTRACT §7): its
 * webhook is paused, or it is fifo and the earlier deliveries go first.
 */
export const isWaiting = (d: Pick<Delivery, 'status' | 'next_attempt_at'>) => d.status === 'pending' && d.next_attempt_at === null;

/** Why a queued delivery is not being sent, in the page's words; null when it is not waiting. */
export function waitingReason(d: Pick<Delivery, 'status' | 'next_attempt_at'>, webhook: Pick<Webhook, 'paused'> | undefined): string | null {
  if (!isWaiting(d)) return null;
  return webhook?.paused ? 'Waiting — the webhook is paused' : 'Waiting for the earlier ones';
}

/** "Succeeded", "Failed", "Pending"; "Retrying" once an attempt failed and another is planned; "Waiting" while held. */
export function StatusBadge({ delivery: d }: { delivery: Pick<Delivery, 'status' | 'attempts' | 'next_attempt_at'> }) {
  if (isWaiting(d)) return <span className="badge badge-gray">Waiting</span>;
  if (isRetrying(d)) return <span className="badge badge-amber">Retrying</span>;
  return <span className={`badge badge-${TONE[d.status]}`}>{TEXT[d.status]}</span>;
}

/** "HTTP 503", "timeout …": what the last attempt got. */
function lastAnswer(d: Summary): string {
  if (d.last_status_code !== null && d.last_error) {
    return d.last_error.includes(String(d.last_status_code)) ? d.last_error : `HTTP ${d.last_status_code} · ${d.last_error}`;
  }
  if (d.last_status_code !== null) return `HTTP ${d.last_status_code}`;
  return d.last_error ?? 'no answer';
}

/** What the last attempt got, and for a delivery being retried, when the next try is. */
export function lastResult(d: Summary, now = Date.now()): string {
  if (d.attempts === 0) return d.status === 'pending' ? 'Waiting for the first attempt' : 'Not attempted';
  if (isRetrying(d)) return `Failed (${lastAnswer(d)}) — ${nextTry(d.next_attempt_at, now)}`;
  return lastAnswer(d);
}
