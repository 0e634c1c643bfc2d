/**
 * The end-of-run digest of miner IPs (pools, dialects, agents, identities), built from the
 * evidence stream. The sensor keeps one; a parallel replay builds it from the merged
 * evidence of its workers.
 */
import type { Evidence } from './detect/types.js';

/** What a replay summary says about one miner IP. */
export interface MinerDigest {
  ip: string;
  pools: Set<string>;
  dialects: Set<string>;
  agents: Set<string>;
  identities: Set<string>;
  evidence: number;
}

/** Miner IPs kept for the digest; beyond it they are only counted (all are stored). */
const MAX_DIGESTS = 10_000;
const MAX_DIGEST_VALUES = 8;

function addBounded(set: Set<string>, value: string | undefined): void {
  if (value !== undefined && set.size < MAX_DIGEST_VALUES) set.add(value);
}

export class MinerDigests {
  /** By miner IP, in order of first evidence (up to MAX_DIGESTS). */
  readonly miners = new Map<string, MinerDigest>();
  beyondDigest = 0;

  add(e: Evidence): void {
    let d = this.miners.get(e.minerIp);
    if (!d) {
      if (this.miners.size >= MAX_DIGESTS) {
        this.beyondDigest++;
        return;
      }
      d = { ip: e.minerIp, pools: new Set(), dialects: new Set(), agents: new Set(), identities: new Set(), evidence: 0 };
      this.miners.set(e.minerIp, d);
    }
    d.evidence++;
    addBounded(d.pools, e.poolIp.includes(':') ? `[${e.poolIp}]:${e.poolPort}` : `${e.poolIp}:${e.poolPort}`);
    addBounded(d.dialects, e.dialect);
    addBounded(d.agents, e.agent);
    addBounded(d.identities, e.worker ?? e.login);
  }
}
