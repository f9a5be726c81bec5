/*
 * keepalived runs a script string (misc_path, notify_up, quorum_up...) by splitting
 * it into words itself — blanks separate, single or double quotes group, a
 * backslash escapes — and exec'ing them without a shell. hastack runs commands
 * through /bin/sh -c, so the words are re-quoted for sh: the program receives the
 * same arguments, and shell characters ($, ;, |, *) in them stay literal.
 */

/** keepalived's words of a script string; throws a plain Error on an unterminated quote. */
export function splitScriptWords(script: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote = '';
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\' && i + 1 < script.length && quote !== "'") {
      word = (word ?? '') + script[++i]!;
    } else if (quote !== '') {
      if (c === quote) quote = '';
      else word = (word ?? '') + c;
    } else if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== '') throw new Error(`missing closing ${quote} in script "${script}"`);
  if (word !== undefined) words.push(word);
  return words;
}

const SHELL_SAFE = /^[A-Za-z0-9_\-./:=@%+,^]+$/;

export function shellQuote(word: string): string {
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The /bin/sh -c command line that runs the same program with the same arguments as keepalived would. */
export function scriptToShellCommand(script: string): string {
  return splitScriptWords(script).map(shellQuote).join(' ');
}
