/**
 * The live sensor: LiveCapture → Sensor → HitStore, with the live feed beside it.
 *
 * Hits are buffered and written every flushInterval seconds (or at 1,000 pending); after
 * each write the feed gets the rollup of every IP the batch touched. Every statsInterval a
 * health row goes to capture_stats, the stats file and the log. stop() reads what the
 * kernel still holds, ends every flow (so held evidence is emitted), writes it all and
 * closes. The process-level parts (signals, exit codes) live in cli/run.ts.
 */
import type { Logger } from 'pino';
import { LiveCapture, type LiveEvent, type LiveTimings } from '../capture/live.js';
import type { CaptureBackend } from '../capture/live-backend.js';
import type { SessionRecord } from '../detect/session-record.js';
import { SessionTracker } from '../detect/session-tracker.js';
import type { Evidence } from '../detect/types.js';
import { ownersToRecord } from '../cli/intel-options.js';
import { AssetMap } from '../store/asset-map.js';
import type { FeedEvent, FeedServer } from '../feed/server.js';
import { hitMessage, ipMessage, statsMessage } from '../feed/messages.js';
import { Sensor } from '../sensor.js';
import type { CaptureStatsRecord, SensorState } from '../store/capture-stats.js';
import { HitStore } from '../store/hit-store.js';
import { microsToIso } from '../store/iso-time.js';
import type { RunConfig } from './config.js';
import { healthRecord, statsLogFields, writeStatsFile } from './health.js';
import { dropPrivileges } from './privileges.js';
import { openSignatureDir, reloadSignatures } from './signatures.js';

export interface DaemonDeps {
  backend: CaptureBackend;
  log: Logger;
  /** Test seams. */
  sysfs?: string;
  timings?: Partial<LiveTimings>;
  bufferTimeoutMs?: number;
}

const FLUSH_EVERY = 1000;
/** Miner IPs remembered for owner recording (--assets), waiting and already recorded. */
const MAX_OWNER_IPS = 1_000_000;
/**
 * node_pcap reads until the kernel ring is empty before it returns to the event loop, so
 * under sustained load timers starve. Every 1,024 packets the packet path checks whether
 * a flush or a stats row is overdue and does it itself.
 */
const MAINTENANCE_CHECK_MASK = 1023;
/** libpcap block timeout: the longest a quiet link keeps packets from the sensor. */
const DEFAULT_BUFFER_TIMEOUT_MS = 250;

export class Daemon {
  readonly sensor: Sensor;
  private readonly capture: LiveCapture;
  private store: HitStore | null = null;
  private feed: FeedServer | null = null;
  /** IPs whose rollup changed since the last write, for the feed. */
  private readonly touched = new Set<string>();
  private hitsStored = 0;
  private readonly startedAt = new Date().toISOString();
  private previousHealth: CaptureStatsRecord | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private packetsSinceCheck = 0;
  private readonly bufferTimeoutMs: number;
  private packetErrors = 0;
  private lastPacketErrorLog = 0;
  private nextFlushAt = 0;
  private nextStatsAt = 0;
  /** Operator's asset map, and the miner IPs whose owner was already recorded. */
  private readonly assets: AssetMap | null;
  private readonly ownersRecorded = new Set<string>();
  private readonly newMiners = new Set<string>();

  private constructor(
    readonly config: RunConfig,
    private readonly deps: DaemonDeps,
  ) {
    this.bufferTimeoutMs = deps.bufferTimeoutMs ?? DEFAULT_BUFFER_TIMEOUT_MS;
    this.assets = config.assets ? AssetMap.load(config.assets) : null;
    const signatures = openSignatureDir(config.signatures);
    // Sessions (shares, difficulty, estimates) are accounted per mining flow, as in replay.
    const tracker = new SessionTracker((s) => this.onSession(s));
    this.sensor = new Sensor(tracker.evidenceSink((e) => this.onEvidence(e)), {
      ...(config.maxFlows ? { flow: { maxFlows: config.maxFlows } } : {}),
      ...(signatures ? { signatures } : {}),
      observers: [tracker],
    });
    this.sensor.setSource(`if:${config.interface}`);
    this.capture = new LiveCapture({
      open: {
        interface: config.interface,
        bpf: config.bpf,
        snaplen: config.snaplen,
        bufferBytes: config.bufferMb * 1024 * 1024,
        promiscuous: config.promisc,
        bufferTimeoutMs: this.bufferTimeoutMs,
      },
      backend: deps.backend,
      onPacket: (pkt) => {
        try {
          this.sensor.handlePacket(pkt);
        } catch (err) {
          this.packetFailed(err);
        }
        if ((++this.packetsSinceCheck & MAINTENANCE_CHECK_MASK) === 0) this.maintainInline();
      },
      onEvent: (e) => this.onCaptureEvent(e),
      ...(deps.timings ? { timings: deps.timings } : {}),
      ...(deps.sysfs ? { sysfs: deps.sysfs } : {}),
    });
  }

