import type { Config } from './config.js';
import type { Store } from './store/store.js';
import type { Publisher } from './publish/publisher.js';
import type { TopicCache } from './publish/topic-cache.js';
import type { AttemptRunner } from './delivery/attempt.js';
import type { SecretBox } from './domain/secret-box.js';
import type { Metrics } from './metrics.js';

export { TopicCache } from './publish/topic-cache.js';

/** What the API needs of the rest of Herald, built in herald.ts and passed in. */
export interface Services {
  config: Config;
  store: Store;
  adminKeyHash: string;
  publisher: Publisher;
  /** Makes the attempts of test sends (src/delivery/test-send.ts). */
  runner: AttemptRunner;
  secrets: SecretBox;
  topics: TopicCache;
  metrics: Metrics;
  /** Tells local workers that deliveries are due now. */
  wakeWorkers(): void;
}
