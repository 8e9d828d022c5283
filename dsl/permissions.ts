/**
 * Strategy `permissions` (config.md): what a run started by a strategy may call, as
 * `plugin:<id>`, `notify:<channel>` or `http:<host>`; `*` matches any run of characters.
 * No list means no limit (runs started directly by an operator).
 */
export function permits(permissions: readonly string[] | undefined, need: string): boolean {
  if (!permissions) return true;
  return permissions.some((p) => p === need || globToRegExp(p).test(need));
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** The host of an absolute http(s) URL (no URL class: this also runs inside the workflow sandbox). */
export function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]+\]|[^/:?#]+)/i.exec(url);
  return (m?.[1] ?? '').toLowerCase();
}

export function deniedMessage(task: string, need: string, permissions: readonly string[], strategy?: string): string {
  return `task '${task}' needs '${need}', which ${strategy ? `strategy '${strategy}'` : 'this run'} does not permit (permissions: ${permissions.join(', ') || 'none'})`;
}
