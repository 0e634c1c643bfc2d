/**
 * The reading thread of a parallel replay can run a shard of the flows itself (its share
 * comes from a cost model, sharded-replay.ts, and is none by default from two threads on).
 * Whatever the share, the evidence and sessions must be those of one sensor over the same
 * inputs: here the reader takes half or a third of the flows, in-process, and the output
 * is compared record by record with a single sensor's.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../src/capture/reader.js';
import { createReplaySensor, type ReplaySinks } from '../src/cli/replay-pipeline.js';
import { DEFAULT_FLOW_TABLE_OPTIONS } from '../src/flow/flow-table.js';
import { localShare, ShardedReplay } from '../src/parallel/sharded-replay.js';
import { loadSignatureDir, type SignatureSet } from '../src/signatures/signature-set.js';
import { writeTrafficMix } from '../src/synth/scenarios/traffic-mix.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { scratchDir } from './support/scratch.js';

const SIGNATURES = join(PROJECT_ROOT, 'signatures');
const BUNDLED = ['mining-mix.pcapng', 'encapsulations.pcapng', 'awkward-tcp.pcap'].map((f) => join(PROJECT_ROOT, 'captures', f));

interface Output {
  /** Evidence and sessions as JSON, sorted: shards that end flows at the same sweep emit
   *  them in shard order rather than in one table's order. */
  records: string[];
  packets: number;
  flows: number;
}

function collector(): { sinks: ReplaySinks; records: string[] } {
  const records: string[] = [];
  return {
    records,
    sinks: {
      evidence: (e) => records.push(`evidence ${JSON.stringify(e)}`),
      session: (s) => records.push(`session ${JSON.stringify(s)}`),
    },
  };
}

async function oneSensor(files: string[], signatures: SignatureSet): Promise<Output> {
  const { sinks, records } = collector();
  const sensor = createReplaySensor(sinks, { signatures });
  for (const file of files) {
    sensor.setSource(file);
    await readCaptureFile(file, sensor.handlePacket);
  }
  sensor.finish();
  return { records: records.sort(), packets: sensor.packets, flows: sensor.flows.stats.created };
}

async function sharded(files: string[], workers: number, readerShare: number, signatures: SignatureSet): Promise<Output & { perShard: number[] }> {
  const { sinks, records } = collector();
  const replay = new ShardedReplay(files, { workers, maxFlows: DEFAULT_FLOW_TABLE_OPTIONS.maxFlows, signatureDir: SIGNATURES, readerShare });
  const totals = await replay.run(sinks, signatures);
  return { records: records.sort(), packets: totals.packets, flows: totals.flowsCreated, perShard: replay.flowsPerShard };
}

describe('parallel replay: the reading thread running a shard itself', () => {
  let signatures: SignatureSet;
  let files: string[];
  const scratch = scratchDir('minewatch-share-');
  beforeAll(async () => {
    const loaded = loadSignatureDir(SIGNATURES);
    if (!loaded.set) throw new Error('the project signatures do not load');
    signatures = loaded.set;
    const mix = await writeTrafficMix(join(scratch, 'mix.pcap'), { seed: 11, sizeBytes: 4e6 });
    files = [...BUNDLED, mix.path];
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('takes no flows by default from two threads on (reading costs more than the flows)', () => {
    expect(localShare(1)).toBe(1);
    expect(localShare(2)).toBe(0);
    expect(localShare(8)).toBe(0);
  });

  for (const [workers, share] of [
    [2, 0.5],
    [3, 1 / 3],
  ] as const) {
    it(`gives one sensor's evidence and sessions with ${workers} threads, the reader taking ${share.toFixed(2)} of the flows`, async () => {
      const one = await oneSensor(files, signatures);
      const many = await sharded(files, workers, share, signatures);
      expect(one.records.length).toBeGreaterThan(100);
      expect(many.records).toEqual(one.records);
      expect(many.packets).toBe(one.packets);
      expect(many.flows).toBe(one.flows);
      // Every shard, the reader's included, had a fair part of the flows.
      expect(many.perShard).toHaveLength(workers);
      for (const flows of many.perShard) expect(flows).toBeGreaterThan(one.flows * share * 0.5);
    }, 60_000);
  }
});
