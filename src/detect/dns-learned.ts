/**
 * Pool addresses learned from DNS answers: address → the pool name it answered for, until
 * its TTL (clamped to a floor and a cap, since miners resolve once and then hold
 * connections for hours) runs out in capture time. Bounded: beyond max entries the entry
 * learned longest ago goes first. Lookups are one Map probe with the address text flows
 * already carry.
 */
import type { PoolEntry } from '../signatures/types.js';

export interface LearnedEndpoint {
  readonly address: string;
  /** The pool name that matched (question or a CNAME in its chain). */
  readonly name: string;
  /** The name that was asked. */
  readonly question: string;
  readonly entry: PoolEntry;
  readonly learnedMicros: number;
  readonly expiresMicros: number;
}

export interface LearnLimits {
  ttlFloorSeconds: number;
  ttlCapSeconds: number;
  maxEntries: number;
}

export class LearnedEndpoints {
  private readonly byAddress = new Map<string, LearnedEndpoint>();

  get size(): number {
    return this.byAddress.size;
  }

  learn(address: string, name: string, question: string, entry: PoolEntry, ttlSeconds: number, nowMicros: number, limits: LearnLimits): void {
    const ttl = Math.min(Math.max(ttlSeconds, limits.ttlFloorSeconds), Math.max(limits.ttlCapSeconds, limits.ttlFloorSeconds));
    this.byAddress.delete(address); // re-insert: newest last
    this.byAddress.set(address, { address, name, question, entry, learnedMicros: nowMicros, expiresMicros: nowMicros + ttl * 1e6 });
    while (this.byAddress.size > Math.max(1, limits.maxEntries)) {
      this.byAddress.delete(this.byAddress.keys().next().value!);
    }
  }

  /** The live entry for an address at capture time `nowMicros`, or null. */
  lookup(address: string, nowMicros: number): LearnedEndpoint | null {
    if (this.byAddress.size === 0) return null;
    const e = this.byAddress.get(address);
    if (!e) return null;
    if (nowMicros > e.expiresMicros) {
      this.byAddress.delete(address);
      return null;
    }
    return e;
  }

  clear(): void {
    this.byAddress.clear();
  }
}
