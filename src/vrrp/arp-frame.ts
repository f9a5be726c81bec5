import { writeU32 } from './ipv4-header.ts';

/*
 * Gratuitous ARP frames, as keepalived sends them on becoming MASTER: an ARP
 * request for the VIP from the VIP, broadcast, so every host on the segment
 * updates the VIP's neighbour entry to our MAC. Pure.
 */

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV4 = 0x0800;
/** Ethernet minimum frame (without FCS): the rest is zero padding. */
export const ARP_FRAME_BYTES = 60;

/** "aa:bb:cc:dd:ee:ff" → 6 bytes; throws RangeError on anything else. */
export function parseMac(text: string): Uint8Array {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(
    text,
  );
  if (m === null) throw new RangeError(`not a MAC address: ${text}`);
  return Uint8Array.from(m.slice(1, 7).map((h) => Number.parseInt(h, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The VRRP virtual MAC of an IPv4 virtual router: 00:00:5e:00:01:{VRID}. */
export function virtualMac(vrid: number): string {
  return `00:00:5e:00:01:${vrid.toString(16).padStart(2, '0')}`;
}

/** A broadcast gratuitous ARP request announcing `ip` (u32) at `mac`. */
export function gratuitousArp(mac: Uint8Array, ip: number): Buffer {
  const frame = Buffer.alloc(ARP_FRAME_BYTES);
  frame.fill(0xff, 0, 6); // destination: broadcast
  frame.set(mac, 6);
  frame.writeUInt16BE(ETHERTYPE_ARP, 12);
  frame.writeUInt16BE(1, 14); // hardware: Ethernet
  frame.writeUInt16BE(ETHERTYPE_IPV4, 16);
  frame[18] = 6;
  frame[19] = 4;
  frame.writeUInt16BE(1, 20); // request
  frame.set(mac, 22); // sender hardware address
  writeU32(frame, 28, ip); // sender protocol address
  frame.fill(0xff, 32, 38); // target hardware address, as keepalived
  writeU32(frame, 38, ip); // target protocol address = sender: gratuitous
  return frame;
}
