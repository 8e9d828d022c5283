/** A template or expression error, with the offset inside the expression source. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    /** Offset in the full template string (0-based). */
    readonly offset: number,
    /** The template the error happened in, when known. */
    public source?: string,
  ) {
    super(message);
  }

  /** `1:16: message (in "{{ ... }}")` when the template is known. */
  describe(): string {
    if (this.source === undefined) return this.message;
    const { line, col } = lineColOf(this.source, this.offset);
    const shown = this.source.length > 120 ? `${this.source.slice(0, 117)}...` : this.source;
    return `${line}:${col}: ${this.message} (in ${JSON.stringify(shown)})`;
  }
}

/** 1-based line and column of an offset in a string. */
export function lineColOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, col };
}
