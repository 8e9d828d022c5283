/** Built-in actions the interpreter runs itself or through a core activity. */
export const BUILTIN_ACTIONS = [
  'core.noop',
  'core.echo',
  'core.sleep',
  'core.fail',
  'core.http',
  'http.request',
  'http.get',
  'core.inquiry',
  'core.notify',
  'core.reconcile',
] as const;

export function isBuiltin(ref: string): boolean {
  return (BUILTIN_ACTIONS as readonly string[]).includes(ref);
}

export function isHttpAction(ref: string): boolean {
  return ref === 'core.http' || ref === 'http.request' || ref === 'http.get';
}
