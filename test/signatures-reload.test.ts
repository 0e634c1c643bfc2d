/**
 * Reloading signatures without a restart: a good folder swaps in for new flows (flows already
 * open keep the set they started with), a broken one is refused with file:line and the set
 * in force stays; SIGHUP and a change to the files trigger it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/reader.js';
import type { Evidence } from '../src/detect/types.js';
import { Sensor } from '../src/sensor.js';
import { installSignatureReload, ReloadableSignatures, SignatureLoadError, type ReloadOutcome } from '../src/signatures/reloadable.js';
import { clientHelloRecord, serverHelloRecord } from '../src/synth/tls.js';
import { captureOf, conversation } from './support/pipeline.js';
import { scratchDir } from './support/scratch.js';

const PROTOCOLS = 'rule tls.sni confidence=medium\n';
const cleanups: (() => void)[] = [];

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function folder(poolList: string): string {
  const dir = scratchDir('minewatch-reload-');
  mkdirSync(join(dir, 'pools'));
  mkdirSync(join(dir, 'protocols'));
  writeFileSync(join(dir, 'protocols', 'evidence.txt'), PROTOCOLS);
  writeFileSync(join(dir, 'pools', 'list.txt'), poolList);
  return dir;
}

/** A TLS hello to `sni` from its own client port, `at` seconds in. */
function helloFlow(sni: string, port: number, at: number): Buffer {
  return captureOf([
    conversation({
      turns: [
        { from: 'client', data: clientHelloRecord({ sni }) },
        { from: 'server', data: serverHelloRecord() },
      ],
      serverIp: '203.0.113.60',
      serverPort: 3333,
      client: { ip: '192.0.2.61', port },
      startMicros: 1_780_000_000_000_000 + at * 1_000_000,
      session: { close: 'none' },
    }),
  ]);
}

function sensorWith(signatures: ReloadableSignatures): { sensor: Sensor; hits: Evidence[]; feed: (bytes: Buffer) => Promise<void> } {
  const hits: Evidence[] = [];
  const sensor = new Sensor((e) => hits.push(e), { signatures });
  return { sensor, hits, feed: async (bytes) => void (await readCapture(Readable.from([bytes]), sensor.handlePacket)) };
}

describe('reloading signatures', () => {
  it('a good folder applies to new flows; a broken one is refused and the set in force stays', async () => {
    const dir = folder('pool-a.example\n');
    const signatures = ReloadableSignatures.open(dir);
    const { sensor, hits, feed } = sensorWith(signatures);

    await feed(helloFlow('pool-b.example', 50001, 0));
    expect(hits).toEqual([]);

    writeFileSync(join(dir, 'pools', 'list.txt'), 'pool-a.example\npool-b.example pool=B\n');
    expect(sensor.engine.reloadSignatures()).toMatch(/^signatures reloaded from .*: 2 files: 2 domains/);
    await feed(helloFlow('pool-b.example', 50002, 1));
    expect(hits.map((h) => `${h.kind} ${h.minerPort} ${h.poolHost}`)).toEqual(['tls.sni 50002 pool-b.example']);

    writeFileSync(join(dir, 'pools', 'list.txt'), 'pool-a.example\npool-b.example pool=B\nthis is not a pool\n');
    expect(() => sensor.engine.reloadSignatures()).toThrow(SignatureLoadError);
    try {
      sensor.engine.reloadSignatures();
    } catch (err) {
      expect((err as SignatureLoadError).problems).toEqual([{ file: 'pools/list.txt', line: 3, message: "one endpoint per line, got 'this is not a pool'" }]);
      expect((err as Error).message).toContain('the previous set stays in force');
    }
    await feed(helloFlow('pool-b.example', 50003, 2));
    expect(hits.map((h) => h.minerPort)).toEqual([50002, 50003]);
    sensor.finish();
  });

  it('flows open before a reload finish with the set they started with', async () => {
    const dir = folder('pool-a.example\n');
    const signatures = ReloadableSignatures.open(dir);
    const { sensor, hits, feed } = sensorWith(signatures);
    // The flow starts (its handshake and a first byte) under the old set...
    const bytes = helloFlow('pool-a.example', 50010, 0);
    await feed(bytes);
    expect(hits).toHaveLength(1);
    // ...a reload that drops pool-a does not touch flows already judged, and new ones miss.
    writeFileSync(join(dir, 'pools', 'list.txt'), 'pool-z.example\n');
    expect(signatures.reload()).toMatchObject({ ok: true, generation: 1, problems: [] });
    await feed(helloFlow('pool-a.example', 50011, 1));
    expect(hits.map((h) => h.minerPort)).toEqual([50010]);
    expect(sensor.engine.signatureSet.pools.matchName('pool-z.example')).not.toBeNull();
    sensor.finish();
  });

  it('reloadSignatures(DIR) switches folders; a folder with problems at start cannot be opened', () => {
    const a = folder('pool-a.example\n');
    const b = folder('pool-b.example\n');
    const { sensor } = sensorWith(ReloadableSignatures.open(a));
    sensor.engine.reloadSignatures(b);
    expect(sensor.engine.signatureSet.dir).toBe(b);
    expect(sensor.engine.signatureSet.pools.matchName('pool-b.example')).not.toBeNull();
    expect(sensor.engine.signatureReloads).toBe(1);
    const broken = folder('1.2.3.4/40\n');
    expect(() => ReloadableSignatures.open(broken)).toThrow(/pools\/list\.txt:1: '1\.2\.3\.4\/40': bad prefix length/);
  });

  it('SIGHUP and file changes reload; a broken edit is logged and refused', async () => {
    const dir = folder('pool-a.example\n');
    const { sensor } = sensorWith(ReloadableSignatures.open(dir));
    const logged: string[] = [];
    const log = { info: (_: object, msg: string) => logged.push(`info ${msg}`), warn: (o: object, msg: string) => logged.push(`warn ${msg} ${JSON.stringify(o)}`) };
    const outcomes: ReloadOutcome[] = [];
    let notify: (() => void) | null = null;
    const next = (): Promise<void> => new Promise((resolve) => (notify = resolve));
    const stop = installSignatureReload(sensor.engine, dir, log, {
      debounceMs: 50,
      onReload: (o) => {
        outcomes.push(o);
        notify?.();
      },
    });
    cleanups.push(stop);

    let done = next();
    process.emit('SIGHUP');
    await done;
    expect(outcomes.at(-1)).toMatchObject({ ok: true });

    done = next();
    writeFileSync(join(dir, 'pools', 'list.txt'), 'pool-a.example\npool-c.example\n');
    await done;
    expect(outcomes.at(-1)!.ok).toBe(true);
    expect(sensor.engine.signatureSet.pools.matchName('pool-c.example')).not.toBeNull();

    done = next();
    writeFileSync(join(dir, 'pools', 'list.txt'), 'pool-a.example\n!!!\n');
    await done;
    expect(outcomes.at(-1)).toMatchObject({ ok: false, problems: [{ file: 'pools/list.txt', line: 2 }] });
    expect(sensor.engine.signatureSet.pools.matchName('pool-c.example')).not.toBeNull();
    expect(logged.at(-1)).toMatch(/^warn signature reload refused; the previous set stays in force .*pools\/list\.txt:2: /);

    stop();
    process.emit('SIGHUP'); // removed: nothing happens
    expect(outcomes).toHaveLength(3);
    sensor.finish();
  }, 20_000);
});
