import { FEATURE } from '../contracts/features.js';
import { DEFAULT_LIMITS, type Limits } from '../dsl/expr/index.js';

/** Patch id: a run lets the workflow thread go after every PACE_SLICE units of inline work (docs/decisions.md "Pacing"). */
export const PACING = FEATURE.pacing;
/** Units of work (template cost units, dsl/expr/evaluate.ts) a run may do before it lets the workflow thread go. */
export const PACE_SLICE = 10_000_000;
/** What the interpreter's own bookkeeping of one task run or one attempt costs, in the same units. */
export const STEP_UNITS = 25_000;

/**
 * Bounds the work one workflow task can do. Templates are each bounded by their cost budget, but a
 * self-loop of inline tasks, or ten thousand items each rendering an expensive template, would still
 * hold the workflow thread for seconds, which the SDK's sandbox turns into a crash of the whole
 * process. The count is of work done, never of time, so a replay pauses at the same places. The
 * pause is a local activity (`pause`, given by the run: it writes the audit rows buffered so far):
 * its result comes back in a new activation, without the server round trip a timer would cost.
 */
export class Pacer {
  constructor(
    private readonly pause: () => Promise<void>,
    /** Whether this run paces (asked only when a pause is first due: older runs record the patch there). */
    private readonly paces: () => boolean,
  ) {}

  readonly meter = { used: 0 };
  /** The limits every render of this run uses: each evaluation adds what it spent to the meter. */
  readonly limits: Limits = { ...DEFAULT_LIMITS, meter: this.meter };
  private pausing: Promise<void> | null = null;

  /**
   * Charges `units` for a step; once a slice is spent, the promise to wait on (one pause for all
   * waiters). Returns nothing otherwise, so callers add no await (and no reordering) when no pause is due.
   */
  step(units = STEP_UNITS): Promise<void> | undefined {
    this.meter.used += units;
    if (this.meter.used < PACE_SLICE && !this.pausing) return undefined;
    if (!this.pausing) {
      // runs recorded before pacing never paused: they replay unchanged
      if (!this.paces()) {
        this.meter.used = 0;
        return undefined;
      }
      this.pausing = this.pause().then(() => {
        this.meter.used = 0;
        this.pausing = null;
      });
    }
    return this.pausing;
  }
}
