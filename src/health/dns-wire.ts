import type { DnsQueryType } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';

export const CODE_DNS_BAD_NAME = 'HASTACK_CHECK_DNS_BAD_NAME';

/** RFC 1035 / 3596 type numbers for the types DNS_CHECK supports. */
export const DNS_TYPE_CODES: Readonly<Record<DnsQueryType, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
};

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const HEADER_BYTES = 12;
const CLASS_IN = 1;
const FLAG_QR = 0x8000;
const FLAG_RD = 0x0100;

export interface DnsHeader {
  id: number;
  /** Set in responses. */
  qr: boolean;
  opcode: number;
  tc: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
}

/**
 * A one-question query with Recursion Desired, as keepalived's DNS_CHECK sends.
 * `name` is dotted (`example.com`, `example.com.`); `.` or `` is the root.
 */
export function encodeDnsQuery(id: number, name: string, type: DnsQueryType): Buffer {
  const labels = name.split('.').filter((label) => label !== '');
  const encodedLabels = labels.map((label) => Buffer.from(label, 'utf8'));
  const nameBytes = encodedLabels.reduce((sum, label) => sum + 1 + label.length, 1);
  if (nameBytes > 255)
    throw new HastackError(CODE_DNS_BAD_NAME, `DNS name too long: ${name.slice(0, 60)}...`);
  const out = Buffer.alloc(HEADER_BYTES + nameBytes + 4);
  out.writeUInt16BE(id & 0xffff, 0);
  out.writeUInt16BE(FLAG_RD, 2);
  out.writeUInt16BE(1, 4); // QDCOUNT; AN/NS/AR stay 0
  let offset = HEADER_BYTES;
  for (const label of encodedLabels) {
    if (label.length > 63)
      throw new HastackError(CODE_DNS_BAD_NAME, `DNS label longer than 63 bytes in ${name}`);
    out[offset++] = label.length;
    label.copy(out, offset);
    offset += label.length;
  }
  out[offset++] = 0;
  out.writeUInt16BE(DNS_TYPE_CODES[type], offset);
  out.writeUInt16BE(CLASS_IN, offset + 2);
  return out;
}

/** The fixed 12-byte header, or undefined when the datagram is too short to hold one. */
export function decodeDnsHeader(message: Uint8Array): DnsHeader | undefined {
  if (message.length < HEADER_BYTES) return undefined;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const flags = view.getUint16(2);
  return {
    id: view.getUint16(0),
    qr: (flags & FLAG_QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    tc: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    qdcount: view.getUint16(4),
    ancount: view.getUint16(6),
  };
}

/** Builds a response header for tests and tools: echo `id`, set QR and the given RCODE. */
export function encodeDnsResponseHeader(id: number, rcode: number, ancount = 0): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt16BE(id & 0xffff, 0);
  out.writeUInt16BE(FLAG_QR | FLAG_RD | 0x0080 | (rcode & 0xf), 2);
  out.writeUInt16BE(0, 4);
  out.writeUInt16BE(ancount, 6);
  return out;
}

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}
