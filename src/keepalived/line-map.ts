import type { LocatedIssue } from '../config/config-error.ts';
import type { LineLookup } from '../config/load-config.ts';
import type { SourcePos } from './diagnostics.ts';

/**
 * Remembers which keepalived statement produced each key of the raw config, so
 * schema errors point at the keepalived file and line.
 */
export class SourceMap {
  readonly #positions = new Map<string, SourcePos>();

  set(path: readonly PropertyKey[], pos: SourcePos): void {
    this.#positions.set(keyOf(path), pos);
  }

  get(path: readonly PropertyKey[]): SourcePos | undefined {
    return this.#positions.get(keyOf(path));
  }

  /** The line lookup validateRawConfig takes (lines only: files come from `relocate`). */
  readonly lineOf: LineLookup = (path) => this.get(path)?.line;

  /** The position of the deepest known prefix of a formatted issue path ("a[0].b"). */
  locate(formattedPath: string): SourcePos | undefined {
    const path = parseFormattedPath(formattedPath);
    for (let n = path.length; n >= 0; n--) {
      const pos = this.get(path.slice(0, n));
      if (pos !== undefined) return pos;
    }
    return undefined;
  }

  /** Issues re-pointed at the file and line that produced them (an include may hold them). */
  relocate(issues: readonly LocatedIssue[]): LocatedIssue[] {
    return issues.map((issue) => {
      const pos = this.locate(issue.path);
      return pos === undefined ? issue : { ...issue, file: pos.file, line: pos.line };
    });
  }
}

function keyOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `#${p}` : String(p))).join('\u0000');
}

/** Inverse of formatPath: "virtual_servers[0].real_servers[1].weight" → ['virtual_servers', 0, ...]. */
export function parseFormattedPath(text: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of text.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    out.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
  }
  return out;
}
