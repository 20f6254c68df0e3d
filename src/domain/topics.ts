// The built-in event catalog (contract section 3): the webhook topics that Nector sends,
// spelled exactly as Nector spells them (including `wallettrasaction_update`), with the
// dashboard's label, a one-line description and a sample `data` object for test deliveries.
//
// The samples tell one customer's story: Priya signs up in January, earns coins on an order
// in March, reaches the silver tier, spends coins on a coupon and refers Daniel in April.
// They carry no `business_name` / `business_uri`: Herald adds those from the workspace.

export interface Topic {
  name: string;
  label: string;
  description: string;
  sample: Record<string, unknown>;
}

/** A topic name: what `POST /api/v1/topics` accepts. */
export const TOPIC_NAME_PATTERN = /^[a-z0-9_.:-]{1,128}$/;

// Ids of the story (UUIDv4). `customer_id` and `product_id` are the shop's own ids.
const PRIYA_LEAD_ID = '3f6c9a2e-8b1d-4e57-a9c3-5d2f7b8e1a64';
const DANIEL_LEAD_ID = 'b81e4d07-2c95-4a3f-8e16-9d0c7a5f2b38';
const REWARD_TXN_ID = 'a4d2e9f1-6b3c-4f08-9e7a-1c5b8d2f6e93';
const REFERRAL_TXN_ID = '6a3e8c1d-9f4b-4d72-a8e5-1c7f3b9d0a26';
const COUPON_ID = 'c7f3a1b6-9e2d-4c85-b4f0-3a8e6d1c9b27';
const REFEREE_COUPON_ID = '2e9b6d3f-7a1c-4e58-8b4d-0f5c9a2e6d17';
const OFFER_ID = '4d0a7c2e-3b8f-4195-bc61-9e5d2a8f7c30';
const ORDER_ID = 'e2b9f4c8-1a7d-4d36-8f5e-0c3a9b7d2e61';
const ORDER_LINE_1_ID = '5d8a2f6c-3e1b-4a97-b2c4-8f0e6d3a1c75';
const ORDER_LINE_2_ID = '9a1c7e3f-6d4b-4e82-a5f9-2b8d0c6e4f13';
const REVIEW_ID = 'f6e3b1a9-4c7d-4b25-9d8e-7a2c5f0b3e86';
const REVIEW_REQUEST_ID = '1b7d4f9e-8c2a-4f63-b0d5-6e9a3c1f7b42';
const REFERRAL_ID = '8c4f1e7a-5b9d-4a20-9c6e-3f7b2d8a0e59';

const PRIYA_REFERRAL_CODE = 'PRIYA7K2Q';
const COFFEE_PRODUCT_ID = '8841023501';
const DRIPPER_PRODUCT_ID = '8841023577';

/** Priya's customer details, as they travel in every webhook that concerns her. */
function priya(): Record<string, unknown> {
  return {
    lead_id: PRIYA_LEAD_ID,
    customer_id: '7723901884523',
    name: 'Priya Raman',
    metadetail: {
      email: 'priya.raman@example.com',
      mobile: '+14155550142',
      country: 'usa',
      dob: '1991-06-14',
    },
    referral_code: PRIYA_REFERRAL_CODE,
  };
}

/** Daniel, the customer whom Priya referred. */
function daniel(): Record<string, unknown> {
  return {
    lead_id: DANIEL_LEAD_ID,
    customer_id: '7723901991207',
    name: 'Daniel Okafor',
    metadetail: {
      email: 'daniel.okafor@example.com',
      mobile: '+13125550187',
      country: 'usa',
      dob: '1988-11-02',
    },
    referral_code: 'DANIEL3M8X',
    referred_by_referral_code: PRIYA_REFERRAL_CODE,
  };
}

/** Priya as a lead record (lead_create / lead_update): her lead id is the record's `id`. */
function priyaLead(overrides: Record<string, unknown>): Record<string, unknown> {
  const { lead_id, ...rest } = priya();
  return { id: lead_id, ...rest, referred_by_referral_code: null, ...overrides };
}

function order(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: ORDER_ID,
    name: '#1047',
    created_at: '2026-03-14T09:41:52.000Z',
    currency: 'USD',
    total: 84.5,
    discount_total: 0,
    total_tax: 6.5,
    customer: { customer_id: '7723901884523', name: 'Priya Raman', email: 'priya.raman@example.com' },
    product_lines: [
      { id: ORDER_LINE_1_ID, product_id: COFFEE_PRODUCT_ID, name: 'Cold Brew Coffee 1L', quantity: 2, price: 18, discount: 0 },
      { id: ORDER_LINE_2_ID, product_id: DRIPPER_PRODUCT_ID, name: 'Ceramic Pour-Over Dripper', quantity: 1, price: 42, discount: 0 },
    ],
    discount_lines: [],
    ...overrides,
  };
}

