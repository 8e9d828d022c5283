// A stand-in for the billing plugin and the customer's inbox, for the README walk-through.
//   POST /plugin/runtime/billing-svc/execute  generate_report → { report_url, total }
//        (an invoice id ending in "-SHORT" reports 2.50 less than the amount: a reconciliation mismatch)
//   POST /hooks/customer                      a delivered notification; the receipt is posted back 0.5 s later
//        (an invoice id ending in "-BOUNCE" bounces the first message: the closure resends it)
//   POST /hooks/ops                           the ops team's inbox: delivery reports
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 9200);
const bounced = new Set();
const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const body = raw ? JSON.parse(raw) : {};
    if (req.method === 'POST' && req.url === '/plugin/runtime/billing-svc/execute' && body.operation === 'generate_report') {
      const { invoice_id: id, amount } = body.input ?? {};
      const total = String(id).endsWith('-SHORT') ? Number(amount) - 2.5 : Number(amount);
      console.log(`billing-svc: generate_report ${id} (idempotency key ${body.idempotency_key}) → total ${total}`);
      return json(res, 200, { result: { report_url: `http://127.0.0.1:${port}/reports/${id}.pdf`, total } });
    }
    if (req.method === 'POST' && req.url === '/hooks/customer') {
      const id = body.metadata?.invoice_id ?? '?';
      const bounce = String(id).endsWith('-BOUNCE') && !bounced.has(id);
      if (bounce) bounced.add(id);
      console.log(`customer inbox: "${body.subject}" → receipt ${bounce ? 'bounced' : 'delivered'}`);
      if (body.receipt?.url) {
        setTimeout(() => {
          fetch(body.receipt.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ status: bounce ? 'bounced' : 'delivered' }),
          }).catch((e) => console.error(`receipt: ${e.message}`));
        }, 500);
      }
      return json(res, 200, { accepted: true });
    }
    if (req.method === 'POST' && req.url === '/hooks/ops') {
      console.log(`ops inbox: "${body.subject ?? String(body.text ?? '').split('\n')[0]}"`);
      return json(res, 200, { accepted: true });
    }
    json(res, 404, { error: 'not found' });
  });
}).listen(port, '127.0.0.1', () => console.log(`demo billing plugin and customer inbox on http://127.0.0.1:${port}`));
