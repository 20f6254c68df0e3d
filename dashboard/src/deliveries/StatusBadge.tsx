import type { Delivery, DeliveryStatus } from '../api/types';

const TONE: Record<DeliveryStatus, string> = { succeeded: 'green', failed: 'red', pending: 'amber', cancelled: 'gray' };
const TEXT: Record<DeliveryStatus, string> = { succeeded: 'Succeeded', failed: 'Failed', pending: 'Pending', cancelled: 'Cancelled' };

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return <span className={`badge badge-${TONE[status]}`}>{TEXT[status]}</span>;
}

/** "200", "503", "timeout …": what the last attempt got. */
export function lastResult(d: Pick<Delivery, 'last_status_code' | 'last_error' | 'attempts' | 'status'>): string {
  if (d.attempts === 0) return d.status === 'pending' ? 'Waiting for the first attempt' : 'Not attempted';
  if (d.last_status_code !== null && d.last_error) {
    return d.last_error.includes(String(d.last_status_code)) ? d.last_error : `HTTP ${d.last_status_code} · ${d.last_error}`;
  }
  if (d.last_status_code !== null) return `HTTP ${d.last_status_code}`;
  return d.last_error ?? '';
}
