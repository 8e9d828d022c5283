import { Router, type Request } from 'express';
import { formatDiagnostic } from '../../dsl/index.js';
import { parseStrategies, type Strategy } from '../../dsl/strategy.js';
import { SHARED_OWNER, StrategyConflict, type StrategyRepo, type StrategyRow } from '../../store/strategies-repo.js';
import type { EventRepo } from '../../store/events-repo.js';
import { requireRole } from '../auth.js';
import { body, refuseUnstorable } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';
import type { StrategyLibrary } from '../strategy-library.js';

const view = (r: StrategyRow) => {
  const d = r.definition as Strategy;
  return {
    id: r.id,
    version: r.version,
    status: r.status,
    shared: r.owner === SHARED_OWNER,
    on: d.on,
    tenants: d.tenants,
    when: d.when,
    priority: d.priority,
    weight: d.weight,
    workflow: d.workflow,
    parameters: d.parameters,
    ...(d.closure ? { closure: d.closure } : {}),
    ...(d.permissions ? { permissions: d.permissions } : {}),
    created_by: r.createdBy,
    approved_by: r.approvedBy,
    activated_at: r.activatedAt,
    previous_active: r.previousActive,
    created_at: r.createdAt,
  };
};

/** The strategy source: a YAML body, or JSON (the strategy itself, or `{ "yaml": "..." }`). */
function sourceOf(req: Request): string {
  refuseUnstorable(req.body);
  if (typeof req.body === 'string' && req.body.trim()) return req.body;
  if (req.body && typeof req.body === 'object') {
    const b = req.body as { yaml?: unknown };
    return typeof b.yaml === 'string' ? b.yaml : JSON.stringify(req.body);
  }
  throw new ApiError(400, 'bad_request', 'send one strategy as YAML (Content-Type: application/yaml) or JSON', [{ location: 'body' }]);
}

const versionOf = (req: Request): number => {
  const v = (req.body as { version?: unknown } | undefined)?.version;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new ApiError(400, 'bad_request', 'give the strategy \'version\' to act on (JSON body {"version": N})', [{ location: 'body.version' }]);
  return n;
};

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StrategyConflict)
      throw new ApiError(err.status, err.status === 404 ? 'not_found' : err.status === 403 ? 'forbidden' : 'conflict', err.message);
    throw err;
  }
}

/** The strategy library: drafts, approval by someone else, activation, one-call rollback. */
export function strategyRoutes(deps: { repo: StrategyRepo; library: StrategyLibrary; events: EventRepo }): Router {
  const r = Router();
  r.get('/v1/strategies', requireRole('viewer'), async (req, res) => {
    const tenant = req.principal!.tenant;
    const [rows, hits] = await Promise.all([deps.repo.list(tenant), deps.events.hits(tenant)]);
    // the hit rate: of the tenant's events in the last 24 hours, how many each version took
    const total = hits.reduce((a, h) => a + h.n, 0);
    res.json({
      strategies: rows.map(view),
      hits: {
        window_hours: 24,
        events: total,
        unmatched: hits.find((h) => h.strategy === null)?.n ?? 0,
        by_version: Object.fromEntries(hits.filter((h) => h.strategy).map((h) => [h.strategy, h.n])),
      },
    });
  });
  r.get('/v1/strategies/:id', requireRole('viewer'), async (req, res) => {
    const rows = (await deps.repo.list(req.principal!.tenant)).filter((s) => s.id === req.params.id);
    if (!rows.length) throw notFound(`strategy '${String(req.params.id)}'`);
    res.json({ id: req.params.id, versions: rows.map(view) });
  });
  r.post('/v1/strategies', requireRole('operator'), async (req, res) => {
    const parsed = parseStrategies(sourceOf(req), { single: true });
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length)
      throw new ApiError(
        422,
        'invalid_strategy',
        errors.map((d) => formatDiagnostic('strategy', d)).join('\n'),
        errors.map((d) => ({ location: d.path, line: d.line, col: d.col, message: d.message })),
      );
    const row = await guarded(() => deps.repo.createDraft(req.principal!.tenant, parsed.strategies[0]!, req.principal!.keyId));
    res.status(201).json(view(row));
  });
  r.post('/v1/strategies/:id/approve', requireRole('approver'), body('StrategyVersion'), async (req, res) => {
    res.json(view(await guarded(() => deps.repo.approve(req.principal!.tenant, String(req.params.id), versionOf(req), req.principal!.keyId))));
  });
  r.post('/v1/strategies/:id/activate', requireRole('approver'), body('StrategyVersion'), async (req, res) => {
    const row = await guarded(() => deps.repo.activate(req.principal!.tenant, String(req.params.id), versionOf(req)));
    deps.library.invalidate();
    res.json(view(row));
  });
  r.post('/v1/strategies/:id/rollback', requireRole('approver'), body('NoBody'), async (req, res) => {
    const moved = await guarded(() => deps.repo.rollback(req.principal!.tenant, String(req.params.id)));
    deps.library.invalidate();
    res.json({ id: req.params.id, rolled_back_from: moved.from, active_version: moved.to });
  });
  return r;
}
