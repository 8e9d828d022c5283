/** A template or expression error, with the offset inside the expression source. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    /** Offset in the full template string (0-based). */
    readonly offset: number,
  ) {
    super(message);
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
