// Hanging receivers with several worker processes on one PostgreSQL: each worker holds the
// hanging webhooks' due deliveries back (Store.holdWebhooks), and the workers' claims, holds
// and records meet on the same rows without waiting for each other into a deadlock (which PostgreSQL would break by failing one of
// them: an error in a node's log, and the deliveries of a failed record attempted again).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver } from '../helpers/receiver.js';
import { sleep } from '../helpers/herald.js';
import { Cluster, multinodeSuite, until, webhook, workspace } from './cluster.js';

const HANGING = 40;
const ROUNDS = 8;
const HEALTHY_PER_ROUND = 5;

await multinodeSuite('hanging receivers on several workers', () => {
  it(`2 workers, ${HANGING} hanging webhooks beside a healthy one: every healthy event arrives once, without a deadlock or an error`, { timeout: 120_000 }, async () => {
    const cluster = new Cluster();
    // /hang/… never answers; the rest answers at once.
    const receiver = await Receiver.start((seen) => (seen.path.startsWith('/hang/') ? { hang: true } : { status: 200 }));
    try {
      // Few slots and a short time limit: the hanging webhooks outnumber what the workers let them hold.
      await cluster.startAll(2, { HERALD_DELIVERY_TIMEOUT_MS: '1000', HERALD_WORKER_CONCURRENCY: '16' });
      const bad = await workspace(cluster.api, 'bad');
      for (let i = 0; i < HANGING; i++) await webhook(cluster.api, bad, { url: receiver.at(`/hang/${i}`) });
      const good = await workspace(cluster.api, 'good');
      await webhook(cluster.api, good, { url: receiver.at('/ok') });
      const publish = (ws: string, n: number) =>
        cluster.api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
          events: Array.from({ length: n }, (_, i) => ({ topic: 'walletreward_create', data: { customer_id: String(i), amount: 1 } })),
        });

      let healthy = 0;
      for (let round = 0; round < ROUNDS; round++) {
        assert.equal((await publish(bad, 1)).status, 202);
        assert.equal((await publish(good, HEALTHY_PER_ROUND)).status, 202);
        healthy += HEALTHY_PER_ROUND;
        await sleep(400);
      }
      await until(() => receiver.count('/ok') >= healthy, 60_000, () => `${receiver.count('/ok')} of ${healthy} healthy deliveries received`);

      const ids = receiver.received('/ok').map((r) => r.id);
      assert.equal(ids.length, healthy);
      assert.equal(new Set(ids).size, healthy, 'no healthy delivery arrived twice');
      const [counts] = await cluster.query(
        `SELECT count(*)::int AS deliveries, coalesce(sum(attempts), 0)::int AS attempts FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.workspace_id = $1`,
        [bad],
      );
      assert.equal(counts.deliveries, HANGING * ROUNDS, 'every hanging delivery is kept');
      for (const node of cluster.nodes) assert.doesNotMatch(node.output(), /"level":(50|60)/, `no errors logged by a ${node.role} node`);
    } finally {
      await cluster.close();
      await receiver.close();
    }
  });
});
