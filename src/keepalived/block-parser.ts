import { type SourcePos, syntaxError } from './diagnostics.ts';
import type { Token } from './lexer.ts';

/** One keepalived statement: `keyword arg... [{ children }]`. */
export interface ConfigNode extends SourcePos {
  keyword: string;
  args: string[];
  /** Present when the statement opened a `{ }` block (possibly empty). */
  children?: ConfigNode[];
}

/** Deeper nesting than any real keepalived.conf (it has at most 5 levels). */
export const MAX_BLOCK_DEPTH = 32;

/**
 * Builds the statement tree. A statement is the words of one logical line; a `{`
 * opens a block for the statement before it, on the same line or, as keepalived
 * allows, on a following line. Text after `{` or `}` on a line starts new statements.
 */
export function parseBlocks(tokens: Iterable<Token>): ConfigNode[] {
  const root: ConfigNode[] = [];
  const stack: { children: ConfigNode[]; owner?: ConfigNode }[] = [{ children: root }];
  // The latest statement of the current block: it takes further words of its own line, or a `{`.
  let current: ConfigNode | undefined;
  let currentStmt = -1;
  for (const token of tokens) {
    const top = stack[stack.length - 1]!;
    if (token.kind === 'word') {
      if (current !== undefined && token.stmt === currentStmt) {
        current.args.push(token.text);
      } else {
        current = { keyword: token.text, args: [], file: token.file, line: token.line };
        top.children.push(current);
        currentStmt = token.stmt;
      }
    } else if (token.kind === 'open') {
      if (current === undefined || current.children !== undefined) {
        throw syntaxError(token, "unexpected '{': a block must follow a keyword");
      }
      if (stack.length > MAX_BLOCK_DEPTH) {
        throw syntaxError(token, `blocks are nested deeper than ${MAX_BLOCK_DEPTH} levels`);
      }
      current.children = [];
      stack.push({ children: current.children, owner: current });
      current = undefined;
      currentStmt = -1;
    } else {
      if (stack.length === 1) throw syntaxError(token, "unexpected '}': no block is open here");
      stack.pop();
      // The closed statement may not take another block; words after '}' start a new statement.
      current = top.owner;
      currentStmt = -1;
    }
  }
  if (stack.length > 1) {
    const owner = stack[stack.length - 1]!.owner!;
    throw syntaxError(
      owner,
      `missing '}': the block of "${owner.keyword}" opened here is never closed (${stack.length - 1} open)`,
    );
  }
  return root;
}
