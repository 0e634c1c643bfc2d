/**
 * The shipped signature set and the commands around it: `signatures check` passes on it
 * (strict: every entry has a source), it covers the pools and services the issue names,
 * `replay --signatures` refuses a broken folder, `show` prints provenance and export/show
 * filter by confidence.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runExport } from '../src/cli/export.js';
import { runShow } from '../src/cli/show.js';
import { runSignaturesCheck, runSignaturesMatch } from '../src/cli/signatures.js';
import { shippedSignatureDir, shippedSignatures } from '../src/signatures/signature-set.js';
import { HitStore } from '../src/store/hit-store.js';
import { dnsAnswer, dnsQuery } from '../src/synth/dns.js';
import { udpPacket } from '../src/synth/packets.js';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { applicationData, clientHelloRecord, serverHelloRecord } from '../src/synth/tls.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { captureOf, conversation, replayBytes, tempDb } from './support/pipeline.js';
import { scratchDir } from './support/scratch.js';

function captureOutput(): { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  return { out: () => stdout, err: () => stderr };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the shipped signatures', () => {
  it('pass `signatures check --strict`: no problem, a source on every entry', () => {
    const io = captureOutput();
    expect(runSignaturesCheck(shippedSignatureDir(), { strict: true })).toBe(0);
    expect(io.err()).toBe('');
    expect(io.out()).toMatch(/files: \d+ domains, \d+ wildcard domains, \d+ exceptions, .* \d+ agent patterns, 1 JA3, 1 JA4, \d+ methods, 2 markers, 9 evidence rules\nok\n$/);
  });

  it('cover the large pools, XMRig donation and the browser-mining services', () => {
    const pools = shippedSignatures().pools;
    const expectPool = (host: string, port: number, name: string): void => {
      expect(pools.matchName(host, port)?.tags.pool, host).toBe(name);
    };
    expectPool('randomxmonero.auto.nicehash.com', 9200, 'NiceHash');
    expectPool('daggerhashimoto.eu.nicehash.com', 3353, 'NiceHash');
    expectPool('btc.f2pool.com', 1314, 'F2Pool');
    expectPool('stratum.antpool.com', 3333, 'AntPool');
    expectPool('btc.viabtc.com', 3333, 'ViaBTC');
    expectPool('btc-eu.ss.poolin.com', 443, 'Poolin');
    expectPool('sha256.poolbinance.com', 1800, 'Binance-Pool');
    expectPool('xmr.2miners.com', 2222, '2Miners');
    expectPool('xmr-eu1.nanopool.org', 14444, 'Nanopool');
    expectPool('pool.supportxmr.com', 443, 'SupportXMR');
    expectPool('pool.hashvault.pro', 443, 'HashVault');
    expectPool('de.monero.herominers.com', 1111, 'HeroMiners');
    expectPool('gulf.moneroocean.stream', 10128, 'MoneroOcean');
    expectPool('eu1.ethermine.org', 4444, 'Ethermine');
    expectPool('eu1-zcash.flypool.org', 3333, 'Flypool');
    expectPool('xmr.suprnova.cc', 5222, 'Suprnova');
    expectPool('xmr.pool.minergate.com', 45560, 'MinerGate');
    expectPool('donate.v2.xmrig.com', 3333, 'XMRig-donation');
    expectPool('donate.ssl.xmrig.com', 443, 'XMRig-donation');
    expectPool('coinhive.com', 443, 'Coinhive');
    expectPool('ws001.coinhive.com', 443, 'Coinhive');
    expectPool('authedmine.com', 443, 'AuthedMine');
    expectPool('crypto-loot.com', 443, 'Crypto-Loot');
    expectPool('webminepool.com', 443, 'WebMinePool');
    // Pool web sites are not pools.
    for (const site of ['www.supportxmr.com', 'www.f2pool.com', 'www.antpool.com', 'www.ethermine.org', 'supportxmr.com', 'nicehash.com']) {
      expect(pools.matchName(site, 443), site).toBeNull();
    }
    expect(pools.matchName('eth.2miners.com', 443)).toBeNull();
  });

  it('name the miners by their agent strings', () => {
    const agents = shippedSignatures().agents;
    const cases: [string, string][] = [
      ['XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0', 'XMRig'],
      ['xmr-stak-cpu/1.3.0-1.5.0', 'xmr-stak'],
      ['cgminer/4.11.1', 'cgminer'],
      ['bfgminer/5.2.0', 'bfgminer'],
      ['EWBF 0.3.4b', 'EWBF'],
      ['ethminer-0.19.0', 'ethminer'],
      ['lolMiner/1.88', 'lolMiner'],
      ['T-Rex/0.26.8', 'T-Rex'],
      ['NBMiner/42.3', 'NBMiner'],
      ['GMiner/3.43', 'GMiner'],
      ['teamredminer/0.10.9', 'TeamRedMiner'],
      ['SRBMiner-MULTI/2.4.4', 'SRBMiner'],
      ['NiceHash/1.0.0', 'NiceHash'],
    ];
    for (const [agent, miner] of cases) expect(agents.match(agent)?.miner, agent).toBe(miner);
    expect(agents.match('Mozilla/5.0 (X11; Linux x86_64)')).toBeNull();
  });
});

describe('the bundled captures with the shipped signatures', () => {
  it('give the same miners and nothing below high confidence (no DNS, TLS or listed pools in them)', async () => {
    for (const c of bundledCaptures()) {
      const r = await replayBytes(c.bytes, undefined, c.file, shippedSignatures());
      expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip).sort(), c.file).toEqual(c.miners.map((m) => m.miner).sort());
      expect(r.hits.filter((h) => h.confidence !== 'high'), c.file).toEqual([]);
    }
  });
});

describe('minewatch signatures', () => {
  it('check reports every problem as file:line on stderr and exits 1', () => {
    const dir = scratchDir('minewatch-sig-');
    mkdirSync(join(dir, 'pools'));
    writeFileSync(join(dir, 'pools', 'drop-in.txt'), '0.0.0.0 good.example\nthis line is garbage\n198.51.100.0/33\n');
    const io = captureOutput();
    expect(runSignaturesCheck(dir)).toBe(1);
    expect(io.err()).toBe("pools/drop-in.txt:2: one endpoint per line, got 'this line is garbage'\npools/drop-in.txt:3: '198.51.100.0/33': bad prefix length\n");
    expect(io.out()).toContain('1 domains');
    expect(io.out()).toContain('2 problem(s)');
  });

  it('match names the entry and its source', () => {
    const io = captureOutput();
    expect(runSignaturesMatch('la01.supportxmr.com', shippedSignatureDir())).toBe(0);
    expect(runSignaturesMatch('www.supportxmr.com', shippedSignatureDir())).toBe(1);
    expect(io.out()).toMatch(/^la01\.supportxmr\.com: pools\/mining-pools\.txt:\d+ \*\.supportxmr\.com pool=SupportXMR coin=xmr dialect=cryptonote type=pool\n  source: .*coinhive-stratum\.pcap/);
    expect(io.out()).toContain('www.supportxmr.com: no pool entry');
  });

  it('replay --signatures refuses a broken folder before reading anything (exit 2, file:line)', () => {
    const dir = scratchDir('minewatch-sig-');
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'x.txt'), 'ja3:1234 miner=x\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'main.ts'), 'replay', '--quiet', '--db', tempDb(), '--signatures', dir, join(PROJECT_ROOT, 'captures', 'awkward-tcp.pcap')], {
      encoding: 'utf8',
      cwd: PROJECT_ROOT,
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("minewatch: tls/x.txt:1: '1234' is not a JA3 fingerprint");
  });
});

describe('confidence and provenance in show and export', () => {
  /** One strong payload miner, one SNI (medium) miner, one DNS-only (low) host. */
  async function mixedDb(): Promise<string> {
    const db = tempDb('mixed');
    const t0 = 1_780_000_000_000_000;
    const dns = [
      { tsMicros: t0, ip: udpPacket({ ip: '192.0.2.30', port: 40001 }, { ip: '192.0.2.53', port: 53 }, dnsQuery(5, 'xmr-eu1.nanopool.org')) },
      { tsMicros: t0 + 1000, ip: udpPacket({ ip: '192.0.2.53', port: 53 }, { ip: '192.0.2.30', port: 40001 }, dnsAnswer(5, 'xmr-eu1.nanopool.org', [{ type: 'A', name: 'xmr-eu1.nanopool.org', address: '203.0.113.30' }])) },
    ];
    const tls = conversation({
      turns: [
        { from: 'client', data: clientHelloRecord({ sni: 'btc.f2pool.com' }) },
        { from: 'server', data: Buffer.concat([serverHelloRecord(), applicationData(500)]) },
      ],
      serverIp: '203.0.113.31',
      serverPort: 3333,
      client: { ip: '192.0.2.31', port: 40002 },
    });
    const login = '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"}}\n';
    const stratum = conversation({ turns: [{ from: 'client', data: login }], serverIp: '203.0.113.32', serverPort: 3333, client: { ip: '192.0.2.32', port: 40003 } });
    await replayBytes(captureOf([dns, tls, stratum]), db, 'mixed.pcap', shippedSignatures());
    return db;
  }

  it('export --min-confidence keeps the IPs with hits at or above the level', async () => {
    const db = await mixedDb();
    const list = (level: string): string[] => {
      const io = captureOutput();
      expect(runExport({ db, format: 'txt', role: 'miner', minConfidence: level })).toBe(0);
      vi.restoreAllMocks();
      return io.out().trim().split('\n');
    };
    expect(list('low')).toEqual(['192.0.2.30', '192.0.2.31', '192.0.2.32']);
    expect(list('medium')).toEqual(['192.0.2.31', '192.0.2.32']);
    expect(list('high')).toEqual(['192.0.2.32']);
    const io = captureOutput();
    expect(runExport({ db, format: 'txt', role: 'miner', minConfidence: 'certain' })).toBe(2);
    expect(io.err()).toContain("unknown confidence 'certain'");
  });

  it('show prints each hit with its provenance (WHY) and filters by --min-confidence', async () => {
    const db = await mixedDb();
    let io = captureOutput();
    expect(runShow('192.0.2.31', { db, limit: '50' })).toBe(0);
    const header = io.out().split('\n').find((l) => l.startsWith('TIME'))!;
    expect(header).toMatch(/CONF +WHY +AGENT/);
    expect(io.out()).toMatch(/tls\.sni +medium +tls; pools\/mining-pools\.txt:\d+ \*\.f2pool\.com; protocols\/evidence\.txt:\d+ rule tls\.sni /);
    vi.restoreAllMocks();

    io = captureOutput();
    expect(runShow('192.0.2.32', { db, limit: '50', json: true })).toBe(0);
    const doc = JSON.parse(io.out()) as { evidence: { kind: string; provenance: string }[] };
    expect(doc.evidence.find((e) => e.kind === 'login')!.provenance).toMatch(/^cryptonote; agents\/miners\.txt:\d+ XMRig$/);
    vi.restoreAllMocks();

    io = captureOutput();
    expect(runShow('192.0.2.30', { db, limit: '50', minConfidence: 'medium' })).toBe(1);
    vi.restoreAllMocks();
    io = captureOutput();
    expect(runShow('192.0.2.30', { db, limit: '50' })).toBe(0);
    expect(io.out()).toMatch(/dns\.query +low +dns; pools\/mining-pools\.txt:\d+ \*\.nanopool\.org/);
  });

  it('hits carry a provenance column; rows stored without one show the detector', () => {
    const db = tempDb('old');
    HitStore.open(db).close();
    const raw = new Database(db);
    const columns = (raw.prepare('PRAGMA table_info(hits)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toContain('provenance');
    raw.prepare(
      `INSERT INTO hits (ts, ts_us, miner_ip, miner_port, pool_ip, pool_port, transport, dialect, kind, confidence, detector, source)
       VALUES ('2023-11-14T22:13:20.000000Z', 1700000000000000, '192.0.2.9', 1, '203.0.113.9', 3333, 'tcp', 'stratum', 'mining.subscribe', 'high', 'stratum', 'x')`,
    ).run();
    raw.close();
    const reader = HitStore.open(db, { readonly: true });
    const [hit] = reader.evidenceFor('192.0.2.9');
    reader.close();
    expect(hit).toMatchObject({ kind: 'mining.subscribe', provenance: null });
    const io = captureOutput();
    expect(runShow('192.0.2.9', { db, limit: '5' })).toBe(0);
    expect(io.out()).toMatch(/mining\.subscribe +high +stratum /);
  });
});
