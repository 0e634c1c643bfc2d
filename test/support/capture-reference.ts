/**
 * Independent readers for differential tests: the pcap-parser package (classic pcap only)
 * and, where installed, tshark. Both report packets in the shape our tests compare.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

export interface ReferencePacket {
  tsMicros: number;
  /** Captured length and original length. */
  length: number;
  wireLength: number;
  data: Buffer;
}

interface PcapParserHeader {
  timestampSeconds: number;
  timestampMicroseconds: number;
  capturedLength: number;
  originalLength: number;
}

interface PcapParserEvents {
  on(event: 'globalHeader', listener: (header: { linkLayerType: number }) => void): this;
  on(event: 'packet', listener: (packet: { header: PcapParserHeader; data: Buffer }) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(input: NodeJS.ReadableStream): PcapParserEvents };

/** Magic numbers (big-endian reading of the first four bytes). */
const MICRO_BE = 0xa1b2c3d4;
const MICRO_LE = 0xd4c3b2a1;
const NANO_BE = 0xa1b23c4d;
const NANO_LE = 0x4d3cb2a1;

export function sniffFormat(bytes: Buffer): 'pcap' | 'pcapng' | 'unknown' {
  if (bytes.length < 4) return 'unknown';
  const magic = bytes.readUInt32BE(0);
  if (magic === MICRO_BE || magic === MICRO_LE || magic === NANO_BE || magic === NANO_LE) return 'pcap';
  return magic === 0x0a0d0d0a ? 'pcapng' : 'unknown';
}

/**
 * Reads a classic pcap with pcap-parser. It only knows microsecond magics, so a nanosecond
 * file is handed over with its magic rewritten and the sub-second field divided afterwards.
 */
export function readWithPcapParser(bytes: Buffer): Promise<{ linkType: number; packets: ReferencePacket[] }> {
  const magic = bytes.readUInt32BE(0);
  const nanosecond = magic === NANO_BE || magic === NANO_LE;
  const input = Buffer.from(bytes);
  if (magic === NANO_BE) input.writeUInt32BE(MICRO_BE, 0);
  if (magic === NANO_LE) input.writeUInt32BE(MICRO_LE, 0);
  return new Promise((resolve, reject) => {
    const stream = new PassThrough();
    const packets: ReferencePacket[] = [];
    let linkType = -1;
    pcapParser
      .parse(stream)
      .on('globalHeader', (header) => {
        linkType = header.linkLayerType & 0xffff;
      })
      .on('packet', ({ header, data }) => {
        const fraction = nanosecond ? Math.floor(header.timestampMicroseconds / 1000) : header.timestampMicroseconds;
        packets.push({
          tsMicros: header.timestampSeconds * 1e6 + fraction,
          length: header.capturedLength,
          wireLength: header.originalLength,
          data: Buffer.from(data),
        });
      })
      .on('error', reject)
      .on('end', () => resolve({ linkType, packets }));
    stream.end(input);
  });
}

export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** "1112172654.366527123" (tshark's frame.time_epoch) as integer microseconds. */
function epochStringToMicros(epoch: string): number {
  const [seconds, fraction = ''] = epoch.split('.');
  return Number(seconds) * 1e6 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/** Reads any capture tshark understands; interfaceId is frame.interface_id. */
export function readWithTshark(path: string): Array<ReferencePacket & { interfaceId: number }> {
  const run = spawnSync('tshark', ['-n', '-r', path, '-T', 'json', '-x', '-j', 'frame'], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`tshark failed on ${path}: ${run.stderr}`);
  type Layers = { frame_raw?: [string]; frame: Record<string, string> };
  const frames = JSON.parse(run.stdout) as Array<{ _source: { layers: Layers } }>;
  return frames.map(({ _source: { layers } }) => ({
    tsMicros: epochStringToMicros(layers.frame['frame.time_epoch']!),
    length: Number(layers.frame['frame.cap_len']),
    wireLength: Number(layers.frame['frame.len']),
    interfaceId: Number(layers.frame['frame.interface_id'] ?? 0),
    data: Buffer.from(layers.frame_raw?.[0] ?? '', 'hex'),
  }));
}

/** Every regular file below dir, sorted, except documentation. */
export function listCaptureFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listCaptureFiles(path));
    else if (entry.isFile() && !entry.name.endsWith('.md')) files.push(path);
  }
  return files.sort();
}
