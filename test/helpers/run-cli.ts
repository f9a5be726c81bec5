import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.ts';

/** Runs the CLI in this process and returns its exit code and everything it printed. */
export async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c));
  stderr.on('data', (c: Buffer) => (err += c));
  const code = await runCli(args, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}
