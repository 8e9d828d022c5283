// Templates in a run's scope: task fields, publishes into `vars`, the output map.
import { DEFAULT_LIMITS, ExpressionError, renderDeep, type Limits, type Scope } from '../dsl/expr/index.js';
import type { AuditKind } from '../contracts/audit.js';
import type { TaskRecord } from '../contracts/run.js';
import type { CompiledTask } from '../dsl/types.js';
import { TaskFailure } from './errors.js';
import { scopeFor, type RunContext } from './scope.js';
import { FAILURE } from '../contracts/failures.js';

export type Recorder = (kind: AuditKind, task: string | null, detail: Record<string, unknown>) => void;

/** The context limit of dsl.md "Limits": workflow variables may not grow past it. */
export const MAX_CONTEXT_BYTES = 10 * 1024 * 1024;

export class Renderer {
  /** Every render of the run goes through these limits (the driver's pacer meters them). */
  readonly limits: Limits;

  constructor(
    readonly ctx: RunContext,
    protected readonly opts: { record: Recorder; now: () => number; limits?: Limits },
  ) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
  }

  /** The template scope now (`system.timestamp` is the run's clock). */
  scope(extra: Parameters<typeof scopeFor>[1] = {}): Scope {
    this.ctx.system.timestamp = Math.floor(this.opts.now() / 1000);
    return scopeFor(this.ctx, extra);
  }

  /** Renders a field of a task; a template error fails the attempt, naming the task and the field. */
  render(task: CompiledTask, field: string, value: unknown, extra: Parameters<typeof scopeFor>[1] = {}): unknown {
    try {
      return renderDeep(value, this.scope(extra), this.limits);
    } catch (err) {
      if (err instanceof ExpressionError)
        throw new TaskFailure({ type: FAILURE.template, message: `task '${task.name}', field '${field}': ${err.describe()}` });
      throw err;
    }
  }

  /** Writes published values into `vars`, in order, each in the scope of the run that publishes it. */
  protected publish(taskName: string, entries: [string, unknown][], via: string, current: TaskRecord): void {
    for (const [key, tmpl] of entries) {
      let value: unknown;
      try {
        value = renderDeep(tmpl, this.scope({ current }), this.limits);
      } catch (err) {
        if (err instanceof ExpressionError) throw new TaskFailure({ type: FAILURE.template, message: `task '${taskName}' ${via} '${key}': ${err.describe()}` });
        throw err;
      }
      this.ctx.vars[key] = value;
      const size = JSON.stringify(this.ctx.vars).length;
      if (size > MAX_CONTEXT_BYTES)
        throw new TaskFailure({
          type: FAILURE.limit,
          message: `task '${taskName}' ${via} '${key}': workflow variables would be ${size} bytes, over the 10 MB context limit`,
        });
      this.opts.record('var.set', taskName, { name: key, via, value });
    }
  }

  /** Renders output_map ({} without one). */
  renderOutput(outputMap: unknown): unknown {
    if (outputMap === undefined) return {};
    try {
      return renderDeep(outputMap, this.scope(), this.limits);
    } catch (err) {
      if (err instanceof ExpressionError) throw new TaskFailure({ type: FAILURE.output, message: `output_map: ${err.describe()}` });
      throw err;
    }
  }
}
