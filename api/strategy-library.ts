import { StrategyIndex } from '../dsl/strategy-match.js';
import type { StrategyRepo } from '../store/strategies-repo.js';

/**
 * The active strategies as a matching index, rebuilt only when the table changed (checked at most
 * every `maxAgeMs`, so a change made by another API process is seen within that time).
 */
export class StrategyLibrary {
  private index = new StrategyIndex([]);
  private fingerprint = '';
  private checkedAt = -Infinity;
  private refreshing: Promise<StrategyIndex> | null = null;

  constructor(
    private readonly repo: StrategyRepo,
    private readonly maxAgeMs = 2000,
  ) {}

  async current(): Promise<StrategyIndex> {
    if (performance.now() - this.checkedAt < this.maxAgeMs) return this.index;
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** Forces the next `current()` to look at the database (after a change made here). */
  invalidate(): void {
    this.checkedAt = -Infinity;
  }

  private async refresh(): Promise<StrategyIndex> {
    const fp = await this.repo.fingerprint();
    if (fp !== this.fingerprint) {
      this.index = new StrategyIndex(await this.repo.active());
      this.fingerprint = fp;
    }
    this.checkedAt = performance.now();
    return this.index;
  }
}
