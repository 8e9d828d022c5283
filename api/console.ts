import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router, type Response } from 'express';

const ROOT = join(import.meta.dirname, '..', 'console');
const require = createRequire(import.meta.url);

/**
 * Preact, its hooks and htm, served as ES modules from node_modules: no bundler and no build step.
 * The hooks module imports the bare specifier 'preact', which a browser cannot resolve without an
 * import map (an inline script our CSP would have to allow), so it is pointed at the file instead.
 */
function vendor(): Map<string, string> {
  // the packages export their CommonJS builds; the ES module builds sit beside them
  const read = (id: string, file: string) => readFileSync(join(dirname(require.resolve(id)), file), 'utf8');
  return new Map([
    ['preact.mjs', read('preact', 'preact.module.js')],
    ['hooks.mjs', read('preact/hooks', 'hooks.module.js').replace(/from\s*["']preact["']/g, 'from"./preact.mjs"')],
    ['htm.mjs', read('htm', 'htm.module.js')],
  ]);
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};
const secure = (res: Response) => {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
};

/** The ops console: static files, a client of the public API (the key stays in the tab's session storage). */
export function consoleRoutes(): Router {
  const r = Router();
  const modules = vendor();
  const index = readFileSync(join(ROOT, 'index.html'), 'utf8');
  r.get('/console/', (_req, res) => {
    secure(res);
    res.type('html').send(index);
  });
  r.use('/console', (req, res, next) => {
    if (req.path === '/' || req.path === '') return req.method === 'GET' ? res.redirect(301, '/console/') : next();
    const name = /^\/vendor\/([a-z]+\.mjs)$/.exec(req.path)?.[1];
    if (!name || !modules.has(name)) return next();
    secure(res);
    res.type('text/javascript').send(modules.get(name));
  });
  r.use('/console', (_req, res, next) => (secure(res), next()), express.static(ROOT, { index: false, fallthrough: true, dotfiles: 'ignore' }));
  return r;
}
