/**
 * DNS message parsing (RFC 1035 section 4, AAAA from RFC 3596): the header, the first
 * question and the A, AAAA and CNAME records of the answer section, names decompressed and
 * lower-cased. Bounded: compression loops, over-long names and oversized sections end the
 * parse.
 */
import { formatIp } from '../decode/address.js';

export const DNS_TYPE_A = 1;
export const DNS_TYPE_CNAME = 5;
export const DNS_TYPE_AAAA = 28;

export interface DnsAnswer {
  name: string;
  type: number;
  ttl: number;
  /** A/AAAA: the address as flows carry it (canonical text). */
  address?: string;
  /** CNAME: the canonical name. */
  target?: string;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  rcode: number;
  question: string | undefined;
  qtype: number;
  answers: DnsAnswer[];
}

const MAX_ANSWERS = 64;
const MAX_POINTER_JUMPS = 16;

/** A name at `pos`: [text, offset after the name in the record]; null when malformed. */
function readName(buf: Buffer, base: number, end: number, pos: number): [string, number] | null {
  let text = '';
  let after = -1;
  let jumps = 0;
  for (;;) {
    if (pos >= end) return null;
    const len = buf[pos]!;
    if (len === 0) {
      if (after < 0) after = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= end || ++jumps > MAX_POINTER_JUMPS) return null;
      if (after < 0) after = pos + 2;
      pos = base + (((len & 0x3f) << 8) | buf[pos + 1]!);
      continue;
    }
    if ((len & 0xc0) !== 0 || pos + 1 + len > end) return null;
    text += (text ? '.' : '') + buf.toString('latin1', pos + 1, pos + 1 + len).toLowerCase();
    if (text.length > 253) return null;
    pos += 1 + len;
  }
  return [text, after];
}

export function parseDnsMessage(buf: Buffer, start: number, end: number): DnsMessage | null {
  if (end - start < 12) return null;
  const id = buf.readUInt16BE(start);
  const flags = buf.readUInt16BE(start + 2);
  const qdCount = buf.readUInt16BE(start + 4);
  const anCount = buf.readUInt16BE(start + 6);
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0 || qdCount === 0) return null; // only standard queries
  const msg: DnsMessage = { id, response: (flags & 0x8000) !== 0, rcode: flags & 0xf, question: undefined, qtype: 0, answers: [] };
  let pos = start + 12;
  for (let q = 0; q < qdCount; q++) {
    const name = readName(buf, start, end, pos);
    if (!name || name[1] + 4 > end) return null;
    if (q === 0) {
      msg.question = name[0];
      msg.qtype = buf.readUInt16BE(name[1]);
    }
    pos = name[1] + 4;
  }
  for (let a = 0; a < Math.min(anCount, MAX_ANSWERS); a++) {
    const name = readName(buf, start, end, pos);
    if (!name || name[1] + 10 > end) break;
    const p = name[1];
    const type = buf.readUInt16BE(p);
    const ttl = buf.readUInt32BE(p + 4);
    const rdLength = buf.readUInt16BE(p + 8);
    const rd = p + 10;
    if (rd + rdLength > end) break;
    if (type === DNS_TYPE_A && rdLength === 4) {
      msg.answers.push({ name: name[0], type, ttl, address: `${buf[rd]}.${buf[rd + 1]}.${buf[rd + 2]}.${buf[rd + 3]}` });
    } else if (type === DNS_TYPE_AAAA && rdLength === 16) {
      const words = new Uint32Array(4);
      for (let i = 0; i < 4; i++) words[i] = buf.readUInt32BE(rd + i * 4);
      msg.answers.push({ name: name[0], type, ttl, address: formatIp(6, words) });
    } else if (type === DNS_TYPE_CNAME) {
      const target = readName(buf, start, end, rd);
      if (target) msg.answers.push({ name: name[0], type, ttl, target: target[0] });
    }
    pos = rd + rdLength;
  }
  return msg;
}

/**
 * The names an answer resolves through, starting at the question: the question, then each
 * CNAME target in turn (at most `maxHops`).
 */
export function cnameChain(msg: DnsMessage, maxHops = 8): string[] {
  const chain: string[] = [];
  let name = msg.question;
  while (name !== undefined && chain.length <= maxHops && !chain.includes(name)) {
    chain.push(name);
    name = msg.answers.find((a) => a.type === DNS_TYPE_CNAME && a.name === name)?.target;
  }
  return chain;
}
