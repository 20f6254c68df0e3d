// Fan-out's decisions, pure: the body a receiver gets (data plus the business fields it
// lacks) and whether a webhook's filter lets an event through. planPublish
// (publish-plan.ts) applies them to every event before a store writes it.
import { compileFilter, type Matcher } from './filter.js';
import { receiverBody } from './payload.js';
import type { Webhook, Workspace } from './records.js';

/** The decisions planning a publish needs (FanOut is the one Herald uses). */
export interface FanOutRules {
  /** `dataJson`, when given, is JSON.stringify(data), already made by the caller. */
  body(workspace: Workspace, data: Record<string, unknown>, dataJson?: string): { body: string; addedFields: string[] };
  matches(webhook: Webhook, body: string): boolean;
}

/** The exact bytes sent to receivers: data plus the business fields it lacks, and which those were. */
export function eventBody(workspace: Workspace, data: Record<string, unknown>, dataJson?: string): { body: string; addedFields: string[] } {
  return receiverBody(workspace, data, dataJson);
}

/**
 * The fan-out rules with caches: filters are compiled once per webhook version; a body is
 * parsed once however many webhooks look at it.
 */
export class FanOut implements FanOutRules {
  private readonly matchers = new Map<string, { version: number; matcher: Matcher | null }>();
  private lastBody: string | null = null;
  private lastParsed: unknown = null;

  body(workspace: Workspace, data: Record<string, unknown>, dataJson?: string): { body: string; addedFields: string[] } {
    return eventBody(workspace, data, dataJson);
  }

  matches(webhook: Webhook, body: string): boolean {
    const matcher = this.matcherFor(webhook);
    if (matcher === null) return true;
    if (body !== this.lastBody) {
      this.lastParsed = JSON.parse(body);
      this.lastBody = body;
    }
    return matcher(this.lastParsed);
  }

  private matcherFor(webhook: Webhook): Matcher | null {
    const cached = this.matchers.get(webhook.id);
    if (cached && cached.version === webhook.updatedAt) return cached.matcher;
    const empty = webhook.filter === null || Object.keys(webhook.filter).length === 0;
    // Filters were validated when saved; one that no longer compiles matches nothing.
    let matcher: Matcher | null = null;
    if (!empty) {
      try {
        matcher = compileFilter(webhook.filter);
      } catch {
        matcher = () => false;
      }
    }
    if (this.matchers.size > 100_000) this.matchers.clear();
    this.matchers.set(webhook.id, { version: webhook.updatedAt, matcher });
    return matcher;
  }
}

/** The data as published: the body without the fields Herald added. */
export function publishedData(body: string, addedFields: readonly string[]): Record<string, unknown> {
  const data = JSON.parse(body) as Record<string, unknown>;
  for (const field of addedFields) delete data[field];
  return data;
}