function review(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: REVIEW_ID,
    ...priya(),
    reference_product_source: 'shopify',
    reference_product_id: COFFEE_PRODUCT_ID,
    rating: 5,
    description: 'Smooth, low in acid and strong enough to cut with milk. Reordering.',
    order_id: ORDER_ID,
    is_verified: true,
    is_featured: false,
    posted_at: '2026-03-21T18:07:44.000Z',
    ...overrides,
  };
}

function coupon(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: COUPON_ID,
    ...priya(),
    value: 'NECT-8K2Q-5TZW',
    fiat_class: 'fixed',
    fiat_value: 10,
    minimumcart_amount: 50,
    expire: '2026-06-27T23:59:59.000Z',
    status: 'issued',
    type: 'wallet_redemption',
    offer: { id: OFFER_ID, name: '$10 off for 1,000 coins', coin_amount: 1000 },
    ...overrides,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Nector's topics, the two most used first. Frozen, samples included: copy a sample
 * (e.g. `structuredClone`) before changing it.
 */
export const BUILTIN_TOPICS: readonly Topic[] = deepFreeze<Topic[]>([
  {
    name: 'walletreward_create',
    label: 'Wallet Coins Rewarded',
    description: 'Sent whenever wallet coins are rewarded to a customer.',
    sample: {
      id: REWARD_TXN_ID,
      ...priya(),
      title: 'Order Reward',
      description: 'Coins for order #1047',
      amount: 250,
      operation: 'cr',
      type: 'order',
      hash: 'order-1047-reward',
      status: 'pending',
      wallet: { available: 1250 },
      pending: 250,
      created_at: '2026-03-14T09:42:17.000Z',
    },
  },
  {
    name: 'coupon_create',
    label: 'Coupon Is Created',
    description: 'Sent whenever a coupon is created, e.g. when a customer spends wallet coins for a discount code.',
    sample: coupon({
      wallet: { available: 500 },
      created_at: '2026-03-29T11:15:03.000Z',
    }),
  },
  {
    name: 'lead_create',
    label: 'Customer Is Created',
    description: 'Sent whenever a customer is created.',
    sample: priyaLead({
      badge: 'bronze',
      tier: 'bronze',
      wallet: { available: 0 },
      pending: 0,
      created_at: '2026-01-08T16:20:05.000Z',
      updated_at: '2026-01-08T16:20:05.000Z',
    }),
  },
  {
    name: 'lead_update',
    label: 'Customer Is Updated',
    description: "Sent whenever a customer's details, tier or wallet are updated.",
    sample: priyaLead({
      badge: 'silver',
      tier: 'silver',
      wallet: { available: 1500 },
      pending: 0,
      created_at: '2026-01-08T16:20:05.000Z',
      updated_at: '2026-03-28T09:42:20.000Z',
    }),
  },
  {
    name: 'coupon_update',
    label: 'Coupon Is Updated',
    description: 'Sent whenever a coupon is updated, e.g. when it is used or expires.',
    sample: coupon({
      status: 'redeemed',
      created_at: '2026-03-29T11:15:03.000Z',
      updated_at: '2026-04-15T14:02:51.000Z',
    }),
  },
  {
    name: 'order_create',
    label: 'Order Is Created',
    description: 'Sent whenever an order is created.',
    sample: order({
      status: 'open',
      financial_status: 'paid',
      fulfillment_status: 'unfulfilled',
    }),
  },
  {
    name: 'order_update',
    label: 'Order Is Updated',
    description: 'Sent whenever an order is updated, e.g. when it is fulfilled or refunded.',
    sample: order({
      status: 'closed',
      financial_status: 'paid',
      fulfillment_status: 'fulfilled',
      updated_at: '2026-03-17T15:30:09.000Z',
    }),
  },
  {
    name: 'wallettrasaction_update',
    label: 'Wallet Transaction Is Updated',
    description: 'Sent whenever a wallet transaction is updated, e.g. when pending coins become available.',
    sample: {
      id: REWARD_TXN_ID,
      ...priya(),
      title: 'Order Reward',
      description: 'Coins for order #1047',
      amount: 250,
      operation: 'cr',
      type: 'order',
      hash: 'order-1047-reward',
      status: 'available',
      wallet: { available: 1500 },
      pending: 0,
      created_at: '2026-03-14T09:42:17.000Z',
      updated_at: '2026-03-28T09:42:18.000Z',
    },
  },
  {
    name: 'review_create',
    label: 'Review Is Created',
    description: 'Sent whenever a customer posts a product review.',
    sample: review({
      created_at: '2026-03-21T18:07:44.000Z',
    }),
  },
  {
    name: 'review_update',
    label: 'Review Is Updated',
    description: 'Sent whenever a product review is updated, e.g. when it is featured or edited.',
    sample: review({
      is_featured: true,
      created_at: '2026-03-21T18:07:44.000Z',
      updated_at: '2026-03-23T10:26:12.000Z',
    }),
  },
  {
    name: 'viptier_create',
    label: 'VIP Tier Changed',
    description: "Sent whenever a customer's VIP tier changes.",
    sample: {
      ...priya(),
      previous_tier: 'bronze',
      tier: 'silver',
      badge: 'silver',
      lifetime_coins: 1500,
      wallet: { available: 1500 },
      created_at: '2026-03-28T09:42:19.000Z',
    },
  },
  {
    name: 'reviewrequest_create',
    label: 'Review Request',
    description: 'Sent when a customer should be asked to review the products of an order.',
    sample: {
      id: REVIEW_REQUEST_ID,
      ...priya(),
      order_id: ORDER_ID,
      order_name: '#1047',
      product_lines: [
        { product_id: COFFEE_PRODUCT_ID, name: 'Cold Brew Coffee 1L', reference_product_source: 'shopify' },
        { product_id: DRIPPER_PRODUCT_ID, name: 'Ceramic Pour-Over Dripper', reference_product_source: 'shopify' },
      ],
      reward_amount: 50,
      created_at: '2026-03-20T09:00:00.000Z',
    },
  },
  {
    name: 'incompletereferralrequest_create',
    label: 'Incomplete Referral Reminder',
    description: 'Sent to remind a referred customer who has not finished signing up.',
    sample: {
      id: REFERRAL_ID,
      name: 'Daniel Okafor',
      metadetail: { email: 'daniel.okafor@example.com', mobile: '+13125550187', country: 'usa' },
      referred_by_lead_id: PRIYA_LEAD_ID,
      referred_by_referral_code: PRIYA_REFERRAL_CODE,
      referred_by_name: 'Priya Raman',
      offer: { fiat_class: 'percent', fiat_value: 15, minimumcart_amount: 30 },
      created_at: '2026-04-02T08:30:00.000Z',
    },
  },
  {
    name: 'unusedcouponrequest_create',
    label: 'Unused Coupon Reminder',
    description: 'Sent to remind a customer of a coupon that they have not used yet.',
    sample: coupon({
      created_at: '2026-04-12T09:00:00.000Z',
    }),
  },
  {
    name: 'unusedwalletcoinrequest_create',
    label: 'Unused Coins Reminder',
    description: 'Sent to remind a customer of wallet coins that they have not spent yet.',
    sample: {
      ...priya(),
      badge: 'silver',
      tier: 'silver',
      wallet: { available: 1000 },
      fiat_value: 10,
      currency: 'USD',
      created_at: '2026-05-01T09:00:00.000Z',
    },
  },
  {
    name: 'coinexpirynotify_create',
    label: 'Coin Expiry Notification',
    description: "Sent when some of a customer's wallet coins are about to expire.",
    sample: {
      ...priya(),
      amount: 250,
      expire: '2026-09-14T23:59:59.000Z',
      wallet: { available: 1000 },
      fiat_value: 2.5,
      currency: 'USD',
      created_at: '2026-09-07T09:00:00.000Z',
    },
  },
  {
    name: 'refereenotify_create',
    label: 'Referee Notification',
    description: 'Sent to a referred customer to tell them of their referral discount.',
    sample: {
      ...daniel(),
      referred_by_lead_id: PRIYA_LEAD_ID,
      referred_by_name: 'Priya Raman',
      coupon: {
        id: REFEREE_COUPON_ID,
        value: 'WELCOME-DAN15',
        fiat_class: 'percent',
        fiat_value: 15,
        minimumcart_amount: 30,
        expire: '2026-05-05T23:59:59.000Z',
        status: 'issued',
      },
      created_at: '2026-04-05T13:48:26.000Z',
    },
  },
  {
    name: 'referrernotify_create',
    label: 'Referrer Notification',
    description: 'Sent to the referring customer when a referral is completed.',
    sample: {
      ...priya(),
      referred_to_lead_id: DANIEL_LEAD_ID,
      referred_to_name: 'Daniel Okafor',
      transaction_id: REFERRAL_TXN_ID,
      amount: 500,
      operation: 'cr',
      title: 'Referral Reward',
      wallet: { available: 1000 },
      created_at: '2026-04-05T13:48:27.000Z',
    },
  },
]);
