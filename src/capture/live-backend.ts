/**
 * Contract between live capture backends and LiveCapture. A backend opens an interface
 * and fills the same reused CapturedPacket record that the file readers fill, so live
 * packets take exactly the path of replayed ones (decode → flows → detection).
 */
import type { PacketHandler } from './types.js';

export interface LiveOpenOptions {
  interface: string;
  /** BPF expression compiled and attached in the kernel; empty for everything. */
  bpf: string;
  /** Bytes kept per packet. */
  snaplen: number;
  /** Kernel ring size in bytes. */
  bufferBytes: number;
  promiscuous: boolean;
  /** How long the kernel may hold packets before waking the reader (latency against wakeups). */
  bufferTimeoutMs: number;
}

/** Raw counters of one open handle; 32-bit in libpcap, so they wrap (see DropCounters). */
export interface HandleCounters {
  /** Packets that passed the filter. */
  received: number;
  /** Packets the kernel dropped because the ring was full. */
  dropped: number;
  /** Packets dropped by the interface or driver, as libpcap sees them. */
  ifDropped: number;
}

export interface LiveHandle {
  /** LINKTYPE_* of the interface. */
  readonly linkType: number;
  /**
   * Hands every queued packet to the handler now. Backends also read on their own; this is
   * the safety net for a lost wakeup (libuv stops watching a socket after an error, e.g.
   * when the interface went down). Returns false when the handle failed.
   */
  drain(): boolean;
  counters(): HandleCounters;
  close(): void;
}

export interface CaptureBackend {
  readonly name: string;
  /** Opens the interface; throws CaptureOpenError with a message a user can act on. */
  open(opts: LiveOpenOptions, onPacket: PacketHandler): LiveHandle;
}

/** The interface could not be opened (missing, no permission, bad filter). */
export class CaptureOpenError extends Error {
  override name = 'CaptureOpenError';
  constructor(
    message: string,
    /** Retrying cannot help (bad filter, missing backend): fail instead of waiting. */
    readonly permanent = false,
  ) {
    super(message);
  }
}
