import { Router } from 'express';
import { requireRole } from '../auth.js';
import { body } from '../body-schemas.js';
import { ApiError } from '../errors.js';
import { launchWorkflow, type LaunchDeps } from '../launch.js';
import { intakeMetrics } from '../metrics.js';

const KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

/** `POST /internal/agent/workflow/trigger`: start a workflow after a task, carrying its result. */
export function triggerRoutes(deps: LaunchDeps): Router {
  const r = Router();
  r.post('/internal/agent/workflow/trigger', requireRole('operator'), body('Trigger'), async (req, res) => {
    const body = (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {}) as Record<string, unknown>;
    const problems: { location: string; message: string }[] = [];
    if (typeof body.workflow !== 'string' || !body.workflow) problems.push({ location: 'body.workflow', message: 'a workflow ref is required' });
    if (body.parameters !== undefined && (typeof body.parameters !== 'object' || body.parameters === null || Array.isArray(body.parameters)))
      problems.push({ location: 'body.parameters', message: 'must be an object' });
    if (body.idempotency_key !== undefined && (typeof body.idempotency_key !== 'string' || !KEY.test(body.idempotency_key)))
      problems.push({ location: 'body.idempotency_key', message: "1-200 characters of letters, digits, '_', '.', ':' or '-'" });
    const policies = (body.policies ?? {}) as { permissions?: unknown };
    if (
      typeof policies !== 'object' ||
      Array.isArray(policies) ||
      (policies.permissions !== undefined && (!Array.isArray(policies.permissions) || !policies.permissions.every((p) => typeof p === 'string')))
    ) {
      problems.push({ location: 'body.policies', message: "must be an object; 'permissions' a list of strings" });
    }
    if (problems.length) throw new ApiError(400, 'bad_request', 'invalid trigger request', problems);
    const tenant = req.principal!.tenant;
    if (body.tenant !== undefined && body.tenant !== tenant)
      throw new ApiError(403, 'forbidden', `this key belongs to tenant '${tenant}', not '${String(body.tenant)}'`);
    const started = await launchWorkflow(deps, {
      tenant,
      workflow: body.workflow as string,
      parameters: body.parameters ?? {},
      startedBy: req.principal!.keyId,
      refuseConflicts: true,
      event: { type: 'agent.workflow.trigger', task_result: body.task_result ?? null, policies },
      ...(typeof body.idempotency_key === 'string' ? { idempotencyKey: body.idempotency_key } : {}),
      ...(Array.isArray(policies.permissions) ? { permissions: policies.permissions as string[] } : {}),
    });
    if (started.status === 'started') intakeMetrics.generated.add(1, { tenant, strategy: 'trigger' });
    res.status(started.status === 'started' ? 202 : 200).json(started);
  });
  return r;
}
