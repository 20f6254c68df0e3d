// A fifo webhook (CONTRACT §7) served by several worker processes on one PostgreSQL: its
// deliveries arrive one at a time, in publish order, and a worker SIGKILLed mid-run does not
// break that order. At least once: the delivery a killed worker had in flight may arrive again
// (its claim comes back when the lease ends), but no event ever first arrives before an
// earlier one.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, type RecordedRequest } from '../helpers/receiver.js';
import { Cluster, multinodeSuite, publishMany, until, webhook, workspace, type HeraldNode } from './cluster.js';

const PATH = '/fifo';

await multinodeSuite('a fifo webhook on several worker processes', () => {
  const n = (r: RecordedRequest) => (JSON.parse(r.body) as { n: number }).n;

  /** The events in the order they first arrived (repeats of one delivery dropped). */
  function firstReceipts(receiver: Receiver): number[] {
    const seen = new Set<string>();
    return receiver.received(PATH).filter((r) => !seen.has(r.id) && seen.add(r.id)).map(n);
  }

  /** No request started before the previous one had been answered (or its worker died). */
  function oneAtATime(receiver: Receiver): void {
    const requests = receiver.received(PATH);
    for (let i = 1; i < requests.length; i++) {
      const before = requests[i - 1]!;
      assert.ok(before.endedAt !== null && before.endedAt <= requests[i]!.receivedAt, `request ${i} (event ${n(requests[i]!)}) overlapped the one before`);
    }
  }

  async function allSucceeded(cluster: Cluster, count: number): Promise<void> {
    await until(
      async () => Number((await cluster.query(`SELECT count(*) AS n FROM deliveries WHERE status = 'succeeded'`))[0].n) === count,
      90_000,
      () => 'deliveries still not succeeded',
    );
  }

  it('two workers deliver a fifo webhook one at a time, in publish order, with its head failing twice', { timeout: 120_000 }, async () => {
    const EVENTS = 150;
    const cluster = new Cluster();
    const receiver = await Receiver.start();
    try {
      await cluster.startAll(2);
      const ws = await workspace(cluster.api, 'ordered');
      await webhook(cluster.api, ws, { url: receiver.at(PATH), ordering: 'fifo' });
      // The head fails twice (retried after 200 and 400 ms): the rest wait behind it.
      receiver.enqueue({ status: 500 }, { status: 500 });
      receiver.setDefault({ delayMs: 5 });
      await publishMany(cluster.api, ws, 'walletreward_create', EVENTS / 2, 'a');
      // A second batch, published while the first is being delivered, goes after all of it.
      for (let i = EVENTS / 2; i < EVENTS; i++) {
        const res = await cluster.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { n: i } });
        assert.equal(res.status, 202, res.text);
      }
      await allSucceeded(cluster, EVENTS);

      assert.deepEqual(receiver.received(PATH).slice(0, 3).map(n), [0, 0, 0], 'the head, twice failed, then delivered');
      assert.deepEqual(firstReceipts(receiver), Array.from({ length: EVENTS }, (_, i) => i), 'publish order');
      assert.equal(receiver.count(PATH), EVENTS + 2, "each once, and the head's two retries");
      oneAtATime(receiver);
    } finally {
      await cluster.close();
      await receiver.close();
    }
  });

  it('a worker SIGKILLed while it holds the turn: the order is kept; only its head may come again', { timeout: 150_000 }, async (t) => {
    const EVENTS = 120;
    const cluster = new Cluster();
    const receiver = await Receiver.start();
    try {
      await cluster.startAll(2);
      const ws = await workspace(cluster.api, 'killed');
      await webhook(cluster.api, ws, { url: receiver.at(PATH), ordering: 'fifo' });
      receiver.setDefault({ delayMs: 10 });
      await publishMany(cluster.api, ws, 'walletreward_create', EVENTS, 'kill');

      /** Waits for a request in flight (answered slowly meanwhile), kills `victim`, then answers fast again. */
      async function killDuringAnAttempt(victim: HeraldNode): Promise<void> {
        receiver.setDefault({ delayMs: 2000 });
        await until(() => receiver.received(PATH).some((r) => r.endedAt === null), 30_000, () => 'a request in flight');
        assert.equal(await victim.kill('SIGKILL'), 'SIGKILL');
        receiver.setDefault({ delayMs: 10 });
      }

      const [first, second] = cluster.nodes.filter((node) => node.role === 'worker');
      await until(() => receiver.count(PATH) >= 20, 60_000, () => `${receiver.count(PATH)} received`);
      await killDuringAnAttempt(first!);
      // The second is now the only worker, so the request in flight when it is killed is its own:
      // that claim is lost with it and comes back, still first, once its lease ends.
      const atSecondKill = receiver.count(PATH) + 20;
      await until(() => receiver.count(PATH) >= atSecondKill, 60_000, () => `${receiver.count(PATH)} received`);
      await killDuringAnAttempt(second!);
      await cluster.start('worker');
      await allSucceeded(cluster, EVENTS);

      const repeats = receiver.count(PATH) - EVENTS;
      t.diagnostic(`${receiver.count(PATH)} requests for ${EVENTS} events: ${repeats} repeated after the kills`);
      assert.deepEqual(firstReceipts(receiver), Array.from({ length: EVENTS }, (_, i) => i), 'no event first arrived before an earlier one');
      assert.ok(repeats >= 1 && repeats <= 2, `${repeats} repeats: at most the two killed workers' heads`);
      for (const id of receiver.duplicates()) {
        const times = receiver.received(PATH).filter((r) => r.id === id);
        const next = receiver.received(PATH)[times[0]!.index + 1];
        assert.ok(next === undefined || next.id === id, 'a repeat comes straight after the attempt that was lost, before anything later');
      }
    } finally {
      await cluster.close();
      await receiver.close();
    }
  });
});
