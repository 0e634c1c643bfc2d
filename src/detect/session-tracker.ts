/**
 * Session and share accounting, as a MessageObserver of confirmed mining flows: per flow
 * it follows the difficulty the pool sets (per job where the dialect names jobs), counts
 * the miner's submits, matches the pool's replies to them by request id (first in, first
 * out, since most miners reuse one id), and at the flow's end hands one SessionRecord with
 * the hashrate estimate to its sink. Identities come from the flow's Evidence (route the
 * sensor's sink through evidenceSink()), so sessions name the same agent, worker and
 * wallet as the hits.
 *
 * Everything per flow is bounded: jobs, outstanding requests, difficulty points, workers.
 */
import type { Evidence, EvidenceSink } from './types.js';
import type { FlowFacts, JsonMessage, MessageObserver, ObservedMessage } from './dialect.js';
import { splitLogin } from './identity.js';
import { classifyReply, idKey, replyId, shareEventOf, type ShareEvent, type WorkSize } from './shares/index.js';
import type { DifficultyPoint, SessionRecord, SessionSink, ShareError } from './session-record.js';
import { IPPROTO_UDP } from '../decode/types.js';
import type { Direction, Flow, FlowEndReason } from '../flow/types.js';
import { defaultAlgorithmCatalog, type AlgorithmCatalog } from '../estimate/algorithms.js';
import { estimateRate } from '../estimate/hashrate.js';

export interface TrackerLimits {
  /** Jobs remembered per flow (submits name recent jobs). */
  maxJobs: number;
  /** Outstanding requests per flow awaiting a reply. */
  maxPending: number;
  /** Difficulty points kept per flow: the first ones and the latest. */
  maxDifficultyPoints: number;
  maxWorkers: number;
  maxErrorKinds: number;
  /** Flows tracked at once (the flow table bounds this already; a second guard). */
  maxFlows: number;
}

export const DEFAULT_TRACKER_LIMITS: TrackerLimits = {
  maxJobs: 256,
  maxPending: 256,
  maxDifficultyPoints: 64,
  maxWorkers: 64,
  maxErrorKinds: 16,
  maxFlows: 200_000,
};

interface PendingRequest {
  /** The work size of a submit (undefined for other requests or an unknown size). */
  submit: boolean;
  size: WorkSize | undefined;
}

/** Sums of share work by how the size was announced. */
class WorkTally {
  shares = 0;
  difficultySum = 0;
  hashesSum = 0;
  /** Shares whose size was unknown when sent (a capture that starts mid-session). */
  unknown = 0;

  add(size: WorkSize | undefined): void {
    this.shares++;
    if (!size) this.unknown++;
    else if (size.kind === 'difficulty') this.difficultySum += size.value;
    else this.hashesSum += size.value;
  }

  /** Total expected hashes, or null when some share cannot be converted. */
  hashes(hashesPerDifficulty: number | null, fallback: number | null): number | null {
    if (this.difficultySum > 0 && hashesPerDifficulty === null) return null;
    if (this.unknown > 0 && fallback === null) return null;
    return this.hashesSum + this.difficultySum * (hashesPerDifficulty ?? 0) + this.unknown * (fallback ?? 0);
  }
}

class FlowSession {
  source = '';
  minerSide: Direction = 0;
  facts: FlowFacts = {};
  dialect: string | undefined;
  algoEvidence: string | undefined;
  agent: string | undefined;
  login: string | undefined;
  wallet: string | undefined;
  worker: string | undefined;
  poolHost: string | undefined;
  readonly workers = new Set<string>();
  readonly wallets = new Set<string>();
  /** Difficulty in force for jobs that arrive next. */
  current: WorkSize | undefined;
  first: WorkSize | undefined;
  readonly jobs = new Map<string, WorkSize | undefined>();
  readonly pending = new Map<string, PendingRequest[]>();
  pendingCount = 0;
  workStart: number | undefined;
  firstShare: number | undefined;
  lastShare: number | undefined;
  readonly submitted = new WorkTally();
  readonly accepted = new WorkTally();
  rejected = 0;
  stale = 0;
  repliesUnmatched = 0;
  readonly errors = new Map<string, ShareError>();
  readonly history: { tsMicros: number; size: WorkSize }[] = [];
  selfHashrate: number | undefined;
  selfReports = 0;
}

function tupleKey(minerIp: string, minerPort: number, poolIp: string, poolPort: number): string {
  return `${minerIp}|${minerPort}|${poolIp}|${poolPort}`;
}

export class SessionTracker implements MessageObserver {
  private readonly byTuple = new Map<string, FlowSession>();
  private readonly tupleOfFlow = new Map<number, string>();
  private readonly limits: TrackerLimits;
  /** Sessions emitted so far. */
  emitted = 0;

