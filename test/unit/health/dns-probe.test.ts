import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { createDnsProbe, dnsProbe } from '../../../src/health/dns-probe.ts';
import { decodeDnsHeader, encodeDnsResponseHeader } from '../../../src/health/dns-wire.ts';
import { dnsSpec, never } from './helpers.ts';

type Reply = (query: Buffer) => Buffer[];

/** A UDP responder on 127.0.0.1:0 that answers each query with what `reply` returns. */
async function dnsServer(reply: Reply) {
  const queries: Buffer[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, rinfo) => {
    queries.push(message);
    for (const datagram of reply(message)) socket.send(datagram, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    queries,
    target: { host: '127.0.0.1', port: socket.address().port },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const idOf = (query: Buffer) => query.readUInt16BE(0);

test('dns: NOERROR reply with the same ID is up; the query is SOA for the root with RD', async () => {
  const server = await dnsServer((q) => [
    Buffer.concat([encodeDnsResponseHeader(idOf(q), 0, 1), q.subarray(12)]),
  ]);
  try {
    const result = await dnsProbe(dnsSpec(), server.target, never);
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /SOA \.: NOERROR, 1 answer/);
    const query = server.queries[0]!;
    const header = decodeDnsHeader(query)!;
    assert.equal(header.qr, false);
    assert.equal(query.readUInt16BE(2) & 0x0100, 0x0100, 'RD set');
    assert.deepEqual([...query.subarray(12)], [0, 0, 6, 0, 1]);
  } finally {
    await server.close();
  }
});

test('dns: the query ID is random per probe', async () => {
  const server = await dnsServer((q) => [encodeDnsResponseHeader(idOf(q), 0)]);
  try {
    for (let i = 0; i < 8; i++) await dnsProbe(dnsSpec(), server.target, never);
    assert.ok(new Set(server.queries.map(idOf)).size > 1);
  } finally {
    await server.close();
  }
});

test('dns: replies with another ID, without QR, or too short are ignored', async () => {
  const server = await dnsServer((q) => [
    encodeDnsResponseHeader(idOf(q) ^ 1, 0),
    q, // the query echoed back: QR clear
    Buffer.alloc(5),
    encodeDnsResponseHeader(idOf(q), 0),
  ]);
  try {
    const result = await dnsProbe(dnsSpec({ qtype: 'A', name: 'www.example.com' }), server.target, never);
    assert.equal(result.ok, true, result.message);
  } finally {
    await server.close();
  }
});

test('dns: only a wrong-ID reply means a timeout', async () => {
  const server = await dnsServer((q) => [encodeDnsResponseHeader(idOf(q) ^ 0xffff, 0)]);
  try {
    const result = await dnsProbe(dnsSpec({ timeoutMs: 200 }), server.target, never);
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_TIMEOUT');
    assert.match(result.message, /await reply/);
  } finally {
    await server.close();
  }
});

test('dns: SERVFAIL (or any non-zero RCODE) is down', async () => {
  const server = await dnsServer((q) => [encodeDnsResponseHeader(idOf(q), 2)]);
  try {
    const result = await dnsProbe(dnsSpec(), server.target, never);
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_DNS_RCODE');
    assert.match(result.message, /SERVFAIL/);
  } finally {
    await server.close();
  }
});

test('dns: a closed UDP port is down (ICMP port unreachable) or times out', async () => {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  const result = await dnsProbe(dnsSpec({ timeoutMs: 500 }), { host: '127.0.0.1', port }, never);
  assert.equal(result.ok, false);
  assert.ok(['ECONNREFUSED', 'HASTACK_CHECK_TIMEOUT'].includes(result.code ?? ''), result.code);
});

test('dns: pinned IDs, bind address, connect override, bad names', async () => {
  const server = await dnsServer((q) => [encodeDnsResponseHeader(idOf(q), 0)]);
  try {
    const probe = createDnsProbe({ randomId: () => 0x4242 });
    const spec = dnsSpec({
      connectHost: '127.0.0.1',
      connectPort: server.target.port,
      bindHost: '127.0.0.1',
    });
    const result = await probe(spec, { host: '192.0.2.1', port: 53 }, never);
    assert.equal(result.ok, true, result.message);
    assert.equal(idOf(server.queries[0]!), 0x4242);
    const bad = await probe(dnsSpec({ name: `${'a'.repeat(70)}.example` }), server.target, never);
    assert.equal(bad.code, 'HASTACK_CHECK_DNS_BAD_NAME');
  } finally {
    await server.close();
  }
});
