import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import { smtpProbe } from '../../../src/health/smtp-probe.ts';
import { never, smtpSpec, startTcpServer, waitFor } from './helpers.ts';

interface Script {
  banner: string;
  heloReply?: string;
}

/** A tiny SMTP peer: sends the banner, answers HELO, records the commands it got. */
async function smtpServer(script: Script) {
  const commands: string[] = [];
  const server = await startTcpServer((socket: net.Socket) => {
    socket.write(script.banner);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let newline = buffer.indexOf('\r\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        commands.push(line);
        if (line.startsWith('HELO ') && script.heloReply !== undefined) socket.write(script.heloReply);
        if (line === 'QUIT') socket.end('221 bye\r\n');
        newline = buffer.indexOf('\r\n');
      }
    });
  });
  return { ...server, commands, target: { host: '127.0.0.1', port: server.port } };
}

test('smtp: 220 banner, HELO answered 250, then QUIT', async () => {
  const server = await smtpServer({
    banner: '220 mail.example ESMTP\r\n',
    heloReply: '250 mail.example\r\n',
  });
  try {
    const result = await smtpProbe(smtpSpec({ helo: 'lb1.example' }), server.target, never);
    assert.equal(result.ok, true, result.message);
    await waitFor(() => server.commands.length === 2);
    assert.deepEqual(server.commands, ['HELO lb1.example', 'QUIT']);
  } finally {
    await server.close();
  }
});

test('smtp: multi-line banner and multi-line HELO reply', async () => {
  const server = await smtpServer({
    banner: '220-mail.example ESMTP\r\n220-no UCE\r\n220 ready\r\n',
    heloReply: '250-mail.example\r\n250 PIPELINING\r\n',
  });
  try {
    const result = await smtpProbe(smtpSpec(), server.target, never);
    assert.equal(result.ok, true, result.message);
    // HELO was sent only after the whole banner, so exactly one HELO.
    await waitFor(() => server.commands.includes('QUIT'));
    assert.equal(server.commands.filter((c) => c.startsWith('HELO')).length, 1);
  } finally {
    await server.close();
  }
});

test('smtp: a non-220 banner is down', async () => {
  const server = await smtpServer({ banner: '554 go away\r\n' });
  try {
    const result = await smtpProbe(smtpSpec(), server.target, never);
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_SMTP_BANNER');
    assert.match(result.message, /554 go away/);
  } finally {
    await server.close();
  }
});

test('smtp: HELO answered with anything but 250 is down', async () => {
  const server = await smtpServer({ banner: '220 hi\r\n', heloReply: '421 shutting down\r\n' });
  try {
    const result = await smtpProbe(smtpSpec(), server.target, never);
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_SMTP_HELO');
    assert.match(result.message, /421/);
  } finally {
    await server.close();
  }
});

test('smtp: garbage banner, closed connection and silence are down', async () => {
  const garbage = await smtpServer({ banner: 'HTTP/1.1 400 Bad Request\r\n\r\n' });
  const closing = await startTcpServer((socket) => socket.end());
  const silent = await startTcpServer(() => {});
  try {
    const a = await smtpProbe(smtpSpec(), garbage.target, never);
    assert.equal(a.code, 'HASTACK_CHECK_SMTP_BAD_REPLY');
    const b = await smtpProbe(smtpSpec(), { host: '127.0.0.1', port: closing.port }, never);
    assert.equal(b.code, 'HASTACK_CHECK_SMTP_CLOSED');
    const c = await smtpProbe(smtpSpec({ timeoutMs: 200 }), { host: '127.0.0.1', port: silent.port }, never);
    assert.equal(c.code, 'HASTACK_CHECK_TIMEOUT');
    assert.match(c.message, /banner/);
  } finally {
    await Promise.all([garbage.close(), closing.close(), silent.close()]);
  }
});

test('smtp: a HELO name with CR/LF is refused before connecting', async () => {
  const result = await smtpProbe(
    smtpSpec({ helo: 'x\r\nMAIL FROM:<a@b>' }),
    { host: '127.0.0.1', port: 1 },
    never,
  );
  assert.equal(result.code, 'HASTACK_CHECK_INVALID');
});
