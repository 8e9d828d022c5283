/** Per-tenant token buckets (in memory, per API process): `rate` events/s sustained, `burst` at once. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly limits: (tenant: string) => { rate: number; burst: number }) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(tenant: string, now: number = performance.now()): number {
    const { rate, burst } = this.limits(tenant);
    const b = this.buckets.get(tenant) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(tenant, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate);
  }
}
