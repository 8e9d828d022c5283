import { connect } from '@nats-io/transport-node';

/** Events out on core NATS from the worker process (subject = event type); the database keeps the record. */
export async function connectPublisher(url: string): Promise<{ publish(type: string, event: unknown): Promise<void>; stop(): Promise<void> }> {
  const nc = await connect({ servers: url, name: 'closeloop-worker' });
  return {
    publish: async (type, event) => nc.publish(type, JSON.stringify(event)),
    stop: () => nc.drain(),
  };
}
