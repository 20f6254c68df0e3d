const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' });
const tf = new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const hm = new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

export function timeAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 5) return 'just now';
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function dateTime(iso: string | null): string {
  return iso ? dtf.format(new Date(iso)) : '';
}

export function clock(iso: string | null): string {
  return iso ? tf.format(new Date(iso)) : '';
}

/** "12 s", "2 min", "3 h", "2 days": a wait, rounded for reading. */
export function duration(msLeft: number): string {
  const s = Math.max(1, Math.round(msLeft / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  const days = Math.round(s / 86400);
  return `${days} ${days === 1 ? 'day' : 'days'}`;
}

/** "next try in 2 min, at 10:42": when a failed delivery is tried again. */
export function nextTry(iso: string | null, now = Date.now()): string {
  if (!iso) return 'next try soon';
  const wait = Date.parse(iso) - now;
  if (wait < 1000) return 'next try now';
  return wait < 60_000 ? `next try in ${duration(wait)}` : `next try in ${duration(wait)}, at ${hm.format(new Date(iso))}`;
}

export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n < 1000) return `${Math.round(n)} ms`;
  return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

export function percent(x: number | null): string {
  if (x === null) return '–';
  const p = x * 100;
  return `${p.toFixed(1).replace(/\.0$/, '')}%`;
}

/** "2026-04-01T10:00" in local time, for <input type="datetime-local">. */
export function localInputValue(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === '/' ? '' : u.pathname);
  } catch {
    return url;
  }
}
