import { condition, setCurrentDetails } from '@temporalio/workflow';
import { acts, book, type ClosureRun } from './context.js';

const BAD_RECEIPT = new Set(['failed', 'bounced', 'rejected', 'undeliverable']);

export const receiptOf = (result: unknown) => ((result as { receipt?: { id?: unknown } } | null)?.receipt?.id as string | undefined) ?? undefined;
export const statusUrlOf = (result: unknown) =>
  ((result as { receipt?: { status_url?: unknown } } | null)?.receipt?.status_url as string | undefined) ?? undefined;

/**
 * Waits for a node's delivery receipt: the stored one, else the callback within the timeout, else a
 * poll (stored receipts, then the receiver's status URL). A node with no receipt id is confirmed by
 * its plugin's status. Null when delivered; otherwise what is wrong.
 */
export async function awaitReceipt(
  run: ClosureRun,
  confirmedByPoll: Set<string>,
  node: string,
  token: string | undefined,
  timeoutS: number,
  statusUrl?: string,
): Promise<string | null> {
  const { input, callbacks } = run;
  if (!token) {
    const def = input.nodes[node];
    const plugin = def ? input.actions?.[def.action]?.plugin : undefined;
    if (!plugin) return `node '${node}' produced no receipt id`;
    const st = await acts.pollPlugin({ plugin, idempotencyKey: def!.idempotency_key, tenant: input.tenant });
    return st.status === 'succeeded' ? null : `plugin '${plugin}' reports ${st.status} for node '${node}'`;
  }
  const stored = (await book.receiptStatus({ tokens: [token] }))[token];
  if (stored) callbacks.set(token, stored.result);
  if (!callbacks.has(token)) {
    setCurrentDetails(`closure ${run.rule.id}: waiting up to ${timeoutS}s for the receipt of '${node}'`);
    await condition(() => callbacks.has(token), Math.min(timeoutS * 1000, run.remainingMs()), { summary: `receipt ${node}: callback timeout` });
  }
  if (!callbacks.has(token)) {
    // poll: the stored receipts (one may have come while nobody listened), then the receiver's status URL
    const polled = (await book.receiptStatus({ tokens: [token] }))[token];
    if (polled) callbacks.set(token, polled.result);
    else if (statusUrl) {
      const st = await acts.pollReceipt({ url: statusUrl, tenant: input.tenant });
      if (st.status !== 'pending') callbacks.set(token, { status: st.status });
    }
    if (callbacks.has(token)) confirmedByPoll.add(node);
  }
  if (!callbacks.has(token)) return `no receipt for '${node}' within ${timeoutS}s (callback, then poll)`;
  const status = String((callbacks.get(token) as { status?: unknown } | null)?.status ?? 'delivered');
  return BAD_RECEIPT.has(status) ? `the receipt for '${node}' says ${status}` : null;
}
