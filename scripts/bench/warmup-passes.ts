/**
 * One process replaying a capture several times through the sensor (flow table and every
 * detector, no database), timing each pass and each slice of packets. The first pass runs
 * while V8 still interprets and compiles; later passes run optimised code, so the
 * difference is what JIT warm-up costs a replay of that input. Run as a script, it prints
 * the timings of `FILE` as JSON (scripts/bench-warmup.ts starts it in a fresh process).
 *
 *   node --import tsx scripts/bench/warmup-passes.ts FILE [PASSES] [SLICE]
 */
import { pathToFileURL } from 'node:url';
import { readCaptureFile } from '../../src/capture/reader.js';
import { Sensor } from '../../src/sensor.js';

export interface PassTimings {
  packets: number;
  /** Seconds of each pass, reading included. */
  passSeconds: number[];
  /** Per pass, milliseconds of each `slice` packets (the last slice may be shorter). */
  sliceMs: number[][];
  slice: number;
}

export async function timePasses(file: string, passes = 2, slice = 100_000): Promise<PassTimings> {
  const result: PassTimings = { packets: 0, passSeconds: [], sliceMs: [], slice };
  for (let pass = 0; pass < passes; pass++) {
    const sensor = new Sensor(() => {});
    const handle = sensor.handlePacket;
    const slices: number[] = [];
    const started = performance.now();
    let sliceStart = started;
    let packets = 0;
    await readCaptureFile(file, (pkt) => {
      handle(pkt);
      if (++packets % slice === 0) {
        const now = performance.now();
        slices.push(now - sliceStart);
        sliceStart = now;
      }
    });
    sensor.finish();
    const ended = performance.now();
    if (packets % slice !== 0) slices.push(ended - sliceStart);
    result.packets = packets;
    result.passSeconds.push((ended - started) / 1000);
    result.sliceMs.push(slices);
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, passes, slice] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: warmup-passes.ts FILE [PASSES] [SLICE]\n');
    process.exit(2);
  }
  const timings = await timePasses(file, passes ? Number(passes) : undefined, slice ? Number(slice) : undefined);
  process.stdout.write(`${JSON.stringify(timings)}\n`);
}
