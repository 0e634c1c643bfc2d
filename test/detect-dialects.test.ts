/**
 * Every mining dialect, fed as real capture bytes through the whole pipeline into SQLite:
 * the stored evidence must name the miner and pool from the messages (whatever the ports),
 * the dialect, the evidence kinds and the identities.
 */
import { describe, expect, it } from 'vitest';
import { links } from '../src/synth/link.js';
import { MINING_SCENARIOS, scenarioByName, type Scenario } from '../src/synth/scenarios/mining.js';
import { captureOf, conversation, MINER, POOL_IP, replayBytes, type ReplayResult } from './support/pipeline.js';

function expectScenario(r: ReplayResult, sc: Scenario, miner = MINER.ip, pool = POOL_IP, poolPort = sc.serverPort): void {
  expect(r.hits.length).toBeGreaterThan(0);
  const minerRows = r.ips.filter((s) => s.role === 'miner');
  expect(minerRows.map((s) => s.ip)).toEqual([miner]);
  for (const h of r.hits) {
    expect(h.minerIp).toBe(miner);
    expect(h.poolIp).toBe(pool);
    expect(h.poolPort).toBe(poolPort);
    expect(h.confidence).toBe('high');
  }
  const dialects = new Set(r.hits.map((h) => h.dialect));
  expect(dialects).toContain(sc.expect.dialect);
  const kinds = new Set(r.hits.map((h) => h.kind));
  for (const k of sc.expect.kinds) expect(kinds, `kind ${k}`).toContain(k);
  const field = (name: 'agent' | 'worker' | 'login' | 'wallet' | 'algo' | 'poolHost'): (string | null)[] => r.hits.map((h) => h[name]);
  for (const name of ['agent', 'worker', 'login', 'wallet', 'algo', 'poolHost'] as const) {
    const want = sc.expect[name];
    if (want !== undefined) expect(field(name), name).toContain(want);
  }
}

describe('each dialect through the pipeline', () => {
  for (const sc of MINING_SCENARIOS) {
    it(`${sc.name}: ${sc.description}`, async () => {
      const r = await replayBytes(captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })]));
      expectScenario(r, sc);
    });
  }
});

