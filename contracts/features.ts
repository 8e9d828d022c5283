// What a run's interpreter does differently from the first recorded histories, by patch id. Runs
// started by this code carry the list in their input (`TaskflowInput.features`): the workflow reads
// it instead of calling `patched()`, which would record a marker and a search-attribute upsert per
// patch in every run (4 of a simple run's 18 history events). Histories without the list replay as
// before, through `patched()` (workflows/features.ts; docs/decisions.md "Features in the input").
export const FEATURE = {
  /** Audit rows ride on the next task activity instead of a local activity per task. */
  auditRides: 'closeloop.audit-rides',
  /** The runs index is written with the audit rows in one local activity. */
  indexWithAudit: 'closeloop.index-with-audit',
  /** A `join: all` whose other upstream tasks can no longer fire runs once its group is idle. */
  joinsSettle: 'closeloop.joins-settle',
  /** A join that can no longer be satisfied fails the run with UnreachableJoin. */
  unreachableJoins: 'closeloop.unreachable-joins',
  /** Long inline work pauses on a timer between slices. */
  pacing: 'closeloop.pacing',
  /** Results that arrive by callback or poll meet the action's output schema. */
  actionOutput: 'closeloop.action-output',
  /** A task's retries run as Temporal activity retries. */
  temporalRetries: 'closeloop.temporal-retries',
  /**
   * The starter writes the runs-index row when it starts the run, so the run's first workflow task
   * writes nothing: its `run.started` audit row rides on the first task activity. Input only (never
   * a patch): it depends on who started the run, not on the worker's code.
   */
  indexAtStart: 'closeloop.index-at-start',
  /** In templates, `task.<name>` of a task that has not run is a `not_run` record (null result and error), not an error. */
  notRunTasks: 'closeloop.not-run-tasks',
} as const;

/** Everything this code does, for the runs it starts (workflows/features.ts childFeatures for child runs). */
export const RUN_FEATURES: string[] = Object.values(FEATURE);

/** A child run behaves as its parent, and writes its own index row (its starter, the parent, writes none). */
export const childFeatures = (features: string[]) => features.filter((f) => f !== FEATURE.indexAtStart);
