import { LineCounter, parseDocument, isNode, type Document } from 'yaml';

export type PathPart = string | number;

/** A parsed YAML file that can tell where any value came from. */
export interface YamlSource {
  value: unknown;
  syntaxErrors: { line: number; col: number; message: string }[];
  positionOf(path: PathPart[], opts?: { key?: boolean }): { line: number; col: number };
  /** True when the scalar at `path` is written in quotes (template columns shift by one). */
  isQuoted(path: PathPart[]): boolean;
  /** Set when the value is a dialect's file read into Closeloop's shape (dsl/dialects/). */
  rewritten?: boolean;
}

const MAX_YAML_BYTES = 5 * 1024 * 1024;

export function parseYamlSource(text: string): YamlSource {
  if (text.length > MAX_YAML_BYTES) {
    return {
      value: null,
      syntaxErrors: [{ line: 1, col: 1, message: `file larger than ${MAX_YAML_BYTES} bytes` }],
      positionOf: () => ({ line: 1, col: 1 }),
      isQuoted: () => false,
    };
  }
  const lineCounter = new LineCounter();
  // maxAliasCount guards against "billion laughs"; uniqueKeys reports duplicate keys as errors.
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxErrors = [...doc.errors, ...doc.warnings].map((e) => {
    const p = lineCounter.linePos(e.pos[0]);
    return { line: p.line, col: p.col, message: e.message.split('\n')[0] ?? e.message };
  });
  let value: unknown = null;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      syntaxErrors.push({ line: 1, col: 1, message: (err as Error).message });
    }
  }
  return {
    value,
    syntaxErrors,
    isQuoted(path) {
      const node = doc.getIn(path, true) as { type?: string } | undefined;
      return node?.type === 'QUOTE_DOUBLE' || node?.type === 'QUOTE_SINGLE';
    },
    positionOf(path, opts = {}) {
      if (opts.key && path.length) {
        const parent = doc.getIn(path.slice(0, -1), true) as { items?: { key: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
        const pair = parent?.items?.find((it) => it.key?.value === path[path.length - 1]);
        if (pair?.key.range) {
          const p = lineCounter.linePos(pair.key.range[0]);
          return { line: p.line, col: p.col };
        }
      }
      // walk up until a node with a range exists (a missing key points at its parent)
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) {
          const p = lineCounter.linePos(node.range[0]);
          return { line: p.line, col: p.col };
        }
        // a map key: point at the key itself
        if (n > 0) {
          const parent = doc.getIn(path.slice(0, n - 1), true) as { items?: { key: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
          const pair = parent?.items?.find((it) => it.key?.value === path[n - 1]);
          if (pair?.key.range) {
            const p = lineCounter.linePos(pair.key.range[0]);
            return { line: p.line, col: p.col };
          }
        }
      }
      return { line: 1, col: 1 };
    },
  };
}

export function formatPath(path: PathPart[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
