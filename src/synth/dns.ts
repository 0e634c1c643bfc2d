/**
 * DNS messages for synthetic captures (RFC 1035 wire format, AAAA per RFC 3596): a query
 * for one name and the answer with A, AAAA and CNAME records. Names are written without
 * compression, which every parser must accept.
 */
import { ipBytes } from './packets.js';

export type DnsRecordSpec =
  | { type: 'A' | 'AAAA'; name: string; address: string; ttl?: number }
  | { type: 'CNAME'; name: string; target: string; ttl?: number };

const TYPE_CODES = { A: 1, CNAME: 5, AAAA: 28 } as const;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

function header(id: number, flags: number, qd: number, an: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  return h;
}

function question(name: string, qtype: 'A' | 'AAAA'): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPE_CODES[qtype], 0);
  tail.writeUInt16BE(1, 2); // IN
  return Buffer.concat([encodeName(name), tail]);
}

/** A standard query (recursion desired). */
export function dnsQuery(id: number, name: string, qtype: 'A' | 'AAAA' = 'A'): Buffer {
  return Buffer.concat([header(id, 0x0100, 1, 0), question(name, qtype)]);
}

/** The answer to dnsQuery(id, name, qtype); rcode 3 is NXDOMAIN. */
export function dnsAnswer(id: number, name: string, records: DnsRecordSpec[], qtype: 'A' | 'AAAA' = 'A', rcode = 0): Buffer {
  const rrs = records.map((r) => {
    const rdata = r.type === 'CNAME' ? encodeName(r.target) : ipBytes(r.address);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(TYPE_CODES[r.type], 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(r.ttl ?? 300, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    return Buffer.concat([encodeName(r.name), fixed, rdata]);
  });
  return Buffer.concat([header(id, 0x8180 | rcode, 1, records.length), question(name, qtype), ...rrs]);
}
