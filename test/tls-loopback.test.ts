/**
 * Real TLS ClientHellos: Node's own tls module connects to a local TLS server on 127.0.0.1
 * (with and without SNI, several ALPNs, TLS 1.2 and 1.3), tcpdump records them on loopback,
 * and the capture goes through the real pipeline. JA3 is checked against tshark's; JA4
 * against FoxIO's published example. Needs root and tcpdump (tshark for the JA3 check).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/reader.js';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket } from '../src/decode/types.js';
import { parseClientHello, ja3, ja4, ja4Raw, type ClientHello } from '../src/detect/tls-hello.js';
import { firstHandshake } from '../src/detect/tls-records.js';
import { FlowTable } from '../src/flow/flow-table.js';
import type { Direction, Flow } from '../src/flow/types.js';
import { shippedSignatures } from '../src/signatures/signature-set.js';
import { sharedCapturesDir } from '../src/util/paths.js';
import { replayBytes } from './support/pipeline.js';
import { scratchDir } from './support/scratch.js';

function has(cmd: string, arg = '--version'): boolean {
  return spawnSync(cmd, [arg], { stdio: 'ignore' }).error === undefined;
}

const isRoot = process.getuid?.() === 0;
const canCapture = isRoot && has('tcpdump');
const hasTshark = has('tshark', '-v');

describe('JA4 (FoxIO technical_details/JA4.md example)', () => {
  // The example hello: 15 ciphers, 16 extensions (plus GREASE), ALPN h2, TLS 1.3.
  const hello: ClientHello = {
    version: 0x0303,
    ciphers: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
    extensions: [0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015],
    sni: 'example.com',
    alpn: ['h2', 'http/1.1'],
    alpnFirstRaw: Buffer.from('h2'),
    groups: [],
    pointFormats: [],
    signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
    supportedVersions: [0x2a2a, 0x0304, 0x0303],
  };

  it('computes the published fingerprint and its raw parts', () => {
    expect(ja4(hello)).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
    const raw = ja4Raw(hello);
    expect(raw.ciphers).toBe('002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9');
    expect(raw.extensions).toBe('0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601');
  });

  it('no signature algorithms: no underscore; no ALPN: 00; non-alphanumeric ALPN: hex ends; no SNI: i', () => {
    expect(ja4({ ...hello, signatureAlgorithms: [] }).split('_')[2]).toBe('6d807ffa2a79');
    expect(ja4({ ...hello, alpn: [], alpnFirstRaw: undefined }).slice(0, 10)).toBe('t13d151600');
    expect(ja4({ ...hello, alpnFirstRaw: Buffer.from([0x30, 0xab]) }).slice(8, 10)).toBe('3b');
    const noSni = { ...hello, sni: undefined, extensions: hello.extensions.filter((e) => e !== 0) };
    expect(ja4(noSni).slice(0, 10)).toBe('t13i1515h2');
    expect(ja4({ ...hello, ciphers: [] }).split('_')[1]).toBe('000000000000');
  });
});

interface Attempt {
  label: string;
  options: ConnectionOptions;
  sni: string | undefined;
  alpn: string[];
  tls12: boolean;
}

/** The first client payload of every TCP flow in a capture, with its client port. */
async function clientHellos(bytes: Buffer): Promise<Map<number, ClientHello>> {
  const firstBytes = new Map<number, Buffer>();
  const table = new FlowTable({
    onData(flow: Flow, dir: Direction, buf: Buffer, offset: number, length: number) {
      if (dir !== 0) return;
      const prev = firstBytes.get(flow.port[0]) ?? Buffer.alloc(0);
      if (prev.length < 65536) firstBytes.set(flow.port[0], Buffer.concat([prev, buf.subarray(offset, offset + length)]));
    },
  });
  const decoder = new Decoder();
  const pkt = new DecodedPacket();
  await readCapture(Readable.from([bytes]), (p) => {
    if (decoder.decode(p.linkType, p.buf, p.offset, p.length, p.tsMicros, pkt)) table.process(pkt, p.tsMicros);
  });
  table.flush();
  const out = new Map<number, ClientHello>();
  for (const [port, data] of firstBytes) {
    const hs = firstHandshake(data, 0, data.length);
    if (hs && hs !== 'more') {
      const hello = parseClientHello(hs.buf, hs.start, hs.end);
      if (hello) out.set(port, hello);
    }
  }
  return out;
}

