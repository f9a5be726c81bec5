import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/core/clock.ts';
import { decodeProcEvents, encodeProcListen } from '../../../src/vrrp/proc-connector.ts';

/* The process events connector codec (little-endian hosts: x86, arm64). */

const FORK = 1;
const EXEC = 2;
const COMM = 0x200;
const EXIT = 0x80000000;

/** One netlink message as the kernel's cn_proc builds it: nlmsghdr, cn_msg, proc_event. */
function message(what: number, data: Buffer, options: { seq?: number; ack?: number; idx?: number } = {}) {
  const event = Buffer.alloc(16 + data.length);
  event.writeUInt32LE(what, 0);
  event.writeUInt32LE(3, 4); // cpu
  event.writeBigUInt64LE(123456789n, 8); // timestamp_ns
  data.copy(event, 16);
  const buf = Buffer.alloc(16 + 20 + event.length);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(3, 4); // NLMSG_DONE
  buf.writeUInt32LE(options.seq ?? 7, 8);
  buf.writeUInt32LE(options.idx ?? 1, 16);
  buf.writeUInt32LE(1, 20);
  buf.writeUInt32LE(options.seq ?? 7, 24);
  buf.writeUInt32LE(options.ack ?? 0, 28);
  buf.writeUInt16LE(event.length, 32);
  event.copy(buf, 36);
  return buf;
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) b.writeUInt32LE(v, i * 4);
  return b;
}

function commData(pid: number, tgid: number, comm: string): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(pid, 0);
  b.writeUInt32LE(tgid, 4);
  b.write(comm, 8, 16, 'utf8');
  return b;
}

