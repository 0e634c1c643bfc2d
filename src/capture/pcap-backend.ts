/**
 * Live capture through libpcap, via the optional `pcap` npm module (node_pcap). Chosen by
 * measurement on a veth pair (README, "Live capture"): it reads the kernel's TPACKET_V3
 * ring without a copy through a pipe, takes the BPF filter into the kernel, and reports
 * the kernel's drop counters. The module is native and needs libpcap, so it is an optional
 * dependency, loaded only when a live capture starts.
 */
import { createRequire } from 'node:module';
import { CaptureOpenError, type CaptureBackend, type HandleCounters, type LiveHandle, type LiveOpenOptions } from './live-backend.js';
import type { CapturedPacket, PacketHandler } from './types.js';

export const PCAP_MODULE = 'pcap';
export const MISSING_PCAP_MESSAGE =
  "live capture needs the optional 'pcap' module: apt-get install libpcap-dev && npm install pcap";

/** The parts of node_pcap this backend uses (pcap.js 3.x and its native session). */
interface PcapModule {
  createSession(device: string, opts: PcapSessionOptions): PcapSession;
  PcapSession?: { prototype: { on_packet_ready?: (this: PcapSession) => void } };
}

interface PcapSessionOptions {
  filter: string;
  buffer_size: number;
  snap_length: number;
  buffer_timeout: number;
  promiscuous: boolean;
}

interface NativeSession {
  /** Reads queued packets; > 0 read, 0 none, -1 error, -2 after close (finalizes the handle). */
  dispatch(buf: Buffer, header: Buffer): number;
  read_callback: () => void;
}

interface PcapSession {
  /** Set by this backend: called for each packet instead of pcap.js's 'packet' event. */
  [DIRECT_HANDLER]?: () => void;
  link_type: string;
  /** Reused packet and header buffers the native side fills before each 'packet' event. */
  buf: Buffer;
  header: Buffer;
  session: NativeSession;
  on(event: 'packet', listener: (raw: { buf: Buffer; header: Buffer }) => void): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}

/** node_pcap names the common link types and reports others as "Unknown linktype N". */
const LINK_TYPES: Readonly<Record<string, number>> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
  LINKTYPE_IEEE802_11_RADIO: 127,
};

let cached: PcapModule | null = null;

export const DIRECT_HANDLER = Symbol('minewatch packet handler');

/**
 * pcap.js answers each packet from the native side with a new wrapper object and an
 * EventEmitter 'packet' event. Its sessions bind their per-packet callback from the
 * prototype when constructed, so replacing the prototype's method before any session
 * exists lets a session with a direct handler skip both (other sessions still get the
 * event). The native call per packet stays: node_pcap dispatches one packet at a time.
 */
function callDirectHandlers(mod: PcapModule): boolean {
  const proto = mod.PcapSession?.prototype;
  const original = proto?.on_packet_ready;
  if (!proto || typeof original !== 'function') return false;
  proto.on_packet_ready = function onPacketReady(this: PcapSession): void {
    const direct = this[DIRECT_HANDLER];
    if (direct) direct();
    else original.call(this);
  };
  return true;
}

/** Whether the loaded pcap.js calls direct handlers (else the 'packet' event is used). */
let directHandlers = false;

/**
 * Loads the binding on first use. Throws a permanent CaptureOpenError carrying
 * MISSING_PCAP_MESSAGE when it is not installed or did not build.
 */
export function loadPcapModule(moduleName = PCAP_MODULE): PcapModule {
  if (cached && moduleName === PCAP_MODULE) return cached;
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(moduleName);
  } catch {
    throw new CaptureOpenError(MISSING_PCAP_MESSAGE, true);
  }
  if (typeof (mod as Partial<PcapModule> | null)?.createSession !== 'function') {
    throw new CaptureOpenError(`the installed '${moduleName}' module is not node_pcap 3.x`, true);
  }
  if (moduleName === PCAP_MODULE) {
    cached = mod as PcapModule;
    directHandlers = callDirectHandlers(cached);
  }
  return mod as PcapModule;
}