describe.runIf(canCapture)('real Node TLS ClientHellos captured on loopback', () => {
  const work = scratchDir('minewatch-tls-');
  const pcap = join(work, 'tls.pcap');
  let server: Server;
  let port = 0;
  let dump: ChildProcess;
  const clientPorts = new Map<string, number>();
  const attempts: Attempt[] = [
    { label: 'listed pool, no ALPN', options: { servername: 'pool.supportxmr.com' }, sni: 'pool.supportxmr.com', alpn: [], tls12: false },
    { label: 'no SNI (IP literal), stratum ALPN', options: { ALPNProtocols: ['stratum'] }, sni: undefined, alpn: ['stratum'], tls12: false },
    { label: 'unlisted host, h2 + http/1.1', options: { servername: 'www.example.org', ALPNProtocols: ['h2', 'http/1.1'] }, sni: 'www.example.org', alpn: ['h2', 'http/1.1'], tls12: false },
    { label: 'TLS 1.2 only, http/1.1', options: { servername: 'api.example.net', ALPNProtocols: ['http/1.1'], maxVersion: 'TLSv1.2' }, sni: 'api.example.net', alpn: ['http/1.1'], tls12: true },
  ];

  beforeAll(async () => {
    // A real TLS server when openssl can make a throwaway certificate, else a TCP sink:
    // either way the client's hello is real Node TLS.
    let tlsServer: Server | null = null;
    if (has('openssl', 'version')) {
      const key = join(work, 'key.pem');
      const cert = join(work, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      tlsServer = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert), ALPNProtocols: ['h2', 'http/1.1', 'stratum'] }, (s) => {
        s.on('error', () => {});
        s.end('hello\n');
      });
      tlsServer.on('tlsClientError', () => {});
    }
    server = tlsServer ?? createTcpServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    dump = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-w', pcap, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tcpdump did not start')), 10_000);
      dump.stderr!.on('data', (d: Buffer) => {
        if (d.toString().includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      dump.on('exit', (code) => reject(new Error(`tcpdump exited ${code}`)));
    });
    for (const a of attempts) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...a.options });
        socket.once('connect', () => clientPorts.set(a.label, socket.localPort!));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.on('secureConnect', () => setTimeout(() => socket.end(), 50));
        setTimeout(() => socket.destroy(), 1500);
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    dump.removeAllListeners('exit');
    await new Promise<void>((resolve) => {
      dump.once('exit', () => resolve());
      dump.kill('SIGTERM');
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, 30_000);

  afterAll(() => {
    if (dump && dump.exitCode === null) dump.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });

  it('parses every hello: SNI, ALPN and versions as the client set them; JA4 says d/i and the ALPN', async () => {
    const hellos = await clientHellos(readFileSync(pcap));
    expect(hellos.size).toBe(attempts.length);
    for (const a of attempts) {
      const h = hellos.get(clientPorts.get(a.label)!);
      expect(h, a.label).toBeDefined();
      expect(h!.sni, a.label).toBe(a.sni);
      expect(h!.alpn, a.label).toEqual(a.alpn);
      expect(h!.supportedVersions.includes(0x0304), a.label).toBe(!a.tls12);
      const fp = ja4(h!);
      expect(fp, a.label).toMatch(/^t1[23][di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
      expect(fp.slice(1, 3), a.label).toBe(a.tls12 ? '12' : '13');
      expect(fp[3], a.label).toBe(a.sni ? 'd' : 'i');
      expect(fp.slice(8, 10), a.label).toBe(a.alpn.length ? a.alpn[0]![0]! + a.alpn[0]!.slice(-1) : '00');
    }
  });

  it.runIf(hasTshark)('JA3 equals tshark for every hello', async () => {
    const hellos = await clientHellos(readFileSync(pcap));
    const out = execFileSync('tshark', ['-r', pcap, '-Y', 'tls.handshake.type==1', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tls.handshake.ja3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const theirs = new Map(out.trim().split('\n').map((l) => l.split('\t') as [string, string]).map(([p, j]) => [Number(p), j]));
    expect(theirs.size).toBe(attempts.length);
    for (const [p, h] of hellos) expect(ja3(h), `port ${p}`).toBe(theirs.get(p));
  });

  it('through the pipeline: only the hello naming a listed pool is a hit (medium, tls.sni)', async () => {
    const r = await replayBytes(readFileSync(pcap), undefined, 'tls.pcap', shippedSignatures());
    expect(r.hits.map((h) => `${h.kind} ${h.confidence} ${h.minerIp}:${h.minerPort} ${h.poolPort} ${h.poolHost}`)).toEqual([
      `tls.sni medium 127.0.0.1:${clientPorts.get('listed pool, no ALPN')} ${port} pool.supportxmr.com`,
    ]);
    expect(r.hits[0]!.detail).toMatch(/pool=SupportXMR .*sni pool\.supportxmr\.com ja3 [0-9a-f]{32} ja4 t13d\d{4}00_/);
  });
});

const shared = sharedCapturesDir();

describe.runIf(shared && hasTshark)('JA3 of the third-party captures equals tshark', () => {
  it('every ClientHello that opens a TCP stream (OpenVPN-tunnelled ones are not at a stream start)', async () => {
    const files = ['mining', 'benign'].flatMap((d) => readdirSync(join(shared!, d)).map((f) => join(shared!, d, f)));
    let compared = 0;
    for (const file of files) {
      const out = execFileSync('tshark', ['-r', file, '-Y', 'tls.handshake.type==1 && tcp', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tls.handshake.ja3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const theirs = out.trim() ? out.trim().split('\n').map((l) => l.split('\t') as [string, string]) : [];
      if (theirs.length === 0) continue;
      const hellos = await clientHellos(readFileSync(file));
      for (const [srcPort, ja3Text] of theirs) {
        const mine = hellos.get(Number(srcPort));
        if (!mine) continue;
        expect(ja3(mine), `${file} port ${srcPort}`).toBe(ja3Text);
        compared++;
      }
    }
    // bitcoin-mining, coinhive-stratum, cgminer, 443-firefox, bets, ja3_lots_of_cipher_suites, teams, tor, zoom
    expect(compared).toBeGreaterThanOrEqual(40);
  }, 60_000);
});
