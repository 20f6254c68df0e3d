import { TopicSchemas, type DataValidator } from '../domain/topic-schema.js';
import type { AdminStore, TopicRecord } from '../store/store.js';

/** How long a topic read from the store is trusted: a change made on another node reaches this one's publishes within it. */
export const TOPIC_TTL_MS = 5_000;

/**
 * Topics are checked on every publish (name in the catalog, data against the schema); a cache
 * keeps that off the database. A change made through this node's API is seen at once
 * (forget); one made on another node sharing the database within TOPIC_TTL_MS, when the entry
 * is read again. Compiled schema validators are kept per topic and schema version.
 */
export class TopicCache {
  private readonly known = new Map<string, { topic: TopicRecord; readAt: number }>();
  private readonly schemas = new TopicSchemas();

  constructor(
    private readonly store: Pick<AdminStore, 'getTopic'>,
    private readonly ttlMs = TOPIC_TTL_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(name: string): Promise<TopicRecord | null> {
    const now = this.clock();
    const hit = this.known.get(name);
    if (hit && now - hit.readAt < this.ttlMs) return hit.topic;
    const topic = await this.store.getTopic(name);
    if (topic) this.known.set(name, { topic, readAt: now });
    else this.known.delete(name);
    return topic;
  }

  /** The compiled validator of a topic's schema, or null when it has none. */
  validator(topic: TopicRecord): DataValidator | null {
    if (topic.schema == null) return null;
    return this.schemas.validator(topic.name, topic.schemaVersion ?? 0, topic.schema);
  }

  forget(name: string): void {
    this.known.delete(name);
    this.schemas.forget(name);
  }
}
