export type Node =
  | { t: 'lit'; v: unknown; pos: number }
  | { t: 'name'; name: string; pos: number }
  | { t: 'list'; items: Node[]; pos: number }
  | { t: 'map'; entries: [Node, Node][]; pos: number }
  | { t: 'attr'; obj: Node; name: string; pos: number }
  | { t: 'index'; obj: Node; index: Node; pos: number }
  | { t: 'call'; fn: Node; args: Node[]; kwargs: [string, Node][]; pos: number }
  | { t: 'filter'; value: Node; name: string; args: Node[]; kwargs: [string, Node][]; pos: number }
  | { t: 'unary'; op: string; arg: Node; pos: number }
  | { t: 'binary'; op: string; left: Node; right: Node; pos: number }
  | { t: 'cond'; test: Node; then: Node; else: Node | null; pos: number }
  | { t: 'test'; value: Node; name: string; negate: boolean; pos: number };
