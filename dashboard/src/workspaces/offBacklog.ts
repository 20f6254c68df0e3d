// The events that arrived while Status (webhooks_enabled) was off: they were kept with no
// deliveries (CONTRACT §7), and bulk replay sends them now. The page finds them without a
// count endpoint: the newest events, back to the last one that was delivered before the switch.
import type { Api } from '../api/client';
import type { Webhook } from '../api/types';

/** How far back the page looks (pages of 500 events); beyond that it says "more than". */
const MAX_PAGES = 4;

export interface OffBacklog {
  /** Events of a topic that a webhook of the workspace is for, kept while Status was off. */
  count: number;
  /** True when there may be more than `count` (the page stopped looking). */
  more: boolean;
  /** The replay window: from the first event kept while off to the moment Status went on. */
  since: string;
  until: string;
}

/**
 * The events published before `switchedOn` with no deliveries, newest first, back to the first
 * one that was delivered (webhooks were on then). Only events that a webhook could get count.
 */
export async function findOffBacklog(api: Api, ws: string, webhooks: Webhook[], switchedOn: string): Promise<OffBacklog | null> {
  const until = Date.parse(switchedOn);
  const topics = new Set(webhooks.filter((w) => w.enabled).map((w) => w.topic));
  let since: string | null = null;
  let count = 0;
  let cursor: string | null = null;
  const found = (more: boolean): OffBacklog | null => (count === 0 || since === null ? null : { count, more, since, until: switchedOn });
  for (let page = 0; page < MAX_PAGES; page++) {
    const { data, next_cursor } = await api.listEvents(ws, '', 500, cursor);
    for (const e of data) {
      if (Date.parse(e.created_at) >= until) continue;
      if (e.deliveries > 0) return found(false);
      since = e.created_at;
      if (topics.has(e.topic)) count++;
    }
    if (!next_cursor) return found(false);
    cursor = next_cursor;
  }
  return found(true);
}
