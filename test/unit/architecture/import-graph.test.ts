import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

/*
 * The codebase rules that a type-checker does not enforce: no import cycles (type
 * imports included), and pure folders stay free of I/O modules.
 */

const SRC = new URL('../../../src/', import.meta.url).pathname;
const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT_RE)].map((m) => m[1]!);
}

describe('import graph', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(
    files.map((f) => [
      f,
      importsOf(f)
        .filter((s) => s.startsWith('.'))
        .map((s) => normalize(join(dirname(f), s))),
    ]),
  );

  it('has no cycles', () => {
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const cycles: string[] = [];
    const visit = (n: string) => {
      state.set(n, 1);
      stack.push(n);
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 1)
          cycles.push([...stack.slice(stack.indexOf(m)), m].map((p) => relative(SRC, p)).join(' -> '));
        else if (!state.has(m)) visit(m);
      }
      stack.pop();
      state.set(n, 2);
    };
    for (const f of files) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });

  it('keeps the pure cores free of sockets, timers and the file system', () => {
    const pure = [
      'balance/',
      'config/model.ts',
      'config/normalize',
      'config/schema',
      'l4/service-table.ts',
      'l4/persistence.ts',
      'l4/rate-estimator.ts',
      'health/damper.ts',
      'health/dns-wire.ts',
      'keepalived/lexer.ts',
      'keepalived/block-parser.ts',
    ];
    const io = /^node:(net|dgram|fs|fs\/promises|child_process|http|https|tls|worker_threads|timers)$/;
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(SRC, f);
      if (!pure.some((p) => rel.startsWith(p))) continue;
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(IMPORT_RE)) {
        // isIP is a pure string check that happens to live in node:net.
        if (io.test(m[1]!) && !/^import \{ isIP \} from 'node:net'/.test(m[0]))
          offenders.push(`${rel} imports ${m[1]}`);
      }
      if (/\bset(Timeout|Interval|Immediate)\(/.test(readFileSync(f, 'utf8')))
        offenders.push(`${rel} starts timers`);
    }
    assert.deepEqual(offenders, []);
  });
});