  /**
   * Starts in the order privileges need: the feed (may bind a low port) and the capture as
   * the starting user, then --user, then the database as the user that will write it. All
   * of it after the feed runs in one tick, so no packet is handled before the store exists.
   */
  static async start(config: RunConfig, deps: DaemonDeps): Promise<Daemon> {
    const d = new Daemon(config, deps);
    try {
      if (config.listen) {
        // Loaded only here: the WebSocket server (ws, node:http) is start-up time every
        // replay and feedless run would pay for nothing.
        const { FeedServer } = await import('../feed/server.js');
        d.feed = await FeedServer.start({
          listen: config.listen,
          token: config.token,
          maxClients: config.maxClients,
          interfaceName: config.interface,
          onEvent: (e) => d.onFeedEvent(e),
        });
      }
      d.capture.start();
      if (config.user) {
        const id = dropPrivileges(config.user);
        deps.log.info({ uid: id.uid, gid: id.gid }, 'dropped privileges after opening the capture');
      }
      d.store = HitStore.open(config.db);
    } catch (err) {
      d.capture.stop();
      await d.feed?.close();
      throw err;
    }
    d.flushTimer = setInterval(() => d.flushTick(), config.flushInterval * 1000);
    d.statsTimer = setInterval(() => d.writeHealth(), config.statsInterval * 1000);
    deps.log.info(
      { interface: config.interface, bpf: config.bpf || undefined, db: config.db, linkType: d.capture.linkType, snaplen: config.snaplen, bufferMb: config.bufferMb, promisc: config.promisc },
      'live capture started',
    );
    d.writeHealth();
    return d;
  }

  /** SIGHUP: reload signatures; the capture and flows carry on. */
  reload(): void {
    const outcome = reloadSignatures(this.sensor.engine);
    this.deps.log[outcome.reloaded ? 'info' : 'warn']({ signatures: this.config.signatures, reloaded: outcome.reloaded }, `SIGHUP: ${outcome.detail}`);
  }

  /** Stores everything seen so far and closes; safe to call more than once. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  get feedPort(): number | null {
    return this.feed?.port ?? null;
  }

  private async shutdown(reason: string): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    // The kernel hands packets over in blocks, at the latest after the block timeout: wait
    // that long so what it has already captured reaches the sensor before the last drain.
    await new Promise((resolve) => setTimeout(resolve, this.bufferTimeoutMs + 50));
    this.capture.stop();
    this.sensor.finish();
    this.flushTick();
    this.writeHealth('stopped');
    this.deps.log.info({ reason, packets: this.sensor.packets, hitsStored: this.hitsStored }, 'live capture stopped; every hit seen is stored');
    await this.feed?.close();
    this.store?.close();
    this.store = null;
  }

  private onEvidence(e: Evidence): void {
    const store = this.store;
    if (!store) return; // unreachable: packets flow only after the store is open
    store.add(e);
    // Both sets are bounded: while the database keeps failing newMiners is not emptied, and
    // forgetting only means an owner is looked up and recorded again.
    if (this.assets && !this.ownersRecorded.has(e.minerIp) && this.newMiners.size < MAX_OWNER_IPS) this.newMiners.add(e.minerIp);
    this.touched.add(e.minerIp);
    this.touched.add(e.poolIp);
    this.feed?.broadcast(hitMessage(e));
    if (store.pending() >= FLUSH_EVERY) this.flush(store);
  }

  /** Records, once per miner IP, its owner in the asset map as it is at this moment. */
  private recordOwners(store: HitStore): void {
    if (!this.assets || this.newMiners.size === 0) return;
    store.sessions.recordOwners(ownersToRecord(this.assets, this.newMiners));
    if (this.ownersRecorded.size > MAX_OWNER_IPS) this.ownersRecorded.clear();
    for (const ip of this.newMiners) this.ownersRecorded.add(ip);
    this.newMiners.clear();
  }

