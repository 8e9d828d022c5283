import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { ApiError } from '../errors.js';
import type { Intake } from './intake.js';

export interface EventBusOptions {
  url: string;
  intake: Intake;
  /** Events published without a signature header are accepted (a stream only trusted publishers can write). */
  trusted?: boolean;
  stream?: string;
  deadLetterStream?: string;
  /** Events are taken from `<eventsRoot>.>` and dead-lettered to `<deadLetterRoot>.<original subject>`. */
  eventsRoot?: string;
  deadLetterRoot?: string;
  durable?: string;
  /** Seconds before an unacknowledged message is redelivered (a crash between receipt and start). */
  ackWait?: number;
  /** Deliveries before a message that keeps failing is dead-lettered. */
  maxDeliver?: number;
  log?: (line: string) => void;
}

export interface EventBus {
  connection: NatsConnection;
  /** Publishes an outgoing event on core NATS (subject = event type); the database keeps the record. */
  publish(type: string, event: unknown): Promise<void>;
  stop(): Promise<void>;
}

const ns = (s: number) => s * 1_000_000_000;

/** Streams and the durable consumer, created when missing (idempotent). */
async function ensureTopology(
  nc: NatsConnection,
  o: Required<Pick<EventBusOptions, 'stream' | 'deadLetterStream' | 'durable' | 'ackWait' | 'maxDeliver' | 'eventsRoot' | 'deadLetterRoot'>>,
) {
  const jsm = await jetstreamManager(nc);
  const ensureStream = async (name: string, subjects: string[]) => {
    try {
      await jsm.streams.info(name);
    } catch {
      await jsm.streams.add({ name, subjects });
    }
  };
  await ensureStream(o.stream, [`${o.eventsRoot}.>`]);
  await ensureStream(o.deadLetterStream, [`${o.deadLetterRoot}.>`]);
  const config = {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${o.eventsRoot}.>`,
    ack_wait: ns(o.ackWait),
    max_deliver: o.maxDeliver,
  };
  try {
    await jsm.consumers.info(o.stream, o.durable);
    await jsm.consumers.update(o.stream, o.durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
  } catch {
    await jsm.consumers.add(o.stream, config);
  }
}

/**
 * The JetStream event bus: takes events from `events.>` through the same intake as HTTP, acks
 * once the event is stored in the inbox (or found a duplicate, or sent to review), lets the server
 * redeliver on failure, and dead-letters what keeps failing (or can never succeed) intact.
 */
export async function startEventBus(opts: EventBusOptions): Promise<EventBus> {
  const o = {
    stream: 'CLOSELOOP_EVENTS',
    deadLetterStream: 'CLOSELOOP_DEADLETTER',
    eventsRoot: 'events',
    deadLetterRoot: 'deadletter',
    durable: 'closeloop-intake',
    ackWait: 30,
    maxDeliver: 5,
    ...opts,
  };
  const log = opts.log ?? ((l: string) => console.log(l));
  const nc = await connect({ servers: o.url, name: 'closeloop' });
  await ensureTopology(nc, o);
  const js = jetstream(nc);
  const consumer = await js.consumers.get(o.stream, o.durable);
  const messages = await consumer.consume({ max_messages: 64 });

  const deadLetter = async (m: JsMsg, reason: string) => {
    const h = natsHeaders();
    for (const [k, v] of m.headers ?? []) for (const x of v) h.append(k, x);
    h.set('Closeloop-Dead-Reason', reason.slice(0, 1000));
    h.set('Closeloop-Original-Subject', m.subject);
    h.set('Closeloop-Deliveries', String(m.info.deliveryCount));
    await js.publish(`${o.deadLetterRoot}.${m.subject}`, m.data, { headers: h });
    m.term(reason.slice(0, 200));
    log(`closeloop bus: ${m.subject} #${m.seq} dead-lettered: ${reason}`);
  };

  const handle = async (m: JsMsg) => {
    try {
      await o.intake.submit(Buffer.from(m.data), m.headers?.get('X-Closeloop-Signature') || undefined, 'nats', { trusted: o.trusted ?? false });
      await m.ackAck();
    } catch (err) {
      const e = err instanceof ApiError ? err : null;
      // a refused event (bad signature, bad envelope, unknown tenant) can never succeed: no redelivery
      if (e && e.status < 500 && e.status !== 429) return deadLetter(m, `${e.status} ${e.code}: ${e.message}`);
      if (m.info.deliveryCount >= o.maxDeliver) return deadLetter(m, `failed ${m.info.deliveryCount} times, last: ${(err as Error).message}`);
      const delay = e?.retryAfter ? e.retryAfter * 1000 : Math.min(30_000, 1000 * 2 ** (m.info.deliveryCount - 1));
      m.nak(delay);
    }
  };

  // bounded concurrency: the consumer's buffer (max_messages) is the queue; each message is handled as it arrives
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const m of messages) {
      const p = handle(m).catch((err: Error) => log(`closeloop bus: ${m.subject} #${m.seq}: ${err.message}`));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 64) await Promise.race(inflight);
    }
  })();

  return {
    connection: nc,
    async publish(type, event) {
      nc.publish(type, JSON.stringify(event));
    },
    async stop() {
      await messages.close();
      await loop.catch(() => {});
      await Promise.allSettled(inflight);
      await nc.drain();
    },
  };
}
