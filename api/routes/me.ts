import { Router } from 'express';
import { requireRole } from '../auth.js';

/** Who the API key is: its tenant, id and roles (the console shows only what those roles can do). */
export function meRoutes(): Router {
  const r = Router();
  r.get('/v1/me', requireRole('viewer'), (req, res) => {
    const p = req.principal!;
    res.json({ tenant: p.tenant, key_id: p.keyId, roles: p.roles });
  });
  return r;
}
