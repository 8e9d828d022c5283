import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real local HTTP server standing in for a plugin or webhook; records every request. */
export async function startHttpTarget(
  handler: (r: Received) => { status?: number; body?: unknown; delayMs?: number } = () => ({}),
): Promise<{ url: string; received: Received[]; close(): Promise<void>; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r: Received = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      received.push(r);
      const answer = handler(r);
      setTimeout(() => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body ?? { ok: true }));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    server,
    close: () => new Promise((res) => server.close(() => res())),
  };
}
