/**
 * Splits a utf8 stream into lines. Scans only each new chunk and joins the pieces of a line
 * once, at its newline: a 30 MB line arrives in hundreds of chunks.
 */
export function createLineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let parts: string[] = [];
  return (chunk) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) !== -1) {
      parts.push(chunk.slice(start, nl));
      start = nl + 1;
      const line = parts.join('');
      parts = [];
      onLine(line);
    }
    if (start < chunk.length) parts.push(chunk.slice(start));
  };
}
