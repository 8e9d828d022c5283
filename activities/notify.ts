import { ApplicationFailure } from '@temporalio/activity';
import nodemailer, { type Transporter } from 'nodemailer';
import { routeFor, type EscalationConfig } from '../dsl/escalation.js';
import type { Store } from '../store/db.js';
import { callbacks } from '../store/schema.js';
import { httpRequest } from './http.js';
import type { Endpoints } from './reviews.js';
import type { NotifyInput, NotifyResult } from './types.js';

export interface NotifyDeps {
  store: Store;
  endpoints: () => Endpoints;
  escalation: () => EscalationConfig;
  publicUrl?: string;
}

const fail = (message: string, type = 'NotifyError') => ApplicationFailure.create({ type, message, nonRetryable: true });

/** An address, URL or role name → where to send on this channel (roles go through the routing of escalation.yaml). */
function resolveRecipients(deps: NotifyDeps, input: NotifyInput): string[] {
  const out: string[] = [];
  for (const to of input.to) {
    const literal = input.channel === 'email' ? to.includes('@') : /^https?:\/\//.test(to);
    if (literal) {
      out.push(to);
      continue;
    }
    const route = routeFor(deps.escalation(), input.tenant, to)?.[input.channel];
    if (!route)
      throw fail(
        `core.notify: no ${input.channel} route for '${to}' (not ${input.channel === 'email' ? 'an address' : 'a URL'}, and not a role in config/agent/escalation.yaml routing for tenant '${input.tenant}')`,
      );
    out.push(...(Array.isArray(route) ? route : [route]));
  }
  if (!out.length) throw fail("core.notify: 'to' names nobody");
  return out;
}

/** core.notify over email (SMTP), IM (Slack-compatible webhook) or a generic webhook; returns the receipt. */
export function notifyActivities(deps: NotifyDeps) {
  let transport: { key: string; t: Transporter } | null = null;
  const mailer = () => {
    const smtp = deps.endpoints().smtp;
    if (!smtp) throw fail('core.notify: email needs an SMTP server (config/agent/endpoints.yaml smtp, or CLOSELOOP_SMTP_URL)');
    const key = JSON.stringify(smtp);
    if (transport?.key !== key)
      transport = {
        key,
        t: nodemailer.createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure ?? false,
          ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? '' } } : {}),
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 30_000,
        }),
      };
    return { smtp, t: transport.t };
  };
  return {
    /** The delivery status at a receiver's status URL: `{ status }` (delivered, failed, bounced, pending...). */
    async pollReceipt(input: { url: string; tenant: string }): Promise<{ status: string }> {
      const res = await httpRequest({ method: 'GET', url: input.url, idempotencyKey: `poll:${input.url}`, timeout: 30, expected_status: [200, 202, 404] });
      const status = (res.body as { status?: unknown } | null)?.status;
      return { status: res.status === 200 && typeof status === 'string' ? status : 'pending' };
    },
    async notify(input: NotifyInput): Promise<NotifyResult> {
      const to = resolveRecipients(deps, input);
      const receiptUrl = deps.publicUrl ? `${deps.publicUrl.replace(/\/$/, '')}/v1/callbacks/${input.receiptToken}` : null;
      // the token is recorded before sending, so a receipt that arrives at once is never refused
      await deps.store.db
        .insert(callbacks)
        .values({ token: input.receiptToken, tenant: input.tenant, executionId: input.executionId, task: input.task, kind: 'receipt' })
        .onConflictDoNothing();
      const metadata = { ...(input.metadata ?? {}), execution_id: input.executionId, task: input.task, tenant: input.tenant };
      let messageId: string | undefined;
      let statusUrl: string | undefined;
      if (input.channel === 'email') {
        const { smtp, t } = mailer();
        try {
          const info = await t.sendMail({
            from: smtp.from,
            to,
            subject: input.subject ?? `Closeloop: ${input.task}`,
            text: receiptUrl ? `${input.message}\n\n--\nConfirm receipt: POST ${receiptUrl}` : input.message,
            messageId: `<${input.idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@closeloop>`,
            headers: {
              'X-Closeloop-Execution': input.executionId,
              'X-Closeloop-Receipt-Token': input.receiptToken,
              ...(receiptUrl ? { 'X-Closeloop-Receipt-Url': receiptUrl } : {}),
            },
          });
          if (info.rejected?.length) throw fail(`core.notify: the SMTP server refused ${info.rejected.join(', ')}`);
          messageId = info.messageId;
        } catch (err) {
          if (err instanceof ApplicationFailure) throw err;
          throw fail(`core.notify: email via ${smtp.host}:${smtp.port}: ${(err as Error).message}`);
        }
      } else {
        const body =
          input.channel === 'im'
            ? { text: input.subject ? `*${input.subject}*\n${input.message}` : input.message, metadata, receipt: { id: input.receiptToken, url: receiptUrl } }
            : { subject: input.subject ?? null, message: input.message, metadata, receipt: { id: input.receiptToken, url: receiptUrl } };
        for (const url of to) {
          try {
            const res = await httpRequest({
              method: 'POST',
              url,
              body,
              idempotencyKey: `${input.idempotencyKey}:${url}`,
              timeout: 30,
              ...(input.traceId ? { traceId: input.traceId } : {}),
            });
            // a receiver may answer where its delivery status can be polled (used when the receipt callback does not come)
            const su = (res.body as { status_url?: unknown } | null)?.status_url;
            if (typeof su === 'string' && /^https?:\/\//.test(su)) statusUrl = su;
          } catch (err) {
            throw fail(`core.notify: ${input.channel}: ${(err as Error).message}`);
          }
        }
      }
      return {
        receipt: {
          id: input.receiptToken,
          channel: input.channel,
          status: 'sent',
          to,
          url: receiptUrl,
          ...(messageId ? { message_id: messageId } : {}),
          ...(statusUrl ? { status_url: statusUrl } : {}),
        },
      };
    },
  };
}