describe('proc connector codec', () => {
  it('encodes the listen and ignore requests byte for byte', () => {
    assert.equal(
      encodeProcListen('listen', 0x01020304).toString('hex'),
      [
        '28000000', // nlmsg_len 40
        '0300', // NLMSG_DONE
        '0000', // flags
        '04030201', // seq
        '00000000', // pid
        '01000000', // CN_IDX_PROC
        '01000000', // CN_VAL_PROC
        '04030201', // cn seq
        '00000000', // ack
        '0400', // len
        '0000', // flags
        '01000000', // PROC_CN_MCAST_LISTEN
      ].join(''),
    );
    const ignore = encodeProcListen('ignore', 9);
    assert.equal(ignore.length, 40);
    assert.equal(ignore.readUInt32LE(36), 2);
    assert.equal(ignore.readUInt32LE(8), 9);
    // A nonce in cn_msg.ack: the kernel's answer carries it + 1.
    assert.equal(encodeProcListen('listen', 0, 0xabcdef).readUInt32LE(28), 0xabcdef);
  });

  it('decodes each event type', () => {
    assert.deepEqual(decodeProcEvents(message(FORK, u32s(10, 11, 12, 13))), [
      { type: 'fork', parentPid: 10, parentTgid: 11, childPid: 12, childTgid: 13 },
    ]);
    assert.deepEqual(decodeProcEvents(message(EXEC, u32s(20, 21))), [{ type: 'exec', pid: 20, tgid: 21 }]);
    assert.deepEqual(decodeProcEvents(message(COMM, commData(30, 31, 'worker-1'))), [
      { type: 'comm', pid: 30, tgid: 31, comm: 'worker-1' },
    ]);
    // A 16-byte name has no NUL: all of it.
    assert.deepEqual(decodeProcEvents(message(COMM, commData(30, 30, 'abcdefghijklmnop'))), [
      { type: 'comm', pid: 30, tgid: 30, comm: 'abcdefghijklmnop' },
    ]);
    // exit: pid, tgid, exit_code, exit_signal, parent_pid, parent_tgid.
    assert.deepEqual(decodeProcEvents(message(EXIT, u32s(40, 41, 9, 17, 1, 1))), [
      { type: 'exit', pid: 40, tgid: 41 },
    ]);
    assert.deepEqual(decodeProcEvents(message(0x80, u32s(1, 1, 0))), [{ type: 'other', what: 0x80 }]);
    // The answer to listen: PROC_EVENT_NONE carrying the request's ack + 1 and an errno.
    assert.deepEqual(decodeProcEvents(message(0, u32s(0), { seq: 99, ack: 1 })), [
      { type: 'ack', ack: 1, err: 0 },
    ]);
    assert.deepEqual(decodeProcEvents(message(0, u32s(1), { seq: 5, ack: 78 })), [
      { type: 'ack', ack: 78, err: 1 },
    ]);
  });

  it('decodes events captured from a real kernel (exec, listen ack)', () => {
    const captured = Buffer.from(
      '4c00000003000000a1000000000000000100000001000000a1000000000000002800000002000000000000003994107a9e0000009f5200009f52000000000000000000000000000000000000',
      'hex',
    );
    assert.deepEqual(decodeProcEvents(captured), [{ type: 'exec', pid: 0x529f, tgid: 0x529f }]);
    // And the answer to a listen request whose ack was 0.
    const ack = Buffer.from(
      '4c000000030000000c1700000000000001000000010000000c17000001000000280000000000000001000000658bb7a3d3000000000000000000000000000000000000000000000000000000',
      'hex',
    );
    assert.deepEqual(decodeProcEvents(ack), [{ type: 'ack', ack: 1, err: 0 }]);
  });

  it('decodes several messages in one datagram, 4-byte aligned', () => {
    const comm = message(COMM, commData(1, 1, 'a'));
    const odd = Buffer.concat([message(EXEC, Buffer.concat([u32s(5, 5), Buffer.alloc(1)]))]);
    // A message whose length is not a multiple of 4 is followed by padding.
    const padded = Buffer.concat([odd, Buffer.alloc(3)]);
    const datagram = Buffer.concat([
      message(FORK, u32s(1, 1, 2, 2)),
      padded,
      comm,
      message(EXIT, u32s(2, 2, 0, 0)),
    ]);
    assert.deepEqual(
      decodeProcEvents(datagram).map((e) => e.type),
      ['fork', 'exec', 'comm', 'exit'],
    );
  });

  it('skips foreign connector messages, netlink errors and short events', () => {
    assert.deepEqual(decodeProcEvents(message(EXEC, u32s(1, 1), { idx: 2 })), []);
    const error = message(EXEC, u32s(1, 1));
    error.writeUInt16LE(2, 4); // NLMSG_ERROR
    assert.deepEqual(decodeProcEvents(error), []);
    assert.deepEqual(decodeProcEvents(message(FORK, u32s(1, 2, 3))), [], 'fork data too short');
    assert.deepEqual(decodeProcEvents(message(COMM, u32s(1, 1, 0))), [], 'comm without its name');
    // cn_msg.len claims more than the message holds.
    const lying = message(EXEC, u32s(1, 1));
    lying.writeUInt16LE(200, 32);
    assert.deepEqual(decodeProcEvents(lying), []);
    // A bad message is skipped, the next one still read.
    assert.deepEqual(decodeProcEvents(Buffer.concat([message(FORK, u32s(1)), message(EXEC, u32s(3, 3))])), [
      { type: 'exec', pid: 3, tgid: 3 },
    ]);
  });

  it('never throws on truncated or random input', () => {
    const whole = Buffer.concat([
      message(FORK, u32s(1, 1, 2, 2)),
      message(COMM, commData(2, 2, 'x')),
      message(EXIT, u32s(2, 2, 0, 0, 1, 1)),
    ]);
    for (let n = 0; n <= whole.length; n++) {
      const events = decodeProcEvents(whole.subarray(0, n));
      assert.ok(events.length <= 3);
    }
    const random = seededRandom(42);
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.alloc(Math.floor(random() * 200));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(random() * 256);
      // Plausible headers now and then, so the deeper paths are reached too.
      if (buf.length >= 36 && random() < 0.5) {
        buf.writeUInt32LE(Math.min(buf.length, Math.floor(random() * 120)), 0);
        buf.writeUInt32LE(1, 16);
        buf.writeUInt32LE(1, 20);
        buf.writeUInt16LE(Math.floor(random() * 100), 32);
      }
      for (const event of decodeProcEvents(buf)) assert.equal(typeof event.type, 'string');
      // A valid message with its tail cut at a random point.
      const cut = whole.subarray(0, Math.floor(random() * whole.length));
      decodeProcEvents(Buffer.concat([cut, buf]));
    }
  });
});
