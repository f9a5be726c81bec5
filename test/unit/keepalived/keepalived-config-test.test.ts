import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/*
 * Proves the fixtures are real keepalived configurations: `keepalived -t` (config
 * test mode) must accept each of them. keepalived checks VRRP interfaces exist,
 * so fixtures name eth0 and a copy is made with this machine's interface when
 * it has no eth0.
 */

const KEEPALIVED = process.env.KEEPALIVED_BIN ?? '/usr/sbin/keepalived';
const FIXTURES = fileURLToPath(new URL('../../fixtures/keepalived/', import.meta.url));

/** Fixture → the config id (-i) it is tested with. */
const VALID: Record<string, string> = {
  'full.conf': 'lb1',
  'unsupported.conf': 'lb1',
  'group.conf': 'lb1',
  'includes/main.conf': 'lb1',
  'conditional.conf': 'lb1',
  'conditional.conf#lb2': 'lb2',
};

function configTest(file: string, id: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KEEPALIVED, ['-t', '-i', id, '-f', file], { timeout: 30_000 }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stderr });
    });
  });
}

const available = existsSync(KEEPALIVED);
if (!available && process.env.CI !== undefined) {
  // CI must prove the fixtures: a missing keepalived is a failure there, not a skip.
  it('keepalived is installed', () => assert.fail(`${KEEPALIVED} not found (apt-get install keepalived)`));
}

describe('fixtures pass keepalived -t', { skip: available ? false : `${KEEPALIVED} not installed` }, () => {
  let root = FIXTURES;
  let scratch: string | undefined;

  before(async () => {
    const names = Object.keys(networkInterfaces());
    if (names.includes('eth0')) return;
    const iface = names.find((n) => n !== 'lo');
    assert.ok(iface, 'keepalived -t needs a non-loopback interface for the VRRP blocks');
    scratch = await mkdtemp(join(tmpdir(), 'hastack-kat-'));
    await cp(FIXTURES, scratch, { recursive: true });
    for (const entry of await readdir(scratch, { recursive: true })) {
      const path = join(scratch, entry);
      if (!path.endsWith('.conf')) continue;
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replaceAll('eth0', iface));
    }
    root = `${scratch}/`;
  });

  after(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it('accepts every valid fixture, and refuses a broken one', async () => {
    for (const [key, id] of Object.entries(VALID)) {
      const file = join(root, key.split('#')[0]!);
      const { code, stderr } = await configTest(file, id);
      assert.equal(code, 0, `keepalived -t -i ${id} -f ${file} exited ${code}:\n${stderr}`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'hastack-kat-'));
    try {
      const broken = join(dir, 'broken.conf');
      await writeFile(broken, 'virtual_server 192.0.2.1 80 {\n  lb_algo rr\n');
      assert.notEqual((await configTest(broken, 'lb1')).code, 0, 'keepalived -t accepted an unclosed block');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