  private onSession(s: SessionRecord): void {
    this.store?.sessions.add(s);
  }

  /**
   * A packet that throws must not end a 24/7 sensor (an exception in node_pcap's callback is
   * fatal): it is counted and logged, at most once a minute.
   */
  private packetFailed(err: unknown): void {
    this.packetErrors++;
    const now = Date.now();
    if (now - this.lastPacketErrorLog < 60_000) return;
    this.lastPacketErrorLog = now;
    this.deps.log.error({ err: err instanceof Error ? err.stack : String(err), packetErrors: this.packetErrors }, 'a packet could not be processed');
  }

  private maintainInline(): void {
    const now = Date.now();
    if (now >= this.nextFlushAt) this.flushTick();
    if (now >= this.nextStatsAt) this.writeHealth();
  }

  private flushTick(): void {
    this.nextFlushAt = Date.now() + this.config.flushInterval * 1000;
    // Live time moves without packets: end flows idle past their timeout, so what they held
    // is emitted even when the link goes quiet.
    this.sensor.flows.expire(Date.now() * 1000);
    this.sensor.engine.tick(Date.now() * 1000);
    if (this.store) this.flush(this.store);
  }

  private flush(store: HitStore): void {
    try {
      this.hitsStored += store.flush();
      store.sessions.flush();
      this.recordOwners(store);
    } catch (err) {
      // The batch stays buffered (HitStore keeps it on error) and is retried next tick.
      this.deps.log.error({ err: (err as Error).message, pending: store.pending(), dropped: store.droppedHits }, 'writing hits failed; will retry');
      return;
    }
    if (this.feed && this.feed.clientCount > 0) {
      for (const ip of this.touched) for (const s of store.summaryFor(ip)) this.feed.broadcast(ipMessage(s));
    }
    this.touched.clear();
  }

  private writeHealth(state?: SensorState): void {
    this.nextStatsAt = Date.now() + this.config.statsInterval * 1000;
    const record = healthRecord({
      interfaceName: this.config.interface,
      startedAt: this.startedAt,
      sensor: this.sensor,
      capture: this.capture.stats(),
      hitsStored: this.hitsStored,
      nowMicros: Date.now() * 1000,
      ...(state ? { state } : {}),
    });
    const fields = statsLogFields(record, this.previousHealth);
    this.previousHealth = record;
    this.deps.log.info(fields, 'stats');
    const ts = microsToIso(record.tsMicros);
    try {
      this.store?.recordCaptureStats(record);
      if (this.config.statsFile) writeStatsFile(this.config.statsFile, record, ts);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'writing capture statistics failed');
    }
    this.feed?.broadcast(statsMessage({ ts, ...fields }));
  }

  private onCaptureEvent(e: LiveEvent): void {
    const log = this.deps.log;
    switch (e.kind) {
      case 'opened':
        if (e.reopen) log.info({ interface: e.interface, linkType: e.linkType }, 'capture reopened');
        break;
      case 'down':
        log.warn({ interface: e.interface, reason: e.reason }, 'interface down; capture will be retried');
        this.writeHealth();
        break;
      case 'retry-failed':
        log.warn({ interface: e.interface, attempt: e.attempt, nextRetryMs: e.nextRetryMs, err: e.error }, 'capture retry failed');
        break;
      case 'kept-old-handle':
        log.warn({ interface: e.interface, err: e.error }, 'cannot reopen the capture; continuing on the previous handle');
        break;
      case 'resumed':
        log.info({ interface: e.interface, downMs: e.downMs }, 'interface back; capture resumed');
        this.writeHealth();
        break;
    }
  }

  private onFeedEvent(e: FeedEvent): void {
    const log = this.deps.log;
    if (e.kind === 'listening') log.info({ address: e.address, port: e.port }, 'live feed listening');
    else if (e.kind === 'refused') log.warn({ remote: e.remote, reason: e.reason }, 'live feed client refused');
    else if (e.kind === 'dropped') log.warn({ reason: e.reason }, 'live feed client dropped');
    else log.info({ remote: e.remote, clients: e.clients }, 'live feed client connected');
  }
}
