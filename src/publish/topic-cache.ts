import type { AdminStore, TopicRecord } from '../store/store.js';

/** Topic names are checked on every publish; a cache keeps that off the database. */
export class TopicCache {
  private readonly known = new Map<string, TopicRecord>();
  constructor(private readonly store: Pick<AdminStore, 'getTopic'>) {}

  async get(name: string): Promise<TopicRecord | null> {
    const hit = this.known.get(name);
    if (hit) return hit;
    const topic = await this.store.getTopic(name);
    if (topic) this.known.set(name, topic);
    return topic;
  }

  forget(name: string): void {
    this.known.delete(name);
  }
}
