// The package's public API for Node applications: embed Herald, or verify its webhooks.
export { createHerald, VERSION, type Herald, type HeraldOptions, type PublishedEvent } from './herald.js';
export { EventRejected, type EventInput } from './publish/event-input.js';
export { loadConfig, type Config } from './config.js';
export { verifyWebhook, WebhookVerificationError, type VerifyOptions } from './receiver/verify.js';
export { BUILTIN_TOPICS, type Topic } from './domain/topics.js';
export { HeraldClient, HeraldApiError, type ClientOptions } from './client/index.js';
