// Load generator for `npm run bench:events`, run in its own process so its CPU does not hide in the
// server's: sends signed events at a fixed rate (10% re-sends of earlier events) and prints one JSON
// report with every request's ack latency. With a window (8th argument), it is closed-loop instead,
// as the native baseline's starter is: 16 lanes send as fast as they are answered while fewer than
// `window` accepted events are not yet completed runs; the parent writes the completed count to stdin.
import { createHmac, randomUUID } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { Agent, request } from 'node:http';

const [base, tenant, secret, rate, duration, types, dupShare] = process.argv.slice(2);
const RATE = Number(rate);
const DURATION_MS = Number(duration) * 1000;
const TYPES = Number(types);
const DUP = Number(dupShare);
const WINDOW = Number(process.argv[9] ?? 0);
let completed = 0;
if (WINDOW > 0) process.stdin.on('data', (d) => (completed = Number(String(d).trim().split('\n').pop())));

const sign = (raw) => {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')}`;
};

const sent = [];
const results = [];
let n = 0;
let accepted = 0;
const t0 = performance.now();
const total = Math.floor((RATE * DURATION_MS) / 1000);

// node:http with kept-alive sockets, as a producer tuned for volume would send: 1.3-1.7 ms of CPU per
// event here against 2.1 with fetch (the generator's CPU is counted with Closeloop's on a shared
// machine). A request unanswered after 30 s is given up and counted as timed out.
const agent = new Agent({ keepAlive: true });
const url = new URL('/v1/events', base);
const post = (raw) =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw), 'x-closeloop-signature': sign(raw) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(raw);
  });

async function fire(raw, dup) {
  const start = performance.now();
  try {
    const res = await post(raw);
    const body = res.body;
    if (res.status === 202) accepted++;
    results.push({
      at: start - t0,
      ms: performance.now() - start,
      http: res.status,
      status: body.status ?? body.error?.code,
      dup,
      key: JSON.parse(raw).idempotency_key,
    });
    return res.status;
  } catch (err) {
    results.push({
      at: start - t0,
      ms: performance.now() - start,
      http: 0,
      status: String(err.code ?? err.cause?.code ?? err.message),
      dup,
      key: JSON.parse(raw).idempotency_key,
    });
  }
}

function next() {
  const dup = sent.length > 10 && Math.random() < DUP;
  n++;
  if (dup) return { raw: sent[Math.floor(Math.random() * sent.length)], dup };
  const i = n - 1;
  const raw = JSON.stringify({
    id: `evt_${randomUUID()}`,
    type: `bench.type${i % TYPES}.done`,
    tenant,
    idempotency_key: `k-${randomUUID()}`,
    occurred_at: new Date().toISOString(),
    payload: { amount: i % 100, region: ['eu', 'us', 'ap'][i % 3], seq: i },
  });
  sent.push(raw);
  return { raw, dup };
}

const inflight = new Set();
const openLoop = () =>
  new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * RATE) / 1000));
      while (n < due) {
        const { raw, dup } = next();
        const p = fire(raw, dup).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (n >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
const closedLoop = async () => {
  const lane = async () => {
    while (performance.now() - t0 < DURATION_MS) {
      if (accepted - completed >= WINDOW) await new Promise((r) => setTimeout(r, 5));
      else {
        const { raw, dup } = next();
        // a refusal is not a reason to spin: wait as a real producer would
        if ((await fire(raw, dup)) !== 202) await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
};
await (WINDOW > 0 ? closedLoop() : openLoop());
process.stdin.destroy(); // the parent's feed no longer keeps this process alive
const sendWindowMs = performance.now() - t0;
await Promise.all(inflight);
const doneMs = performance.now() - t0;
process.stdout.write(JSON.stringify({ sent: n, unique: sent.length, send_window_ms: sendWindowMs, done_ms: doneMs, results }));
