/**
 * The reading side of a parallel replay: every packet is read and decoded once, here, and
 * written to the ring of the shard worker that owns its flow (the symmetric flow hash, so
 * both directions meet). DNS goes to every shard (Sensor.isSharedFlow). The idle sweep
 * clock runs here over all packets and tells every shard when to sweep, so each ends its
 * flows exactly where one table over all flows would; every record carries the packet's
 * ordinal, which orders the merged output.
 */
import type { CapturedPacket } from '../capture/types.js';
import { Decoder } from '../decode/decoder.js';
import { DecodedPacket, IPPROTO_TCP, IPPROTO_UDP } from '../decode/types.js';
import { flowHash32, shardOfHash } from '../flow/flow-hash.js';
import { SweepClock } from '../flow/sweep-clock.js';
import { DnsScreen, listedNameHashes, SCREEN_NO_POOL } from '../detect/dns-screen.js';
import { dnsWanted } from '../detect/engine.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import { isSharedFlow } from '../sensor.js';
import { RECORD_END, RECORD_SOURCE, RECORD_SWEEP, RECORD_TICK, type PacketRingWriter } from './packet-ring.js';
import type { SharedChunks } from './shared-chunks.js';

/** Every this many packets each shard hears how far the input has got, so that a shard
 *  that owns none of them still lets the merge release the others' output. */
const TICK_EVERY_PACKETS = 4096;

export class PacketDispatcher {
  readonly decoder = new Decoder();
  packets = 0;
  bytes = 0;
  private readonly decoded = new DecodedPacket();
  private readonly clock = new SweepClock();

  private readonly dnsScreen = new DnsScreen();
  /** Hashes of the listed pool names; null when the signatures read no DNS. */
  private dnsNames: ReadonlySet<number> | null = null;

  constructor(
    private readonly rings: readonly PacketRingWriter[],
    /** Where the reader reads plain files into; payload found there is not copied. */
    private readonly chunks: SharedChunks,
  ) {}

  /** The signature set the shards run (decides which DNS datagrams every shard needs). */
  useSignatures(set: SignatureSet): void {
    this.dnsNames = dnsWanted(set) ? listedNameHashes(set.pools) : null;
  }

  /** The packets that follow come from input number `file`. */
  startInput(file: number): void {
    for (const ring of this.rings) ring.mark(RECORD_SOURCE, this.packets, file);
  }

  readonly handlePacket = (pkt: CapturedPacket): void => {
    const ordinal = ++this.packets;
    this.bytes += pkt.length;
    if ((ordinal & (TICK_EVERY_PACKETS - 1)) === 0) this.tick(ordinal);
    const d = this.decoded;
    if (!this.decoder.decodePacket(pkt, d)) return;
    // What a flow table ignores is not sent (and does not move its sweep clock).
    if ((d.protocol !== IPPROTO_TCP && d.protocol !== IPPROTO_UDP) || (d.ipVersion !== 4 && d.ipVersion !== 6)) return;
    const rings = this.rings;
    if (this.clock.take(d.tsMicros)) {
      for (let i = 0; i < rings.length; i++) rings[i]!.mark(RECORD_SWEEP, ordinal, d.tsMicros);
    }
    const shard = shardOfHash(flowHash32(d), rings.length);
    const at = d.payloadLength > 0 ? this.chunks.offsetOf(d.buf, d.payloadOffset) : -1;
    if (isSharedFlow(d) && this.dnsNames !== null && this.dnsScreen.screen(d.buf, d.payloadOffset, d.payloadOffset + d.payloadLength, this.dnsNames) !== SCREEN_NO_POOL) {
      for (let i = 0; i < rings.length; i++) this.send(i, ordinal, i !== shard, at);
    } else {
      this.send(shard, ordinal, false, at);
    }
  };

  private send(ring: number, ordinal: number, shared: boolean, at: number): void {
    this.rings[ring]!.packet(this.decoded, ordinal, shared, at);
    if (at >= 0) this.chunks.pointedAt(at, ring);
  }

  private tick(ordinal: number): void {
    for (const ring of this.rings) ring.mark(RECORD_TICK, ordinal, 0);
  }

  /** End of all inputs: the shards finish their flows (output ordinal: after every packet). */
  end(): void {
    for (const ring of this.rings) ring.mark(RECORD_END, this.packets + 1, 0);
  }

  /** Times the reader waited for a shard to make room (a busy shard holds the reader up). */
  get waits(): number {
    return this.rings.reduce((n, r) => n + r.waits, 0);
  }
}
