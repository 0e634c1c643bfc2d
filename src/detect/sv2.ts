/**
 * Stratum V2. Plaintext: the client's first frame is a SetupConnection for the mining
 * protocol (extension 0, type 0x00, protocol 0, min and max version 2), which also names the
 * pool host and the device's vendor and firmware (rule sv2.setup). Encrypted (the normal
 * case): only the Noise NX handshake shape is visible, a first client flight of exactly 64
 * bytes, a 234-byte reply, then encrypted frames; towards a pool endpoint or the SV2 port
 * that shape is a heuristic hit (rule sv2.noise).
 */
import type { Direction } from '../flow/types.js';
import type { EvidenceRule } from '../signatures/types.js';
import { cleanText } from './identity.js';
import { joinProvenance, ruleLabel, type IntelFinding } from './intel.js';

export interface SetupConnection {
  protocol: number;
  endpointHost: string | undefined;
  endpointPort: number;
  vendor: string | undefined;
  hardwareVersion: string | undefined;
  firmware: string | undefined;
  deviceId: string | undefined;
}

/** Parses a plaintext SV2 SetupConnection frame at `start`; null when it is not one. */
export function parseSetupConnection(buf: Buffer, start: number, end: number): SetupConnection | null {
  if (end - start < 6 + 1 + 2 + 2 + 4 + 1 + 2) return null;
  if (buf[start] !== 0 || buf[start + 1] !== 0 || buf[start + 2] !== 0) return null; // extension 0 (no channel bit), SetupConnection
  const length = buf[start + 3]! | (buf[start + 4]! << 8) | (buf[start + 5]! << 16);
  const p0 = start + 6;
  const frameEnd = p0 + length;
  if (length > 2048 || frameEnd > end) return null;
  const protocol = buf[p0]!;
  const minVersion = buf.readUInt16LE(p0 + 1);
  const maxVersion = buf.readUInt16LE(p0 + 3);
  if (protocol !== 0 || minVersion !== 2 || maxVersion !== 2) return null;
  let pos = p0 + 9; // after flags
  const str = (): string | undefined | null => {
    if (pos >= frameEnd) return null;
    const len = buf[pos]!;
    if (pos + 1 + len > frameEnd) return null;
    const text = buf.toString('utf8', pos + 1, pos + 1 + len);
    pos += 1 + len;
    return cleanText(text);
  };
  const endpointHost = str();
  if (endpointHost === null || pos + 2 > frameEnd) return null;
  const endpointPort = buf.readUInt16LE(pos);
  pos += 2;
  const vendor = str();
  const hardwareVersion = str();
  const firmware = str();
  const deviceId = str();
  if (vendor === null || hardwareVersion === null || firmware === null || deviceId === null || pos !== frameEnd) return null;
  return { protocol, endpointHost, endpointPort, vendor, hardwareVersion, firmware, deviceId };
}

export function setupConnectionEvidence(rule: EvidenceRule, s: SetupConnection): IntelFinding {
  return {
    kind: 'sv2.SetupConnection',
    dialect: 'sv2',
    confidence: rule.confidence,
    detector: 'sv2',
    provenance: joinProvenance('sv2', ruleLabel(rule)),
    poolHost: s.endpointHost,
    agent: cleanText([s.vendor, s.hardwareVersion, s.firmware].filter(Boolean).join(' ')),
    detail: cleanText(`plaintext Stratum V2, endpoint ${s.endpointHost ?? ''}:${s.endpointPort}${s.deviceId ? `, device ${s.deviceId}` : ''}`),
  };
}

/**
 * Byte counts of the first flights of a connection: the client's first flight, the
 * server's reply, and whether the client has spoken again. Cheap enough for every flow
 * whose handshake was seen.
 */
export class FlightCounter {
  private index = 0;
  private dir: Direction = 0;
  readonly bytes = [0, 0];
  /** The shape is decided (matched or not); no more counting. */
  done = false;
  matched = false;

  constructor(
    private readonly clientBytes: number,
    private readonly serverBytes: number,
  ) {}

  /** Counts a segment; returns true once the shape has been decided. */
  add(dir: Direction, length: number): boolean {
    if (this.done) return true;
    if (dir !== this.dir) {
      this.index++;
      this.dir = dir;
    }
    if (this.index === 0) {
      this.bytes[0]! += length;
      if (this.bytes[0]! > this.clientBytes) this.done = true;
    } else if (this.index === 1) {
      this.bytes[1]! += length;
      if (this.bytes[1]! > this.serverBytes) this.done = true;
    } else {
      // The client's second flight: the handshake is over.
      this.done = true;
      this.matched = this.bytes[0] === this.clientBytes && this.bytes[1] === this.serverBytes;
    }
    return this.done;
  }
}

export function noiseShapeEvidence(rule: EvidenceRule, confidence: IntelFinding['confidence'], why: string): IntelFinding {
  return {
    kind: 'sv2.noise-handshake',
    dialect: 'sv2',
    confidence,
    detector: 'sv2',
    provenance: joinProvenance('sv2', ruleLabel(rule)),
    detail: `heuristic: Noise NX handshake shape (client ${rule.params.get('client-bytes')} B, server ${rule.params.get('server-bytes')} B, then encrypted frames) ${why}`,
  };
}
