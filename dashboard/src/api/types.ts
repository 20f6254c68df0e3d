// The shapes of Herald's public API, as the server declares them: the typed client derives
// them from the JSON Schemas the routes answer with, so the dashboard cannot drift from them.
// Type-only: erased by Vite, nothing of the server is bundled.
import type { Delivery, Problem } from '../../../src/client/index.js';

export type {
  Attempt, Delivery, DeliveryDetail, Event, EventDetail, Me, Page, Topic, Webhook, WebhookInput, WebhookPatch, Workspace,
} from '../../../src/client/index.js';

export type DeliveryStatus = Delivery['status'];

/** One entry of a problem's `errors`: the field (`filter.amount.$gte`) and what is wrong with it. */
export type FieldError = NonNullable<Problem['errors']>[number];

// JSON values, for what the dashboard builds itself (a filter, a value typed in a row).
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
