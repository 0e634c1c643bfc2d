/**
 * Contract between capture readers and the decode stage.
 *
 * A reader owns one mutable CapturedPacket and refills it for every record, so the
 * per-packet path allocates nothing: `buf` is the reader's current chunk and the packet
 * occupies `buf[offset, offset + length)`. The view is valid only during the callback.
 */
export interface CapturedPacket {
  /** LINKTYPE_* value of the interface that captured the packet (1 = Ethernet, ...). */
  linkType: number;
  /** Capture time, integer microseconds since the Unix epoch. */
  tsMicros: number;
  buf: Buffer;
  offset: number;
  /** Captured bytes (incl_len / captured length). */
  length: number;
  /** Original length on the wire (may exceed `length` when the snap length cut it). */
  wireLength: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
}

/** The one record a reader refills for every packet. */
export function newCapturedPacket(): CapturedPacket {
  return { linkType: 0, tsMicros: 0, buf: Buffer.alloc(0), offset: 0, length: 0, wireLength: 0, interfaceId: 0 };
}

export type PacketHandler = (pkt: CapturedPacket) => void;

export type CaptureFormat = 'pcap' | 'pcapng';

export interface ReaderStats {
  format: CaptureFormat | null;
  gzip: boolean;
  /** Nanosecond-resolution classic pcap (magic a1b23c4d). */
  nanosecond: boolean;
  packets: number;
  /** Bytes of packet data delivered (captured length). */
  packetBytes: number;
  /** Bytes read from the (decompressed) input, headers included. */
  inputBytes: number;
  /** Records whose header was impossible (length over snap length or limits). */
  corruptRecords: number;
  /** Times the reader skipped ahead to find the next plausible record. */
  resyncs: number;
  /** Bytes skipped while resynchronising. */
  skippedBytes: number;
  /** pcapng blocks of unknown or unsupported type that were skipped. */
  unknownBlocks: number;
  /** The input ended inside a record. */
  truncated: boolean;
  /** Human-readable warnings; bounded (see MAX_WARNINGS). */
  warnings: string[];
}

export const MAX_WARNINGS = 20;

/** Thrown when the input is not a capture at all (bad magic) or unreadable. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}
