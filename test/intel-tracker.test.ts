/**
 * The session tracker fed messages directly (as the engine's observer hook delivers them):
 * reply matching by id, first in first out, with duplicates; the reply conventions of each
 * dialect (including bare ES2 acknowledgements and error-only CryptoNote rejections, which
 * the engine's line gate does not pass today); the bounds on per-flow state.
 */
import { describe, expect, it } from 'vitest';
import type { FlowFacts, JsonMessage, ObservedMessage } from '../src/detect/dialect.js';
import type { SessionRecord } from '../src/detect/session-record.js';
import { SessionTracker } from '../src/detect/session-tracker.js';
import { Flow, type Direction } from '../src/flow/types.js';

const T0 = 1_780_000_000_000_000;

function message(obj: Record<string, unknown>): JsonMessage {
  return {
    obj,
    method: typeof obj.method === 'string' ? obj.method : undefined,
    id: obj.id,
    params: obj.params,
    result: obj.result,
    error: obj.error,
    overHttp: false,
  };
}

/** Drives one flow: the miner is side 0; seconds are after T0. */
class Script {
  readonly sessions: SessionRecord[] = [];
  readonly tracker: SessionTracker;
  readonly flow = new Flow(1, 4, 6, ['192.0.2.10', '203.0.113.5'], [49152, 3333], T0);
  /** In the pipeline the dialect comes with the flow's evidence; here it is set directly. */
  readonly facts: FlowFacts = { dialect: 'stratum' };

  constructor(limits = {}) {
    this.tracker = new SessionTracker((s) => this.sessions.push(s), undefined, limits);
  }

  private send(dir: Direction, seconds: number, obj: Record<string, unknown>): this {
    const ts = T0 + Math.round(seconds * 1e6);
    this.flow.lastSeenMicros = Math.max(this.flow.lastSeenMicros, ts);
    const at: ObservedMessage = { dir, minerSide: 0, facts: this.facts, tsMicros: ts, source: 'unit' };
    this.tracker.onMessage(this.flow, message(obj), at);
    return this;
  }

  miner(seconds: number, obj: Record<string, unknown>): this {
    return this.send(0, seconds, obj);
  }

  pool(seconds: number, obj: Record<string, unknown>): this {
    return this.send(1, seconds, obj);
  }

  end(): SessionRecord {
    this.tracker.onFlowEnd(this.flow, 'fin');
    expect(this.sessions).toHaveLength(1);
    return this.sessions[0]!;
  }
}

const submitV1 = (id: unknown, job = 'j') => ({ id, method: 'mining.submit', params: ['acct.rig', job, '00', '66f2a1b0', 'aabbccdd'] });

describe('reply matching', () => {
  it('matches replies to submits first in, first out per id; a duplicated reply is unmatched, not a second acceptance', () => {
    const s = new Script()
      .pool(0, { id: null, method: 'mining.set_difficulty', params: [1] })
      .miner(1, submitV1(4))
      .miner(2, submitV1(4))
      .pool(3, { id: 4, result: true, error: null })
      .pool(3.1, { id: 4, result: null, error: [22, 'Duplicate share', null] })
      .pool(3.2, { id: 4, result: true, error: null }) // duplicate line: nothing outstanding
      .end();
    expect(s).toMatchObject({ sharesSubmitted: 2, sharesAccepted: 1, sharesRejected: 1, repliesUnmatched: 1 });
    expect(s.shareErrors).toEqual([{ code: '22', message: 'Duplicate share', count: 1 }]);
  });

  it('keeps string and numeric ids apart, and ignores replies to other requests', () => {
    const s = new Script()
      .miner(0, { id: 2, method: 'mining.authorize', params: ['acct.rig', 'x'] })
      .pool(0.1, { id: null, method: 'mining.set_difficulty', params: [1] })
      .miner(1, submitV1('2'))
      .pool(1.1, { id: 2, result: true, error: null }) // answers authorize (numeric 2)
      .pool(1.2, { id: '2', result: false, error: null }) // answers the submit
      .end();
    expect(s).toMatchObject({ sharesSubmitted: 1, sharesAccepted: 0, sharesRejected: 1 });
  });

  it('reads every dialect’s verdicts', () => {
    const es2 = new Script();
    es2.facts.dialect = 'ethstratum2';
    const r = es2
      .pool(0, { method: 'mining.set', params: { target: '1'.padEnd(57, '0'), algo: 'ethash' } })
      .miner(1, { id: 40, method: 'mining.submit', params: ['bf0488aa', 'd942d8fffda1', 'w-12'] })
      .pool(1.1, { id: 40 }) // bare acknowledgement: accepted
      .miner(2, { id: 41, method: 'mining.submit', params: ['bf0488aa', 'd942d8fffda2', 'w-12'] })
      .pool(2.1, { id: 41, error: { code: 202, message: 'Stale' } }) // accepted but stale
      .miner(3, { id: 42, method: 'mining.submit', params: ['bf0488aa', 'd942d8fffda3', 'w-12'] })
      .pool(3.1, { id: 42, error: { code: 201, message: 'Invalid nonce' } })
      .end();
    expect(r).toMatchObject({ sharesSubmitted: 3, sharesAccepted: 2, sharesRejected: 1, sharesStale: 1 });

    const cn = new Script()
      .pool(0, { id: 1, jsonrpc: '2.0', error: null, result: { id: 's', job: { blob: '00'.repeat(38), job_id: 'j1', target: 'b88d0600' }, status: 'OK' } })
      .miner(1, { id: 2, method: 'submit', params: { id: 's', job_id: 'j1', nonce: '00000001', result: 'ab'.repeat(32) } })
      .pool(1.1, { id: 2, jsonrpc: '2.0', error: { code: -1, message: 'Low difficulty share' } }) // error-only
      .miner(2, { id: 2, method: 'submit', params: { id: 's', job_id: 'j1', nonce: '00000002', result: 'ab'.repeat(32) } })
      .pool(2.1, { id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } })
      .end();
    expect(cn).toMatchObject({ sharesSubmitted: 2, sharesAccepted: 1, sharesRejected: 1 });

    const grinScript = new Script();
    grinScript.facts.dialect = 'grin';
    const grin = grinScript
      .pool(0, { id: 'Stratum', jsonrpc: '2.0', method: 'job', params: { difficulty: 4, height: 1, job_id: 5, pre_pow: '00'.repeat(40) } })
      .miner(1, { id: '1', jsonrpc: '2.0', method: 'submit', params: { job_id: 5, nonce: 1, pow: [] } })
      .pool(1.1, { id: '1', jsonrpc: '2.0', method: 'submit', result: 'blockfound - 00ff', error: null })
      .end();
    expect(grin).toMatchObject({ sharesSubmitted: 1, sharesAccepted: 1, hashesSubmitted: null });

    const beamScript = new Script();
    beamScript.facts.dialect = 'beam';
    const beam = beamScript
      .pool(0, { method: 'job', id: '212', input: 'ab'.repeat(32), difficulty: 137438953472 })
      .miner(1, { method: 'solution', id: '212', nonce: 'ab'.repeat(8), output: 'cd'.repeat(104) })
      .pool(1.1, { method: 'result', id: '212', code: 1, description: 'accepted' })
      .miner(2, { method: 'solution', id: '212', nonce: 'ab'.repeat(8), output: 'cd'.repeat(104) })
      .pool(2.1, { method: 'result', id: '212', code: -2, description: 'expired' })
      .end();
    expect(beam).toMatchObject({ sharesSubmitted: 2, sharesAccepted: 1, sharesRejected: 1, sharesStale: 1 });
  });
});

