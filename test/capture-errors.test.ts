import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openCaptureInput, readCapture } from '../src/capture/reader.js';
import { CaptureError } from '../src/capture/types.js';
import { chunkedReadable, classicPcap, readAll, sampleRecords } from './support/capture-bytes.js';
import { scratchDir } from './support/scratch.js';

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

async function captureFailure(bytes: Buffer, chunkSizes?: number[]): Promise<string> {
  const error = await failure(readAll(bytes, chunkSizes === undefined ? {} : { chunkSizes }));
  expect(error).toBeInstanceOf(CaptureError);
  expect(error.name).toBe('CaptureError');
  expect(error.message).not.toContain('\n');
  return error.message;
}

describe('capture input errors', () => {
  const dir = scratchDir('minewatch-capture-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects input that is not a capture, naming its first bytes', async () => {
    const http = Buffer.from('GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n');
    expect(await captureFailure(http)).toBe('input: not a pcap or pcapng capture (starts with 47 45 54 20)');
    expect(await captureFailure(http, [1])).toBe('input: not a pcap or pcapng capture (starts with 47 45 54 20)');
    expect(await captureFailure(Buffer.from([0xa1, 0xb2]))).toBe('input: not a pcap or pcapng capture (starts with a1 b2)');
  });

  it('rejects empty input', async () => {
    expect(await captureFailure(Buffer.alloc(0))).toBe('input: empty input');
    expect(await captureFailure(gzipSync(Buffer.alloc(0)))).toBe('input: empty input (gzip stream holds no data)');
  });

  it('sniffs the magic inside gzip, never the extension', async () => {
    expect(await captureFailure(gzipSync(Buffer.from('plain text, gzipped')))).toBe(
      'input: not a pcap or pcapng capture (starts with 70 6c 61 69)',
    );
    const path = join(dir, 'really-gzipped-pcap.pcapng');
    writeFileSync(path, gzipSync(classicPcap({ littleEndian: true, records: sampleRecords(3) })));
    const stats = await readCapture(openCaptureInput(path), () => {});
    expect(stats).toMatchObject({ format: 'pcap', gzip: true, packets: 3 });
  });

  it('rejects gzip data that cannot be decompressed', async () => {
    const broken = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xff)]);
    expect(await captureFailure(broken)).toMatch(/^input: corrupt gzip data \(.+\)$/);
  });

  it('names a missing file in one line', async () => {
    const path = join(dir, 'missing.pcap');
    const error = await failure(readCapture(openCaptureInput(path), () => {}));
    expect(error).toBeInstanceOf(CaptureError);
    expect(error.message).toBe(`${path}: no such file`);
  });

  it('names a directory in one line', async () => {
    const error = await failure(readCapture(openCaptureInput(dir), () => {}));
    expect(error).toBeInstanceOf(CaptureError);
    expect(error.message).toBe(`${dir}: is a directory`);
  });

  it('reads files through openCaptureInput and names them in errors', async () => {
    const path = join(dir, 'garbage.pcap');
    writeFileSync(path, 'not a capture at all');
    const error = await failure(readCapture(openCaptureInput(path), () => {}));
    expect(error.message).toBe(`${path}: not a pcap or pcapng capture (starts with 6e 6f 74 20)`);
  });

  it('wraps a stream failure in the middle of the capture', async () => {
    const file = classicPcap({ littleEndian: true, records: sampleRecords(10) });
    const failing = new Readable({
      read() {
        this.push(file.subarray(0, 200));
        this.destroy(Object.assign(new Error('read failed\nsecond line'), { code: 'EIO' }));
      },
    });
    const error = await failure(readCapture(failing, () => {}));
    expect(error).toBeInstanceOf(CaptureError);
    expect(error.message).toBe('input: read failed');
  });

  it('passes an error from the packet handler through unchanged and closes the input', async () => {
    const input = chunkedReadable(classicPcap({ littleEndian: true, records: sampleRecords(50) }), [100]);
    const boom = new Error('handler failed');
    let calls = 0;
    const error = await failure(
      readCapture(input, () => {
        if (++calls === 3) throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(calls).toBe(3);
    expect(input.destroyed).toBe(true);
  });

  it('rejects a nonsensical record limit', async () => {
    const error = await failure(readAll(classicPcap({ littleEndian: true, records: [] }), { maxRecordBytes: 0 }));
    expect(error).toBeInstanceOf(RangeError);
  });
});
