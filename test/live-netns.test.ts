/**
 * `minewatch run` end to end on a live interface: two network namespaces joined by a veth
 * pair, the sensor capturing one end. A scripted Stratum miner and pool talk across the
 * pair, tcpreplay replays the bundled captures, and the test reads the hits back from
 * SQLite, from the WebSocket feed (a client inside the namespace) and from `status`.
 * Also: SIGHUP, feed token refusal, the interface going down and up, SIGTERM flushing.
 * Runs as root with `ip netns`, tcpreplay and the pcap module; skipped otherwise. The
 * namespaces (and everything in them) are removed whatever happens.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledCaptures } from '../src/synth/scenarios/bundle.js';
import { HitStore } from '../src/store/hit-store.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { createVethPair, destroyVethPair, netnsAvailable, nsRun, nsSpawn, pcapLoads, setLink, toolAvailable, type VethPair } from './support/netns.js';
import { eventually, Proc } from './support/proc.js';
import { scratchDir } from './support/scratch.js';

const MAIN = join(PROJECT_ROOT, 'src', 'cli', 'main.ts');
const PEERS = join(PROJECT_ROOT, 'test', 'support', 'stratum-peers.ts');
const FEED_CLIENT = join(PROJECT_ROOT, 'test', 'support', 'feed-client.ts');
const REPLAYED = ['mining-mix.pcapng', 'awkward-tcp.pcap'];
const POOL_PORT = 3333;
const FEED_PORT = 18765;

const canRun = process.platform === 'linux' && netnsAvailable() && toolAvailable('tcpreplay') && pcapLoads();

function minerIps(db: string): string[] {
  const store = HitStore.open(db, { readonly: true });
  try {
    return store.listIps({ role: 'miner' }).map((s) => s.ip);
  } finally {
    store.close();
  }
}

function hitCount(db: string, ip: string): number {
  const store = HitStore.open(db, { readonly: true });
  try {
    return store.evidenceFor(ip, 100_000).length;
  } finally {
    store.close();
  }
}

/** Feed messages received so far, parsed. */
function feedMessages(client: Proc): Array<Record<string, unknown>> {
  return client.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.runIf(canRun)('minewatch run on a veth pair', () => {
  let pair: VethPair | null = null;
  const procs: Proc[] = [];
  const dir = scratchDir('minewatch-live-');
  const db = join(dir, 'live.db');
  const statsFile = join(dir, 'stats.json');
  const token = randomBytes(16).toString('hex');
  let sensor: Proc;
  let feed: Proc;

  function start(ns: string, script: string, args: string[]): Proc {
    const p = new Proc(nsSpawn(ns, process.execPath, ['--import', 'tsx', script, ...args], { cwd: PROJECT_ROOT }));
    procs.push(p);
    return p;
  }

  async function runMiner(extra: string[] = []): Promise<Proc> {
    const miner = start(pair!.nsB, PEERS, ['miner', pair!.ipA, String(POOL_PORT), 'stratum-v1-btc', ...extra]);
    await miner.waitFor(/^done$/, 20_000);
    return miner;
  }

  beforeAll(async () => {
    pair = createVethPair('live');
    sensor = start(pair.nsB, MAIN, [
      'run', '--interface', pair.ifB, '--db', db, '--stats-file', statsFile, '--stats-interval', '0.5',
      '--flush-interval', '0.2', '--listen', `127.0.0.1:${FEED_PORT}`, '--token', token,
    ]);
    await sensor.waitFor(/live capture started/, 30_000);
    const pool = start(pair.nsA, PEERS, ['pool', pair.ipA, String(POOL_PORT)]);
    await pool.waitFor(/^listening$/, 20_000);
    feed = start(pair.nsB, FEED_CLIENT, [`ws://127.0.0.1:${FEED_PORT}`, token]);
    await feed.waitFor(/"type":"hello"/, 20_000);
  }, 90_000);

  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    destroyVethPair(pair);
    pair = null;
  });

  it('a scripted Stratum miner and pool: the miner IP reaches SQLite and the feed', async () => {
    await runMiner();
    const { ipA, ipB } = pair!;
    await eventually(() => minerIps(db).includes(ipB), 10_000, `miner ${ipB} in SQLite`);
    const hit = await eventually(
      () => feedMessages(feed).find((m) => m.type === 'hit' && m.miner_ip === ipB && m.kind === 'mining.submit'),
      10_000,
      'the submit on the feed',
    );
    expect(hit).toMatchObject({ pool_ip: ipA, pool_port: POOL_PORT, dialect: 'stratum', worker: 'rack4-s19xp-07', source: `if:${pair!.ifB}` });
    const update = await eventually(() => feedMessages(feed).find((m) => m.type === 'ip' && m.ip === ipB && m.role === 'miner'), 10_000, 'the IP update');
    expect(update.peers).toContain(`${ipA}:${POOL_PORT}`);
  });

  it('replayed bundled captures: every miner IP in SQLite and on the feed, no drops', async () => {
    const expected = bundledCaptures()
      .filter((c) => REPLAYED.includes(c.file))
      .flatMap((c) => c.miners.map((m) => m.miner));
    let sent = 0;
    for (const file of REPLAYED) {
      const r = nsRun(pair!.nsA, 'tcpreplay', ['-i', pair!.ifA, '--pps=5000', join(PROJECT_ROOT, 'captures', file)]);
      expect(r.code, r.stderr).toBe(0);
      sent += Number(/Actual: (\d+) packets/.exec(r.stdout)?.[1]);
    }
    expect(sent).toBeGreaterThan(500);
    await eventually(() => expected.every((ip) => minerIps(db).includes(ip)), 15_000, 'every replayed miner in SQLite');
    await eventually(
      () => expected.every((ip) => feedMessages(feed).some((m) => m.type === 'hit' && m.miner_ip === ip)),
      10_000,
      'every replayed miner on the feed',
    );
    // Counters come from the kernel (libpcap) and the driver (sysfs), read every stats interval.
    const stats = await eventually(() => {
      const s = JSON.parse(readFileSync(statsFile, 'utf8')) as Record<string, number>;
      return s.packets! >= sent ? s : null;
    }, 10_000, 'the stats file to count the replayed packets');
    expect(stats.kernelDropped).toBe(0);
    expect(stats.interfaceDropped).toBe(0);
    expect(stats.kernelReceived).toBeGreaterThanOrEqual(sent);
    const status = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'status', '--db', db], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${pair!.ifB}: running`);
    expect(status.stdout).toMatch(/drops +kernel 0, interface 0/);
  });

  it('a feed client without the right token is refused', async () => {
    const wrong = start(pair!.nsB, FEED_CLIENT, [`ws://127.0.0.1:${FEED_PORT}`, 'not-the-token-at-all']);
    expect(await wrong.exited(20_000)).toBe(1);
    expect(wrong.stdout).toContain('refused 401');
    const none = start(pair!.nsB, FEED_CLIENT, [`ws://127.0.0.1:${FEED_PORT}`, '-']);
    expect(await none.exited(20_000)).toBe(1);
    expect(none.stdout).toContain('refused 401');
    expect(feedMessages(wrong)).toHaveLength(0);
    await sensor.waitFor(/live feed client refused/);
  });

  it('SIGHUP reloads signatures and capture carries on', async () => {
    const before = hitCount(db, pair!.ipB);
    sensor.child.kill('SIGHUP');
    await sensor.waitFor(/"reloaded":true.*SIGHUP: signatures reloaded/, 10_000);
    expect(sensor.running).toBe(true);
    await runMiner();
    await eventually(() => hitCount(db, pair!.ipB) > before, 10_000, 'hits of a session after the HUP');
  });

  it('the interface going down and coming back is logged and capture resumes', async () => {
    setLink(pair!.nsB, pair!.ifB, 'down');
    await sensor.waitFor(/interface down; capture will be retried/, 10_000);
    setLink(pair!.nsB, pair!.ifB, 'up');
    await sensor.waitFor(/capture resumed/, 15_000);
    expect(sensor.running).toBe(true);
    const before = hitCount(db, pair!.ipB);
    await runMiner();
    await eventually(() => hitCount(db, pair!.ipB) > before, 10_000, 'hits of a session after the interface came back');
    const store = HitStore.open(db, { readonly: true });
    const latest = store.latestCaptureStats(1)[0]!;
    store.close();
    expect(latest.downEvents).toBeGreaterThanOrEqual(1);
    expect(latest.state).toBe('running');
  });

  it('SIGTERM stores everything seen, including sessions still open, and exits 0', async () => {
    // A second sensor that would not write for a minute on its own.
    const termDb = join(dir, 'term.db');
    const assets = join(dir, 'assets.csv');
    writeFileSync(assets, `prefix,owner_id,name,place,tags\n${pair!.ipB}/32,SUB-0042,Example Data Centre,Rack 7,colo\n`);
    const second = start(pair!.nsB, MAIN, ['run', '-i', pair!.ifB, '--db', termDb, '--flush-interval', '60', '--stats-interval', '60', '--assets', assets]);
    await second.waitFor(/live capture started/, 30_000);
    await runMiner(['--hold']); // the connection stays open: its flow has not ended
    expect(minerIps(termDb)).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited(20_000)).toBe(0);
    expect(minerIps(termDb)).toContain(pair!.ipB);
    const store = HitStore.open(termDb, { readonly: true });
    const kinds = new Set(store.evidenceFor(pair!.ipB).map((h) => h.kind));
    const final = store.latestCaptureStats(1)[0]!;
    const sessions = store.sessions.list({}).filter((x) => x.minerIp === pair!.ipB);
    const owner = store.sessions.recordedOwners().get(pair!.ipB);
    store.close();
    // --assets: the miner's owner was recorded when it was found.
    expect(owner?.ownerId).toBe('SUB-0042');
    // The open mining flow was ended at shutdown and its session (shares, difficulty) stored.
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.sharesSubmitted).toBeGreaterThanOrEqual(1);
    expect([...kinds]).toEqual(expect.arrayContaining(['mining.configure', 'mining.subscribe', 'mining.authorize', 'mining.notify', 'mining.submit']));
    expect(final.state).toBe('stopped');

    sensor.child.kill('SIGTERM');
    expect(await sensor.exited(20_000)).toBe(0);
    await feed.exited(10_000); // the feed closes with the sensor
    const status = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'status', '--db', db], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(status.status).toBe(1);
    expect(status.stdout).toContain(`${pair!.ifB}: stopped`);
  });
});
