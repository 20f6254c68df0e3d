// Typical Nector payloads: `walletreward_create` ("Wallet Coins Rewarded") data as Nector
// sends it (see src/domain/topics.ts for the catalog's sample), varied per event so that no
// two bodies are the same, plus `sent_at`, the publisher's high-resolution wall-clock stamp
// that the receiver turns into publish-to-receipt latency.
//
// The body a receiver gets is about 500 bytes: this data (~440 bytes) plus the
// `business_name` and `business_uri` that Herald adds from the workspace.

export const TOPIC = 'walletreward_create';

/** The name and uri of the workspaces of the sharded layouts (Herald adds them to each body). */
export const shopName = (i: number) => `Bench Shop ${i}`;
export const shopUri = (i: number) => `https://shop${i}.bench.example`;

export const wallNow = (): number => performance.timeOrigin + performance.now();

function uuid(seq: number, salt: number): string {
  const hex = ((seq * 2654435761 + salt * 40503) >>> 0).toString(16).padStart(8, '0');
  const hex2 = ((seq * 40503 + salt * 2246822519) >>> 0).toString(16).padStart(8, '0');
  return `${hex}-${hex2.slice(0, 4)}-4${hex2.slice(4, 7)}-a${hex.slice(0, 3)}-${hex2}${hex.slice(4, 8)}`;
}

/** The data of one `walletreward_create` event; `sent_at` is set when it is sent. */
export function walletReward(seq: number): Record<string, unknown> {
  const amount = 50 + (seq % 20) * 25;
  return {
    id: uuid(seq, 1),
    lead_id: uuid(seq % 5000, 2),
    customer_id: String(7723901884523 + (seq % 5000)),
    name: 'Priya Raman',
    metadetail: { email: 'priya.raman@example.com', mobile: '+14155550142', country: 'usa', dob: '1991-06-14' },
    referral_code: 'PRIYA7K2Q',
    title: 'Order Reward',
    description: `Coins for order #${1047 + seq}`,
    amount,
    operation: 'cr',
    type: 'order',
    hash: `order-${1047 + seq}-reward`,
    status: 'pending',
    wallet: { available: 1000 + amount },
    pending: amount,
    created_at: new Date(Date.UTC(2026, 2, 14, 9, 42, 17) + seq * 1000).toISOString(),
    seq,
    sent_at: 0,
  };
}

/** What Herald sends for `data` from a workspace with this name and uri (the baseline sends the same bytes). */
export function deliveredBody(data: Record<string, unknown>, businessName: string, businessUri: string): string {
  return JSON.stringify({ ...data, business_name: businessName, business_uri: businessUri });
}