  constructor(
    private readonly sink: SessionSink,
    private readonly catalog: AlgorithmCatalog = defaultAlgorithmCatalog(),
    limits: Partial<TrackerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_TRACKER_LIMITS, ...limits };
  }

  /** Wraps a sensor's evidence sink so this tracker learns each flow's identities. */
  evidenceSink(next: EvidenceSink): EvidenceSink {
    return (e) => {
      this.noteEvidence(e);
      next(e);
    };
  }

  noteEvidence(e: Evidence): void {
    // Only sessions that messages opened: evidence without messages (DNS, TLS, endpoints)
    // would leave an entry that no flow end ever removes.
    const s = this.byTuple.get(tupleKey(e.minerIp, e.minerPort, e.poolIp, e.poolPort));
    if (!s) return;
    s.dialect = e.dialect;
    if (e.algo !== undefined) s.algoEvidence ??= e.algo;
    s.agent ??= e.agent;
    s.login ??= e.login;
    s.poolHost ??= e.poolHost;
    if (e.wallet !== undefined) {
      s.wallet ??= e.wallet;
      addBounded(s.wallets, e.wallet, this.limits.maxWorkers);
    }
    if (e.worker !== undefined) {
      s.worker ??= e.worker;
      addBounded(s.workers, e.worker, this.limits.maxWorkers);
    }
  }

  onMessage(flow: Flow, msg: JsonMessage, at: ObservedMessage): void {
    let key = this.tupleOfFlow.get(flow.id);
    if (key === undefined) {
      const m = at.minerSide;
      const p = (1 - m) as Direction;
      key = tupleKey(flow.addr[m], flow.port[m], flow.addr[p], flow.port[p]);
      this.tupleOfFlow.set(flow.id, key);
    }
    const s = this.sessionFor(key);
    if (!s) return;
    if (s.source === '') s.source = at.source;
    s.minerSide = at.minerSide;
    s.facts = at.facts;
    const fromMiner = at.dir === at.minerSide;
    const event = shareEventOf(msg, fromMiner, at.facts);
    if (event) this.apply(s, event, at.tsMicros);
    if (fromMiner) this.remember(s, msg, event);
    else this.answer(s, msg);
  }

  onFlowEnd(flow: Flow, reason: FlowEndReason): void {
    const key = this.tupleOfFlow.get(flow.id);
    if (key === undefined) return;
    this.tupleOfFlow.delete(flow.id);
    const s = this.byTuple.get(key);
    this.byTuple.delete(key);
    if (!s) return;
    this.emitted++;
    this.sink(this.record(flow, s, reason));
  }

  private sessionFor(key: string): FlowSession | undefined {
    let s = this.byTuple.get(key);
    if (!s) {
      if (this.byTuple.size >= this.limits.maxFlows) return undefined;
      s = new FlowSession();
      this.byTuple.set(key, s);
    }
    return s;
  }

  private apply(s: FlowSession, event: ShareEvent, ts: number): void {
    switch (event.type) {
      case 'difficulty':
        s.current = event.size;
        this.noteSize(s, event.size, ts);
        return;
      case 'job': {
        if (event.size) {
          s.current = event.size;
          this.noteSize(s, event.size, ts);
        } else if (s.current) s.workStart ??= ts;
        if (event.jobId !== undefined) {
          if (s.jobs.size >= this.limits.maxJobs) s.jobs.delete(s.jobs.keys().next().value!);
          s.jobs.set(event.jobId, event.size ?? s.current);
        }
        return;
      }
      case 'submit':
        s.firstShare ??= ts;
        s.lastShare = ts;
        if (event.login) {
          const parts = splitLogin(event.login);
          addBounded(s.workers, parts.worker ?? event.login, this.limits.maxWorkers);
          if (parts.wallet) addBounded(s.wallets, parts.wallet, this.limits.maxWorkers);
        }
        return;
      case 'self-hashrate':
        s.selfHashrate = event.hashesPerSecond;
        s.selfReports++;
        return;
    }
  }

  /** A new difficulty: the miner has work from now on; keep the point when it changed. */
  private noteSize(s: FlowSession, size: WorkSize, ts: number): void {
    s.workStart ??= ts;
    s.first ??= size;
    const last = s.history[s.history.length - 1];
    if (last && last.size.raw === size.raw && last.size.kind === size.kind) return;
    // Keep the first points and always the latest: overwrite the last slot when full.
    if (s.history.length >= this.limits.maxDifficultyPoints) s.history[s.history.length - 1] = { tsMicros: ts, size };
    else s.history.push({ tsMicros: ts, size });
  }

  /** A miner request: count submits and queue it for its reply. */
  private remember(s: FlowSession, msg: JsonMessage, event: ShareEvent | null): void {
    const isSubmit = event?.type === 'submit';
    let size: WorkSize | undefined;
    if (isSubmit) {
      size = event.jobId !== undefined && s.jobs.has(event.jobId) ? s.jobs.get(event.jobId) : s.current;
      s.submitted.add(size);
    }
    if (msg.id === undefined || msg.id === null || msg.method === undefined) return;
    if (s.pendingCount >= this.limits.maxPending) return;
    const key = idKey(msg.id);
    const queue = s.pending.get(key);
    const entry: PendingRequest = { submit: isSubmit, size };
    if (queue) queue.push(entry);
    else s.pending.set(key, [entry]);
    s.pendingCount++;
  }

  /** A pool message: when it answers an outstanding request, take the oldest with its id. */
  private answer(s: FlowSession, msg: JsonMessage): void {
    const key = replyId(msg);
    if (key === null) return;
    const queue = s.pending.get(key);
    const request = queue?.shift();
    if (!request) {
      // Work pushes with id 0 and duplicated replies land here; only count real replies.
      if (msg.method !== undefined || !Array.isArray(msg.result)) s.repliesUnmatched++;
      return;
    }
    s.pendingCount--;
    if (queue!.length === 0) s.pending.delete(key);
    if (!request.submit) return;
    const verdict = classifyReply(msg);
    if (verdict.stale) s.stale++;
    if (verdict.accepted) s.accepted.add(request.size);
    else s.rejected++;
    if (verdict.code !== undefined || !verdict.accepted) {
      const code = verdict.code ?? '';
      const message = verdict.message ?? '';
      const errKey = `${code}|${message}`;
      const known = s.errors.get(errKey);
      if (known) known.count++;
      else if (s.errors.size < this.limits.maxErrorKinds) s.errors.set(errKey, { code, message, count: 1 });
    }
  }

  private record(flow: Flow, s: FlowSession, reason: FlowEndReason): SessionRecord {
    const m = s.minerSide;
    const p = (1 - m) as Direction;
    const dialect = s.dialect ?? s.facts.dialect ?? 'unknown';
    const named = s.facts.algo ?? firstAlgo(s.algoEvidence);
    const resolved = this.catalog.resolve(named, dialect);
    const hpd = resolved?.info.hashesPerDifficulty ?? null;
    const hashesOf = (size: WorkSize | undefined): number | null =>
      size === undefined ? null : size.kind === 'hashes' ? size.value : hpd === null ? null : size.value * hpd;
    const fallback = hashesOf(s.first);
    const hashesSubmitted = this.tally(s.submitted, hpd, fallback);
    const hashesAccepted = this.tally(s.accepted, hpd, fallback);

    // The window opens when the miner first had work (flow start if a share came first,
    // as in a capture that starts mid-session) and closes with the flow's last packet.
    const opened = s.workStart !== undefined && (s.firstShare === undefined || s.workStart <= s.firstShare);
    const windowStart = opened ? s.workStart! : flow.firstSeenMicros;
    const windowEnd = Math.max(flow.lastSeenMicros, s.lastShare ?? 0);
    const rate =
      hashesSubmitted === null || resolved === undefined
        ? null
        : estimateRate({
            shares: s.submitted.shares,
            hashes: hashesSubmitted,
            seconds: (windowEnd - windowStart) / 1e6,
            hashesPerShare: hashesOf(s.current),
          });

    const history: DifficultyPoint[] = s.history.map((h) => ({ tsMicros: h.tsMicros, raw: h.size.raw, hashesPerShare: hashesOf(h.size) }));
    return {
      source: s.source,
      minerIp: flow.addr[m],
      minerPort: flow.port[m],
      poolIp: flow.addr[p],
      poolPort: flow.port[p],
      transport: flow.protocol === IPPROTO_UDP ? 'udp' : 'tcp',
      dialect,
      algo: resolved?.info.algo ?? named ?? 'unknown',
      algoAssumed: resolved?.assumed ?? true,
      algoWire: named ?? null,
      startMicros: flow.firstSeenMicros,
      endMicros: flow.lastSeenMicros,
      endReason: reason,
      windowStartMicros: windowStart,
      windowEndMicros: windowEnd,
      firstShareMicros: s.firstShare ?? null,
      lastShareMicros: s.lastShare ?? null,
      agent: s.agent ?? null,
      worker: s.worker ?? null,
      login: s.login ?? null,
      wallet: s.wallet ?? null,
      poolHost: s.poolHost ?? null,
      workers: [...s.workers].sort(),
      wallets: [...s.wallets].sort(),
      sharesSubmitted: s.submitted.shares,
      sharesAccepted: s.accepted.shares,
      sharesRejected: s.rejected,
      sharesStale: s.stale,
      repliesUnmatched: s.repliesUnmatched,
      shareErrors: [...s.errors.values()],
      difficultyHistory: history,
      hashesSubmitted,
      hashesAccepted,
      hashrateUnit: rate ? resolved!.info.unit : null,
      estHashrate: rate?.value ?? null,
      estHashrateLow: rate?.low ?? null,
      estHashrateHigh: rate?.high ?? null,
      selfHashrate: s.selfHashrate ?? null,
      selfHashrateReports: s.selfReports,
      packetsToPool: flow.packets[m],
      packetsToMiner: flow.packets[p],
      bytesToPool: flow.bytes[m],
      bytesToMiner: flow.bytes[p],
    };
  }

  private tally(t: WorkTally, hpd: number | null, fallback: number | null): number | null {
    return t.shares === 0 ? 0 : t.hashes(hpd, fallback);
  }
}

/** The first name of an algorithm list ("rx/0,cn/r,…" from a CryptoNote login). */
function firstAlgo(list: string | undefined): string | undefined {
  const first = list?.split(',')[0]?.trim();
  return first ? first : undefined;
}

function addBounded(set: Set<string>, value: string, cap: number): void {
  if (value !== '' && set.size < cap) set.add(value);
}
