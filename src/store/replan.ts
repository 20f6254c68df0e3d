// Publishing is planned before its transaction (planPublish, src/domain/publish-plan.ts), so
// that building bodies and matching filters holds no lock. The transaction then checks that
// the workspaces and webhooks it planned with are still as they were; when one changed, it
// throws StalePlan and the publish is read and planned again.

/** Thrown inside a write transaction whose plan was made from state that has changed since. */
export class StalePlan extends Error {
  constructor() {
    super('a workspace or webhook changed while the publish was planned');
  }
}

/** More than this many changes in a row fail the publish rather than loop. */
const MAX_PLANS = 20;

/** Runs `attempt` (read, plan, write) until it does not throw StalePlan. */
export async function withReplan<T>(attempt: () => Promise<T>): Promise<T> {
  for (let plans = 1; ; plans++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof StalePlan) || plans >= MAX_PLANS) throw err;
    }
  }
}
