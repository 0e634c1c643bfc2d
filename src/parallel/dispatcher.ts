/**
 * The reading side of a parallel replay: every packet is read and decoded once, here, and
 * goes to the shard that owns its flow (the symmetric flow hash, so both directions meet):
 * the reading thread's own share of the flows (`local`, none by default: sharded-replay.ts)
 * is processed here, the rest are written to the rings of the worker threads. The idle
 * sweep clock runs here over all packets and tells every shard when to sweep, so each ends
 * its flows exactly where one table over all flows would; every record carries the
 * packet's ordinal, which orders the merged output.
 *
 * DNS is screened here (dns-screen.ts): only datagrams that may name a listed pool go to
 * every shard, since any shard may need the pool addresses their answers teach; the rest
 * go to the shard of their flow alone, which counts them.
 */
import type { CapturedPacket } from '../capture/types.js';
import { Decoder } from '../decode/decoder.js';
import { DecodedPacket, IPPROTO_TCP, IPPROTO_UDP } from '../decode/types.js';
import { flowHash32, shardOfHash } from '../flow/flow-hash.js';
import { SweepClock } from '../flow/sweep-clock.js';
import { DnsScreen, SCREEN_NO_POOL } from '../detect/dns-screen.js';
import { DNS_PORT } from '../detect/dns.js';
import { dnsWanted } from '../detect/engine.js';
import type { SignatureSet } from '../signatures/signature-set.js';
import { RECORD_END, RECORD_SOURCE, RECORD_SWEEP, RECORD_TICK, type PacketRingWriter } from './packet-ring.js';
import type { ShardProcessor } from './shard-processor.js';
import type { SharedChunks } from './shared-chunks.js';

/** Every this many packets each shard hears how far the input has got, so that a shard
 *  that owns none of them still lets the merge release the others' output. */
const TICK_EVERY_PACKETS = 4096;
/** The ring index of the flows processed on the reading thread. */
const LOCAL = -1;

export class PacketDispatcher {
  readonly decoder = new Decoder();
  packets = 0;
  bytes = 0;
  private readonly decoded = new DecodedPacket();
  private readonly clock = new SweepClock();
  private readonly dnsScreen = new DnsScreen();
  /** Hashes of the listed pool names; null when the signatures read no DNS. */
  private readonly dnsNames: ReadonlySet<number> | null;

  constructor(
    private readonly rings: readonly PacketRingWriter[],
    /** Where the reader reads plain files into; payload found there is not copied. */
    private readonly chunks: SharedChunks,
    /** The shard processed on this thread, and its share of the flows (0 to 1). */
    private readonly local: ShardProcessor,
    private readonly localShare: number,
    /** Called every few thousand packets, to hand the local shard's output on. */
    private readonly onProgress: () => void,
    /** The signature set the shards run (decides which DNS datagrams every shard needs). */
    signatures: SignatureSet,
  ) {
    this.dnsNames = dnsWanted(signatures) ? signatures.pools.nameHashes : null;
  }

  /** The packets that follow come from input number `file`, named `name`. */
  startInput(file: number, name: string): void {
    this.local.setSource(name, this.packets);
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
      this.local.sweep(d.tsMicros, ordinal);
      for (let i = 0; i < rings.length; i++) rings[i]!.mark(RECORD_SWEEP, ordinal, d.tsMicros);
    }
    d.dnsScreen = -1;
    // Shard 0 is this thread's own; ring i feeds shard i + 1.
    const shard = shardOfHash(flowHash32(d), this.rings.length + 1, this.localShare) - 1;
    if (this.everyShardNeeds(d)) {
      const at = d.payloadLength > 0 ? this.chunks.offsetOf(d.buf, d.payloadOffset) : -1;
      this.local.packet(d, ordinal, shard !== LOCAL);
      for (let i = 0; i < rings.length; i++) this.send(i, ordinal, i !== shard, at);
    } else if (shard === LOCAL) {
      this.local.packet(d, ordinal, false);
    } else {
      this.send(shard, ordinal, false, d.payloadLength > 0 ? this.chunks.offsetOf(d.buf, d.payloadOffset) : -1);
    }
  };

  /**
   * DNS that may name a listed pool: detection learns pool addresses from the answers and
   * applies them to later flows of any shard, so every shard reads it (their copies of its
   * evidence are dropped at the merge). UDP datagrams are screened here; DNS over TCP, rare
   * and framed across segments, goes to every shard whole.
   */
  private everyShardNeeds(d: DecodedPacket): boolean {
    if (this.dnsNames === null || (d.srcPort !== DNS_PORT && d.dstPort !== DNS_PORT)) return false;
    if (d.protocol !== IPPROTO_UDP) return true;
    // The verdict travels with the packet: its shard need not read the payload again.
    d.dnsScreen = this.dnsScreen.screen(d.buf, d.payloadOffset, d.payloadOffset + d.payloadLength, this.dnsNames);
    return d.dnsScreen !== SCREEN_NO_POOL;
  }

  private send(ring: number, ordinal: number, shared: boolean, at: number): void {
    this.rings[ring]!.packet(this.decoded, ordinal, shared, at);
    if (at >= 0) this.chunks.pointedAt(at, ring);
  }

  private tick(ordinal: number): void {
    this.local.tick(ordinal);
    for (const ring of this.rings) ring.mark(RECORD_TICK, ordinal, 0);
    this.onProgress();
  }

  /** End of all inputs: the shards finish their flows (output ordinal: after every packet). */
  end(): void {
    for (const ring of this.rings) ring.mark(RECORD_END, this.packets + 1, 0);
    this.local.finish(this.packets + 1);
  }

  /** Times the reader waited for a shard to make room (a busy shard holds the reader up). */
  get waits(): number {
    return this.rings.reduce((n, r) => n + r.waits, 0);
  }
}
