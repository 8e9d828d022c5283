import { Router, type Request } from 'express';
import { validateWorkflow, type Limits } from '../../dsl/index.js';
import type { PackContents } from '../../contracts/config.js';
import type { Store } from '../../store/db.js';
import type { Client } from '@temporalio/client';
import type { WorkflowRepo } from '../../store/workflows-repo.js';
import { requireRole } from '../auth.js';
import { body, checkBody, refuseUnstorable } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';
import { SAFE_KEY, SAFE_KEY_RULE } from '../../dsl/text.js';
import { launchWorkflow, splitRef } from '../launch.js';

export interface WorkflowRoutesDeps {
  repo: WorkflowRepo;
  store: Store;
  client: Client;
  taskQueue: string;
  /** Pack actions and pack configuration from config/packs. */
  packs: () => PackContents;
  /** config/limits.yaml: the ceilings of a workflow's `limits`. */
  limits?: () => Limits;
}

/** The YAML of a request: a YAML/text body, or JSON `{ "yaml": "..." }`. */
function yamlOf(req: Request): string {
  if (typeof req.body === 'string' && req.body.trim()) {
    refuseUnstorable(req.body);
    return req.body;
  }
  if (req.body && typeof req.body === 'object') {
    const problems = checkBody('WorkflowSource', req.body);
    if (problems.length) throw new ApiError(400, 'invalid_body', `the request body does not match WorkflowSource: ${problems[0]!.message}`, problems);
    return (req.body as { yaml: string }).yaml;
  }
  throw new ApiError(400, 'bad_request', 'send the workflow as a YAML body (Content-Type: application/yaml) or JSON {"yaml": "..."}', [{ location: 'body' }]);
}

export function workflowRoutes(deps: WorkflowRoutesDeps): Router {
  const r = Router();
  const validate = async (req: Request) => {
    const tenant = req.principal!.tenant;
    const known = await deps.repo.knownRefs(tenant);
    const { actions } = deps.packs();
    // a file without a ref (Orquesta's) takes the one in the path or ?ref=
    const given = req.params.ref ? splitRef(String(req.params.ref)).ref : typeof req.query.ref === 'string' ? req.query.ref : undefined;
    const result = validateWorkflow(yamlOf(req), {
      isKnownAction: (ref) => known.has(ref) || actions.has(ref),
      ...(given ? { dialect: { ref: given } } : {}),
      ...(deps.limits ? { limits: deps.limits() } : {}),
    });
    const diagnostics = result.diagnostics.map((d) => ({ severity: d.severity, line: d.line, col: d.col, path: d.path, message: d.message }));
    return { result, diagnostics };
  };

  r.post('/v1/workflows/validate', requireRole('viewer'), async (req, res) => {
    const { result, diagnostics } = await validate(req);
    res.status(result.ok ? 200 : 422).json(
      result.ok
        ? { valid: true, warnings: diagnostics }
        : {
            error: {
              code: 'invalid_workflow',
              message: `${diagnostics.filter((d) => d.severity === 'error').length} problem(s) in the workflow`,
              details: diagnostics,
            },
          },
    );
  });
  r.post('/v1/workflows/:ref/validate', requireRole('viewer'), async (req, res) => {
    const { result, diagnostics } = await validate(req);
    if (result.workflow && result.workflow.ref !== splitRef(String(req.params.ref)).ref)
      throw new ApiError(422, 'ref_mismatch', `the file's ref '${result.workflow.ref}' differs from '${String(req.params.ref)}'`);
    res
      .status(result.ok ? 200 : 422)
      .json(
        result.ok ? { valid: true, warnings: diagnostics } : { error: { code: 'invalid_workflow', message: 'the workflow is invalid', details: diagnostics } },
      );
  });

  const register = async (req: Request, expectedRef?: string) => {
    const { result, diagnostics } = await validate(req);
    if (!result.workflow)
      throw new ApiError(422, 'invalid_workflow', `${diagnostics.filter((d) => d.severity === 'error').length} problem(s) in the workflow`, diagnostics);
    if (expectedRef && result.workflow.ref !== expectedRef)
      throw new ApiError(422, 'ref_mismatch', `the file's ref '${result.workflow.ref}' differs from '${expectedRef}'`);
    const outcome = await deps.repo.register(req.principal!.tenant, result.workflow, yamlOf(req), req.principal!.keyId);
    if (outcome === 'conflict')
      throw new ApiError(
        409,
        'version_exists',
        `${result.workflow.ref}@${result.workflow.version} is already registered with different content: bump 'version'`,
      );
    return {
      status: outcome === 'created' ? 201 : 200,
      body: { ref: result.workflow.ref, version: result.workflow.version, created: outcome === 'created', warnings: diagnostics },
    };
  };
  r.post('/v1/workflows', requireRole('operator'), async (req, res) => {
    const { status, body } = await register(req);
    res.status(status).json(body);
  });
  r.put('/v1/workflows/:ref', requireRole('operator'), async (req, res) => {
    const { status, body } = await register(req, String(req.params.ref));
    res.status(status).json(body);
  });

  r.get('/v1/workflows', requireRole('viewer'), async (req, res) => {
    res.json({ workflows: await deps.repo.list(req.principal!.tenant) });
  });
  r.get('/v1/workflows/:ref', requireRole('viewer'), async (req, res) => {
    const { ref, version } = splitRef(String(req.params.ref));
    const wf = await deps.repo.get(req.principal!.tenant, ref, version);
    if (!wf) throw notFound(`workflow '${String(req.params.ref)}'`);
    const versions = await deps.repo.versions(req.principal!.tenant, ref);
    res.json({
      ref: wf.ref,
      version: wf.version,
      label: wf.compiled.label ?? null,
      shared: wf.tenant === '*',
      versions: versions.map((v) => ({ version: v.version, created_at: v.createdAt })),
      yaml: wf.yaml,
      graph: wf.compiled,
    });
  });
  r.delete('/v1/workflows/:ref', requireRole('operator'), async (req, res) => {
    const n = await deps.repo.remove(req.principal!.tenant, String(req.params.ref));
    if (!n) throw notFound(`workflow '${String(req.params.ref)}'`);
    res.status(204).end();
  });

  r.post('/v1/workflows/:ref/executions', requireRole('operator'), body('RunRequest'), async (req, res) => {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as { parameters?: unknown; idempotency_key?: unknown };
    if (body.idempotency_key !== undefined && (typeof body.idempotency_key !== 'string' || !SAFE_KEY.test(body.idempotency_key))) {
      throw new ApiError(400, 'bad_request', `'idempotency_key': ${SAFE_KEY_RULE}`, [{ location: 'body.idempotency_key' }]);
    }
    if (body.parameters !== undefined && (typeof body.parameters !== 'object' || body.parameters === null || Array.isArray(body.parameters))) {
      throw new ApiError(400, 'bad_request', "'parameters' must be an object", [{ location: 'body.parameters' }]);
    }
    const started = await launchWorkflow(deps, {
      tenant: req.principal!.tenant,
      workflow: String(req.params.ref),
      parameters: body.parameters ?? {},
      startedBy: req.principal!.keyId,
      refuseConflicts: true,
      ...(typeof body.idempotency_key === 'string' ? { idempotencyKey: body.idempotency_key } : {}),
    });
    res.status(started.status === 'started' ? 202 : 200).json(started);
  });
  return r;
}