describe('awkward transport', () => {
  for (const sc of MINING_SCENARIOS) {
    it(`${sc.name}: random segment sizes, retransmissions and reordering`, async () => {
      const packets = conversation({
        turns: sc.turns,
        serverPort: sc.serverPort,
        session: { seed: 7, randomSegments: true, mss: 40, retransmitProbability: 0.2, reorderProbability: 0.2 },
      });
      expectScenario(await replayBytes(captureOf([packets])), sc);
    });
  }

  it('splits lines at every awkward place (inside keys, before the newline)', async () => {
    const sc = scenarioByName('stratum-v1-btc');
    const packets = conversation({ turns: sc.turns, serverPort: sc.serverPort, session: { splitAt: [1, 2, 9, 17, 30, 55] } });
    expectScenario(await replayBytes(captureOf([packets])), sc);
  });

  it('roles come from the messages: a pool on port 25 and a miner on 3333', async () => {
    const sc = scenarioByName('stratum-v1-btc');
    const packets = conversation({ turns: sc.turns, serverPort: 25, client: { ip: MINER.ip, port: 3333 } });
    expectScenario(await replayBytes(captureOf([packets])), sc, MINER.ip, POOL_IP, 25);
  });

  it('picks up a session mid-stream where only the pool pushes are seen', async () => {
    const sc = scenarioByName('stratum-v1-btc');
    const pushes = [
      ...sc.turns,
      { from: 'server' as const, data: `${JSON.stringify({ id: null, method: 'mining.set_difficulty', params: [131072] })}\n` },
      { from: 'server' as const, data: `${JSON.stringify({ id: null, method: 'mining.notify', params: ['1a80', 'aa'.repeat(32), '01', 'ff', [], '20000000', '17030ecd', '66f2a1b1', false] })}\n` },
    ];
    // Drop the handshake and everything up to the pool's last pushes: side 0 is now the pool.
    const all = conversation({ turns: pushes, serverPort: 443 });
    const tail = all.slice(all.length - 8);
    const r = await replayBytes(captureOf([tail]));
    expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip)).toEqual([MINER.ip]);
    expect(r.hits.every((h) => h.poolIp === POOL_IP && h.poolPort === 443)).toBe(true);
    expect(r.hits.map((h) => h.kind)).toContain('mining.notify');
  });

  it('NUL padding, CRLF endings, several messages per segment and odd whitespace', async () => {
    const text =
      '  {"id" : 1 ,"method" :\t"mining.subscribe" , "params" : [ "sgminer/5.6.1" ]}\r\n\0\0\0' +
      '{"params":["farm.w1","x"],"method":"mining.authorize","id":2}\n{"id":3,"method":"mining.extranonce.subscribe","params":[]}\n';
    const packets = conversation({ turns: [{ from: 'client', data: text }, { from: 'server', data: '{"id":1,"result":true,"error":null}\n' }], serverPort: 7777 });
    const r = await replayBytes(captureOf([packets]));
    const kinds = r.hits.map((h) => h.kind);
    expect(kinds).toEqual(expect.arrayContaining(['mining.subscribe', 'mining.authorize', 'mining.extranonce.subscribe']));
    expect(r.hits.find((h) => h.kind === 'mining.subscribe')?.agent).toBe('sgminer/5.6.1');
  });

  it('survives an endless line and still finds the mining after it', async () => {
    const endless = `{"junk":"${'A'.repeat(100_000)}`;
    const sc = scenarioByName('cryptonote-xmrig');
    const turns = [{ from: 'client' as const, data: `${endless}\n` }, ...sc.turns];
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: sc.serverPort })]));
    expect(r.sensor.engine.stats.oversizeLines).toBeGreaterThanOrEqual(1);
    expectScenario(r, sc);
  });

  it('replaying the same capture twice does not double-count', async () => {
    const sc = scenarioByName('ethproxy');
    const bytes = captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })]);
    const first = await replayBytes(bytes);
    const second = await replayBytes(bytes, first.dbPath);
    expect(second.hits.length).toBe(first.hits.length);
    expect(second.ips.find((s) => s.role === 'miner')?.hits).toBe(first.ips.find((s) => s.role === 'miner')?.hits);
  });
});

describe('link layers and tunnels', () => {
  const sc = scenarioByName('cryptonote-xmrig');
  const variants = [
    ['802.1Q VLAN', links.ethernet({ vlans: [100] })],
    ['QinQ', links.ethernet({ vlans: [200, 300], qinq: true })],
    ['Linux SLL', links.sll()],
    ['Linux SLL2', links.sll2()],
    ['raw IP', links.rawIp()],
    ['BSD NULL', links.nullLoop()],
    ['GRE/ERSPAN II', links.greEthernetErspan2('198.51.100.1', '198.51.100.2')],
    ['ERSPAN III', links.erspan3('198.51.100.1', '198.51.100.2')],
    ['VXLAN', links.vxlan('198.51.100.1', '198.51.100.2')],
    ['GTP-U', links.gtpu('198.51.100.1', '198.51.100.2')],
    ['IP-in-IP', links.ipInIp('198.51.100.1', '198.51.100.2')],
    ['GRE', links.greIp('198.51.100.1', '198.51.100.2')],
    ['MPLS', links.mpls([16, 17])],
  ] as const;
  for (const [name, link] of variants) {
    it(`CryptoNote inside ${name}`, async () => {
      expectScenario(await replayBytes(captureOf([conversation({ turns: sc.turns, serverPort: sc.serverPort })], link)), sc);
    });
  }

  it('Stratum over IPv6', async () => {
    const v1 = scenarioByName('stratum-v1-btc');
    const packets = conversation({ turns: v1.turns, serverPort: 3333, client: { ip: '2001:db8::10', port: 50000 }, serverIp: '2001:db8:1::5' });
    expectScenario(await replayBytes(captureOf([packets])), v1, '2001:db8::10', '2001:db8:1::5', 3333);
  });
});