describe('difficulty and windows', () => {
  it('shares sent before any difficulty was seen take the first one announced', () => {
    const s = new Script()
      .miner(1, submitV1(4, 'old'))
      .miner(2, submitV1(4, 'old'))
      .pool(3, { id: null, method: 'mining.set_difficulty', params: [1000] })
      .miner(4, submitV1(4, 'old'))
      .miner(101, { id: 9, method: 'mining.noop' })
      .end();
    expect(s.sharesSubmitted).toBe(3);
    expect(s.hashesSubmitted).toBeCloseTo(3 * 1000 * 2 ** 32, -3);
    // A share came before any work was seen: the window opens with the flow.
    expect(s.windowStartMicros).toBe(T0);
    expect(s.windowEndMicros).toBe(T0 + 101_000_000);
  });

  it('with no share in the window the estimate is zero with an upper bound', () => {
    const s = new Script()
      .pool(0, { id: null, method: 'mining.set_difficulty', params: [65536] })
      .miner(600, { id: 9, method: 'mining.noop' })
      .end();
    expect(s.estHashrate).toBe(0);
    expect(s.estHashrateLow).toBe(0);
    // Poisson 95 % point for zero events is 3.0 shares.
    expect(s.estHashrateHigh! / ((65536 * 2 ** 32) / 600)).toBeCloseTo(2.996, 2);
  });

  it('an unknown dialect algorithm without a conversion gives counts but no estimate', () => {
    const s = new Script();
    s.facts.dialect = 'beam';
    const r = s.pool(0, { method: 'job', id: '1', input: 'ab'.repeat(32), difficulty: 5 }).miner(10, { method: 'solution', id: '1', nonce: 'ab'.repeat(8), output: 'cd'.repeat(104) }).end();
    expect(r).toMatchObject({ sharesSubmitted: 1, estHashrate: null, hashrateUnit: null });
  });
});

describe('bounds', () => {
  it('caps outstanding requests, jobs and difficulty points per flow', () => {
    const s = new Script({ maxPending: 4, maxJobs: 3, maxDifficultyPoints: 3 });
    for (let i = 0; i < 10; i++) s.pool(i, { id: null, method: 'mining.set_difficulty', params: [1000 + i] });
    for (let i = 0; i < 10; i++) s.pool(10 + i, { id: null, method: 'mining.notify', params: [`job${i}`, 'x', 'y', 'z', [], '2', '1', '0', true] });
    for (let i = 0; i < 10; i++) s.miner(20 + i, { id: 100 + i, method: 'mining.get_transactions', params: [] });
    s.miner(31, submitV1(200, 'job0')); // job0 fell out of the job map: the current difficulty applies
    s.pool(32, { id: 200, result: true, error: null }); // over the pending cap: never queued
    const r = s.end();
    expect(r.difficultyHistory.map((p) => p.raw)).toEqual(['1000', '1001', '1009']);
    expect(r.sharesSubmitted).toBe(1);
    expect(r.hashesSubmitted).toBeCloseTo(1009 * 2 ** 32, -3);
    expect(r.sharesAccepted).toBe(0);
    expect(r.repliesUnmatched).toBe(1);
  });
});