export const pcapBackend: CaptureBackend = {
  name: 'pcap',
  open(opts: LiveOpenOptions, onPacket: PacketHandler): LiveHandle {
    const pcap = loadPcapModule();
    let session: PcapSession;
    try {
      session = pcap.createSession(opts.interface, {
        filter: opts.bpf,
        buffer_size: opts.bufferBytes,
        snap_length: opts.snaplen,
        buffer_timeout: opts.bufferTimeoutMs,
        promiscuous: opts.promiscuous,
      });
    } catch (err) {
      throw openError(opts, err);
    }
    return new PcapHandle(session, onPacket);
  },
};

/** The host's byte order, which libpcap's packet headers are in (probed in memory: node:os
 *  would be loaded at every start for this alone). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class PcapHandle implements LiveHandle {
  readonly linkType: number;
  private readonly native: NativeSession;
  private readonly packet: CapturedPacket;
  private failed = false;
  /** The native handle is released (dispatch returned -2); it must not be touched again. */
  private finalized = false;
  private closed = false;

  constructor(
    private readonly session: PcapSession,
    onPacket: PacketHandler,
  ) {
    this.linkType = linkTypeOf(session.link_type);
    this.native = session.session;
    if (typeof this.native?.dispatch !== 'function') {
      session.close();
      throw new CaptureOpenError("the installed 'pcap' module has an unexpected layout (expected node_pcap 3.x)", true);
    }
    const packet: CapturedPacket = {
      linkType: this.linkType,
      tsMicros: 0,
      buf: session.buf,
      offset: 0,
      length: 0,
      wireLength: 0,
      interfaceId: 0,
    };
    this.packet = packet;
    // The header is struct pcap_pkthdr flattened by the binding: sec, usec, caplen, len
    // as 32-bit host-order words.
    const header = session.header;
    const u32 = LITTLE_ENDIAN ? (o: number) => header.readUInt32LE(o) : (o: number) => header.readUInt32BE(o);
    // The binding fills session.buf and session.header before each call.
    const buf = session.buf;
    const handle = (): void => {
      packet.tsMicros = u32(0) * 1_000_000 + u32(4);
      packet.length = Math.min(u32(8), buf.length);
      packet.wireLength = u32(12);
      onPacket(packet);
    };
    if (directHandlers) session[DIRECT_HANDLER] = handle;
    else session.on('packet', handle);
    // Our own read callback, to see errors that pcap.js would only count as empty reads.
    this.native.read_callback = () => {
      this.dispatch();
    };
  }

  drain(): boolean {
    if (!this.closed) this.dispatch();
    return !this.failed;
  }

  counters(): HandleCounters {
    if (this.closed) return { received: 0, dropped: 0, ifDropped: 0 };
    const s = this.session.stats();
    return { received: s.ps_recv >>> 0, dropped: s.ps_drop >>> 0, ifDropped: s.ps_ifdrop >>> 0 };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    // pcap.js only breaks the loop; the handle and its poll watcher are released by the next
    // dispatch. Do it now so the socket closes and the event loop can end.
    this.dispatch();
  }

  private dispatch(): void {
    if (this.finalized) return;
    const r = this.native.dispatch(this.packet.buf, this.session.header);
    if (r === -2) this.finalized = true;
    else if (r === -1) this.failed = true;
  }
}

function linkTypeOf(name: string): number {
  const known = LINK_TYPES[name];
  if (known !== undefined) return known;
  const m = /(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** libpcap's error text, with a hint where the fix is known. */
function openError(opts: LiveOpenOptions, err: unknown): CaptureOpenError {
  const text = err instanceof Error ? err.message : String(err);
  if (/permission|not permitted|EPERM|EACCES/i.test(text)) {
    return new CaptureOpenError(
      `cannot capture on ${opts.interface}: ${text} (needs root or CAP_NET_RAW and CAP_NET_ADMIN; see README, "Deployment")`,
    );
  }
  if (opts.bpf && /syntax|filter|parse|illegal|unknown/i.test(text) && !/No such device/i.test(text)) {
    return new CaptureOpenError(`bad --bpf filter "${opts.bpf}": ${text}`, true);
  }
  return new CaptureOpenError(`cannot capture on ${opts.interface}: ${text}`);
}
