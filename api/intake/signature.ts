import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-closeloop-signature';
export const MAX_SKEW_SECONDS = 300;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (interfaces.md). */
export function sign(secret: string, body: string | Buffer, at: number = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${at}.`).update(body).digest('hex');
  return `t=${at},v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Constant-time check of every v1 value in the header (several allow secret rotation); the timestamp must be within 300 s. */
export function verify(secret: string, body: Buffer, header: string | undefined, now: number = Math.floor(Date.now() / 1000)): SignatureCheck {
  if (!header) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const macs = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v!);
  if (!Number.isInteger(t) || !macs.length) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<hex>` };
  if (Math.abs(now - t) > MAX_SKEW_SECONDS)
    return { ok: false, reason: `signature timestamp is ${Math.abs(now - t)} s away from now (limit ${MAX_SKEW_SECONDS} s)` };
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const good = macs.some((m) => {
    const given = Buffer.from(m, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return good ? { ok: true } : { ok: false, reason: 'signature does not match the body' };
}
