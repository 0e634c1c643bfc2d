/**
 * Per-(ip, role) rollup of hits. Hits are only ever inserted, so a summary row stays exact
 * by merging the newly inserted hits into it: counts add up, first/last seen widen, and the
 * distinct lists take new values until they hold SUMMARY_LIST_CAP (the first values stored
 * win, which is also what a rebuild in id order produces).
 */
import { endpoint } from './ip-address.js';
import { SUMMARY_LIST_CAP, type Role } from './types.js';

/** The hit fields a rollup needs. */
export interface RollupHit {
  tsMicros: number;
  minerIp: string;
  minerPort: number;
  poolIp: string;
  poolPort: number;
  dialect: string;
  agent?: string | null | undefined;
  worker?: string | null | undefined;
  login?: string | null | undefined;
  wallet?: string | null | undefined;
}

export interface RollupEntry {
  ip: string;
  role: Role;
  firstUs: number;
  lastUs: number;
  hits: number;
  dialects: Set<string>;
  peers: Set<string>;
  identities: Set<string>;
  agents: Set<string>;
}

export class RollupBuilder {
  private readonly byKey = new Map<string, RollupEntry>();

  get size(): number {
    return this.byKey.size;
  }

  add(hit: RollupHit): void {
    // A DNS query nobody answered names no pool address (stored as 0.0.0.0 / ::, port 0);
    // an answered one names the address but no port: neither is a peer endpoint.
    const poolKnown = hit.poolIp !== '0.0.0.0' && hit.poolIp !== '::';
    const peerKnown = poolKnown && hit.poolPort > 0;
    this.addSide(hit.minerIp, 'miner', peerKnown ? endpoint(hit.poolIp, hit.poolPort) : '', hit);
    if (poolKnown) this.addSide(hit.poolIp, 'pool', endpoint(hit.minerIp, hit.minerPort), hit);
  }

  entries(): IterableIterator<RollupEntry> {
    return this.byKey.values();
  }

  private addSide(ip: string, role: Role, peer: string, hit: RollupHit): void {
    const key = `${role} ${ip}`;
    let entry = this.byKey.get(key);
    if (!entry) {
      entry = {
        ip,
        role,
        firstUs: hit.tsMicros,
        lastUs: hit.tsMicros,
        hits: 0,
        dialects: new Set(),
        peers: new Set(),
        identities: new Set(),
        agents: new Set(),
      };
      this.byKey.set(key, entry);
    }
    entry.hits++;
    if (hit.tsMicros < entry.firstUs) entry.firstUs = hit.tsMicros;
    if (hit.tsMicros > entry.lastUs) entry.lastUs = hit.tsMicros;
    // Evidence that names no protocol (TLS, DNS) adds no dialect.
    if (hit.dialect !== 'unknown') addCapped(entry.dialects, hit.dialect);
    addCapped(entry.peers, peer);
    addCapped(entry.identities, hit.worker);
    addCapped(entry.identities, hit.login);
    addCapped(entry.identities, hit.wallet);
    addCapped(entry.agents, hit.agent);
  }
}

/** A summary row as stored, lists decoded. */
export interface StoredSummary {
  firstUs: number;
  lastUs: number;
  hits: number;
  dialects: string[];
  peers: string[];
  identities: string[];
  agents: string[];
}

export function mergeSummary(existing: StoredSummary | undefined, add: RollupEntry): StoredSummary {
  if (!existing) {
    return {
      firstUs: add.firstUs,
      lastUs: add.lastUs,
      hits: add.hits,
      dialects: sorted(add.dialects),
      peers: sorted(add.peers),
      identities: sorted(add.identities),
      agents: sorted(add.agents),
    };
  }
  return {
    firstUs: Math.min(existing.firstUs, add.firstUs),
    lastUs: Math.max(existing.lastUs, add.lastUs),
    hits: existing.hits + add.hits,
    dialects: union(existing.dialects, add.dialects),
    peers: union(existing.peers, add.peers),
    identities: union(existing.identities, add.identities),
    agents: union(existing.agents, add.agents),
  };
}

function addCapped(set: Set<string>, value: string | null | undefined): void {
  if (value && set.size < SUMMARY_LIST_CAP) set.add(value);
}

function union(kept: string[], added: Set<string>): string[] {
  const all = new Set(kept.slice(0, SUMMARY_LIST_CAP));
  for (const value of added) addCapped(all, value);
  return sorted(all);
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}
