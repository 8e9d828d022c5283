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
  // StackStorm's inquiry: schema, route/users/roles, ttl in minutes; its result is { response }
  'core.ask',
  'core.notify',
  'core.reconcile',
] as const;

export function isBuiltin(ref: string): boolean {
  return (BUILTIN_ACTIONS as readonly string[]).includes(ref);
}

export function isHttpAction(ref: string): boolean {
  return ref === 'core.http' || ref === 'http.request' || ref === 'http.get';
}

/** StackStorm's core.ask input as core.inquiry's: `ttl` (minutes) is the deadline, the first user, role or route the assignee. */
export function askAsInquiry(input: Record<string, unknown>): Record<string, unknown> {
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : undefined);
  const schema = input.schema as { description?: unknown } | undefined;
  const assignee = first(input.users) ?? first(input.roles) ?? input.route;
  return {
    ...(input.schema !== undefined ? { schema: input.schema } : {}),
    prompt: input.prompt ?? schema?.description ?? 'Answer the inquiry',
    ...(assignee !== undefined ? { assigned_to: assignee } : {}),
    ...(typeof input.ttl === 'number' ? { timeout: input.ttl * 60 } : {}),
  };
}
