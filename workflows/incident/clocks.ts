// An incident's durable clocks: the acknowledge and resolve SLAs, and the paging steps while escalated.
import { condition, proxyActivities } from '@temporalio/workflow';
import type { CoreActivities } from '../../activities/types.js';
import type { IncidentInput } from '../../contracts/incident.js';
import type { IncidentBook } from './state.js';

const pager = proxyActivities<CoreActivities>({ startToCloseTimeout: '60s', retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3 } });

// SLA clocks run from the moment the incident opened, across continue-as-new
const sinceOpened = (b: IncidentBook) => Date.now() - Date.parse(b.s.opened_at);

/** Acknowledge SLA: still open when it runs out → escalate. */
export async function ackClock(b: IncidentBook, ackSla: number): Promise<void> {
  if (b.s.status !== 'open') return;
  const acted = await condition(() => b.s.status !== 'open', Math.max(0, ackSla * 1000 - sinceOpened(b)), { summary: `ack SLA ${ackSla}s (${b.s.severity})` });
  if (!acted) b.apply('escalate', { by: 'system', reason: `not acknowledged within the ack SLA of ${ackSla}s` });
}

/** Resolve SLA: an incident still investigating when it runs out escalates; a breach is recorded either way. */
export async function resolveClock(b: IncidentBook, resolveSla: number | undefined): Promise<void> {
  if (resolveSla === undefined || b.resolveBreached) return;
  const done = await condition(() => b.s.status === 'resolved', Math.max(0, resolveSla * 1000 - sinceOpened(b)), {
    summary: `resolve SLA ${resolveSla}s (${b.s.severity})`,
  });
  if (done) return;
  b.resolveBreached = true;
  b.log('sla_breached', null, null, 'system', { sla: 'resolve', seconds: resolveSla });
  if (b.s.status === 'investigating') b.apply('escalate', { by: 'system', reason: `not resolved within the resolve SLA of ${resolveSla}s` });
  else b.persist();
}

/**
 * Escalation steps: page while escalated; leaving `escalated` (acknowledge, investigate, resolve)
 * cancels pending steps. Each escalation starts a new paging epoch; a continued incident that is
 * still escalated picks the steps up where the previous run left them.
 */
export async function pagingLoop(b: IncidentBook, input: IncidentInput): Promise<void> {
  const s = b.s;
  const resumed = input.resume;
  let handled = !resumed ? 0 : s.status === 'escalated' ? s.escalation_level - 1 : s.escalation_level;
  let resumeAt = resumed && s.status === 'escalated' && b.escalatedAt ? (Date.now() - Date.parse(b.escalatedAt)) / 1000 : -1;
  for (;;) {
    await condition(() => s.escalation_level > handled || s.status === 'resolved');
    if (s.status === 'resolved') return;
    handled = s.escalation_level;
    // steps due before the continue-as-new were paged by the previous run
    await pageEpoch(b, input, handled, Math.max(0, resumeAt), resumeAt);
    resumeAt = -1;
  }
}

async function pageEpoch(b: IncidentBook, input: IncidentInput, epoch: number, from: number, done: number): Promise<void> {
  const s = b.s;
  const policy = input.policy;
  const stillPaging = () => s.status === 'escalated' && s.escalation_level === epoch;
  let elapsed = from;
  for (let round = 0; round <= policy.repeat && stillPaging(); round++) {
    for (const step of policy.steps) {
      const at = round * policy.repeat_interval + step.after;
      if (at > elapsed) {
        const interrupted = await condition(() => !stillPaging(), (at - elapsed) * 1000, { summary: `escalation step in ${at - elapsed}s` });
        elapsed = at;
        if (interrupted) break;
      }
      if (!stillPaging()) break;
      if (at <= done) continue;
      for (const n of step.notify) await page(b, epoch, round, step.after, n);
    }
  }
}

async function page(b: IncidentBook, epoch: number, round: number, after: number, n: { role: string; channel: 'email' | 'im' | 'webhook' }): Promise<void> {
  const s = b.s;
  const message = `[${s.severity}] ${s.title} — incident ${s.id} is ${s.status} (escalation level ${s.escalation_level}${round ? `, repeat ${round}` : ''}). Acknowledge: POST /v1/incidents/${encodeURIComponent(s.id)}/acknowledge`;
  b.paging++;
  try {
    const r = await pager.notify({
      channel: n.channel,
      to: [n.role],
      subject: `Incident ${s.status}: ${s.title}`,
      message,
      tenant: s.tenant,
      executionId: s.id,
      task: 'escalation',
      receiptToken: `${s.run_id}-${epoch}-${round}-${n.role}`.slice(0, 200),
      idempotencyKey: `${s.id}:${s.run_id}:${epoch}:${round}:${after}:${n.role}`,
    });
    b.log('paged', null, null, 'system', { role: n.role, channel: n.channel, round, to: r.receipt.to });
  } catch (err) {
    b.log('page_failed', null, null, 'system', { role: n.role, channel: n.channel, round, error: (err as Error).message });
  } finally {
    b.paging--;
  }
  b.persist();
}
