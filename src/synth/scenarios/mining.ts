/**
 * Scripted mining conversations, one per dialect, written from the message shapes in the
 * protocol reference (our own illustrations, not recorded traffic). Each scenario says
 * what a correct sensor must report, so tests, the bundled captures and the benchmark's
 * planted sessions share one source of truth.
 */
import type { Turn } from '../tcp-session.js';

export interface Expectation {
  dialect: string;
  /** Evidence kinds that must appear. */
  kinds: string[];
  agent?: string;
  worker?: string;
  login?: string;
  wallet?: string;
  algo?: string;
  poolHost?: string;
}

export interface Scenario {
  name: string;
  description: string;
  serverPort: number;
  turns: Turn[];
  expect: Expectation;
}

/** Deterministic lowercase hex of `n` digits (content is irrelevant, length matters). */
export function hex(n: number, seed = 1): string {
  let x = seed >>> 0 || 1;
  let s = '';
  while (s.length < n) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    s += x.toString(16).padStart(8, '0');
  }
  return s.slice(0, n);
}

const line = (o: unknown): string => `${JSON.stringify(o)}\n`;
const c = (o: unknown, gapMicros?: number): Turn => ({ from: 'client', data: line(o), gapMicros });
const s = (o: unknown, gapMicros?: number): Turn => ({ from: 'server', data: line(o), gapMicros });
/** Raw text, for the spacing styles real clients use (cgminer puts a space after each colon). */
const cRaw = (text: string): Turn => ({ from: 'client', data: text });

export const MONERO_WALLET = `44AFFq5kSiGBoZ${'4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A'.slice(0, 81)}`;
export const ETH_WALLET = '0xe6267ca7df03d731804fe7e9b512bedd130321c6';
export const BTC_WALLET = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
export const ZEC_WALLET = 't1fAhZ7yFzF5HxUBL4ZzYpxvzbcuBUjhD2f';
export const KASPA_WALLET = 'kaspa:qypr8qnzsq4qvpvgp6v9evfrdrkx3x7dvaj3mf6x7fn8dm3sk45gwhqmaqxg2ru';
export const RVN_WALLET = 'RKUBjTcwBb6ZRjxxfDDBsdtW9BCLNTgGsT';

const notifyV1 = (job: string): unknown => ({
  id: null,
  method: 'mining.notify',
  params: [job, hex(64, 2), `01000000${hex(110, 3)}`, `ffffffff${hex(90, 4)}`, [hex(64, 5), hex(64, 6)], '20000000', '17030ecd', '66f2a1b0', true],
});

export const MINING_SCENARIOS: readonly Scenario[] = [
  {
    name: 'stratum-v1-btc',
    description: 'Bitcoin Stratum V1 with BIP 310 configure, subscribe, authorize, notify, submit (cgminer spacing)',
    serverPort: 3333,
    turns: [
      c({ id: 1, method: 'mining.configure', params: [['version-rolling'], { 'version-rolling.mask': '1fffe000', 'version-rolling.min-bit-count': 16 }] }),
      s({ id: 1, result: { 'version-rolling': true, 'version-rolling.mask': '1fffe000' }, error: null }),
      cRaw('{"id": 2, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}\n'),
      s({ id: 2, result: [[['mining.set_difficulty', '5dd942d8'], ['mining.notify', '5dd942d8']], 'f3b0d3c5', 8], error: null }),
      cRaw('{"id": 3, "method": "mining.authorize", "params": ["acct7.rack4-s19xp-07", "x"]}\n'),
      s({ id: 3, result: true, error: null }),
      s({ id: null, method: 'mining.set_difficulty', params: [65536] }),
      s(notifyV1('1a7f')),
      cRaw('{"params": ["acct7.rack4-s19xp-07", "1a7f", "0000000000001a2b", "66f2a1b0", "444080bd", "04a0e000"], "id": 4, "method": "mining.submit"}\n'),
      s({ id: 4, result: true, error: null }),
    ],
    expect: {
      dialect: 'stratum',
      kinds: ['mining.configure', 'mining.subscribe', 'mining.authorize', 'mining.notify', 'mining.submit'],
      agent: 'cgminer/4.11.1',
      worker: 'rack4-s19xp-07',
      login: 'acct7.rack4-s19xp-07',
      algo: 'sha256d',
    },
  },
  {
    name: 'stratum-equihash',
    description: 'Zcash/Equihash Stratum (ZIP 301): subscribe with host and port, set_target, 8-param notify, 2.7 kB submit',
    serverPort: 3357,
    turns: [
      c({ id: 1, method: 'mining.subscribe', params: ['EWBF/0.3.4b', null, 'zec-eu1.pool.example', '3357'] }),
      s({ id: 1, result: ['c3f0a1', 'f3b0d3c5'], error: null }),
      c({ id: 2, method: 'mining.authorize', params: [`${ZEC_WALLET}.rig4`, 'x'] }),
      s({ id: 2, result: true, error: null }),
      s({ id: null, method: 'mining.set_target', params: [`0007ffff${hex(56, 7)}`] }),
      s({ id: null, method: 'mining.notify', params: ['4b2e', '04000000', hex(64, 8), hex(64, 9), hex(64, 10), '5a4d3c2b', '1d0fffff', true] }),
      c({ id: 3, method: 'mining.submit', params: [`${ZEC_WALLET}.rig4`, '4b2e', '5a4d3c2b', hex(56, 11), `fd4005${hex(2688, 12)}`] }),
      s({ id: 3, result: true, error: null }),
    ],
    expect: {
      dialect: 'stratum',
      kinds: ['mining.subscribe', 'mining.authorize', 'mining.set_target', 'mining.notify', 'mining.submit'],
      agent: 'EWBF/0.3.4b',
      wallet: ZEC_WALLET,
      worker: 'rig4',
      algo: 'equihash',
      poolHost: 'zec-eu1.pool.example',
    },
  },
  {
    name: 'stratum-kawpow',
    description: 'KawPow (Ravencoin): set_target, 7-param notify, 0x-prefixed submit',
    serverPort: 3636,
    turns: [
      c({ id: 1, method: 'mining.subscribe', params: ['kawpowminer/1.2.4'] }),
      s({ id: 1, result: [null, '0a1b'], error: null }),
      c({ id: 2, method: 'mining.authorize', params: [`${RVN_WALLET}.gpu1`, 'x'] }),
      s({ id: 2, result: true, error: null }),
      s({ id: null, method: 'mining.set_target', params: [`00000000ff${hex(54, 13)}`] }),
      s({ id: null, method: 'mining.notify', params: ['12ab', hex(64, 14), hex(64, 15), `00000000ff${hex(54, 16)}`, true, 3311250, '1b00f968'] }),
      c({ id: 5, method: 'mining.submit', params: [`${RVN_WALLET}.gpu1`, '12ab', `0x${hex(16, 17)}`, `0x${hex(64, 18)}`, `0x${hex(64, 19)}`] }),
      s({ id: 5, result: true, error: null }),
    ],
    expect: {
      dialect: 'stratum',
      kinds: ['mining.subscribe', 'mining.authorize', 'mining.set_target', 'mining.notify', 'mining.submit'],
      agent: 'kawpowminer/1.2.4',
      wallet: RVN_WALLET,
      worker: 'gpu1',
      algo: 'kawpow',
    },
  },
  {
    name: 'stratum-kaspa',
    description: 'Kaspa bridge: subscribe answered [true, ES1 marker], set_extranonce without prefix, u64-array notify',
    serverPort: 5555,
    turns: [
      c({ id: 1, method: 'mining.subscribe', params: ['BzMiner/v17.0.0'] }),
      s({ id: 1, result: [true, 'EthereumStratum/1.0.0'], error: null }),
      s({ method: 'set_extranonce', params: ['9c6a', 6] }),
      c({ id: 2, method: 'mining.authorize', params: [`${KASPA_WALLET}.farm2`, 'x'] }),
      s({ id: 2, result: true, error: null }),
      s({ id: null, method: 'mining.set_difficulty', params: [4096] }),
      s({ id: 7, method: 'mining.notify', params: ['7', [1234567890123, 2345678901234, 3456789012345, 4567890123456], 1700000000000] }),
      c({ id: 3, method: 'mining.submit', params: [`${KASPA_WALLET}.farm2`, '7', `0x${hex(16, 20)}`] }),
      s({ id: 3, result: true, error: null }),
    ],
    expect: {
      dialect: 'ethstratum1',
      kinds: ['mining.subscribe', 'mining.subscribe.result', 'mining.authorize', 'mining.notify', 'mining.submit'],
      agent: 'BzMiner/v17.0.0',
      wallet: KASPA_WALLET,
      worker: 'farm2',
      algo: 'kheavyhash',
    },
  },
  {
    name: 'ethstratum1',
    description: 'EthereumStratum/1.0.0 (NiceHash): marker in subscribe, 4-param notify, 3-param submit',
    serverPort: 3353,
    turns: [
      c({ id: 1, method: 'mining.subscribe', params: ['lolMiner/1.88', 'EthereumStratum/1.0.0'] }),
      s({ id: 1, result: [['mining.notify', 'e799836b25e38747', 'EthereumStratum/1.0.0'], 'a7c1'], error: null }),
      c({ id: 2, method: 'mining.extranonce.subscribe', params: [] }),
      c({ id: 3, method: 'mining.authorize', params: [`${ETH_WALLET}.rig1`, 'x'] }),
      s({ id: 3, result: true, error: null }),
      s({ id: null, method: 'mining.set_difficulty', params: [4.0] }),
      s({ id: null, method: 'mining.notify', params: ['3e9f01', hex(64, 21), hex(64, 22), true] }),
      c({ id: 4, method: 'mining.submit', params: [`${ETH_WALLET}.rig1`, '3e9f01', '5dd942d8fffd'] }),
      s({ id: 4, result: true, error: null }),
    ],
    expect: {
      dialect: 'ethstratum1',
      kinds: ['mining.subscribe', 'mining.subscribe.result', 'mining.extranonce.subscribe', 'mining.authorize', 'mining.notify', 'mining.submit'],
      agent: 'lolMiner/1.88',
      wallet: ETH_WALLET,
      worker: 'rig1',
      algo: 'ethash',
    },
  },
  {
    name: 'ethstratum2',
    description: 'EthereumStratum/2.0.0 (EIP-1571): hello, subscribe, authorize, mining.set, notify, submit, hashrate',
    serverPort: 4444,
    turns: [
      c({ id: 0, method: 'mining.hello', params: { agent: 'ethminer-0.19.0', host: 'eu1.etc-pool.example', port: '115c', proto: 'EthereumStratum/2.0.0' } }),
      s({ id: 0, result: { proto: 'EthereumStratum/2.0.0', encoding: 'plain', resume: '1', timeout: 'b4', maxerrors: '5', node: 'n1' } }),
      c({ id: 1, method: 'mining.subscribe' }),
      s({ id: 1, result: 's-5614619b' }),
      c({ id: 3, method: 'mining.authorize', params: [`${ETH_WALLET}.w12`, 'x'] }),
      s({ id: 3, result: 'w-12' }),
      s({ method: 'mining.set', params: { epoch: '1a4', target: `0000000${hex(57, 23)}`, algo: 'etchash', extranonce: 'af4c' } }),
      s({ method: 'mining.notify', params: ['bf0488aa', 'fd2a1c', hex(64, 24), '1'] }),
      c({ id: 40, method: 'mining.submit', params: ['bf0488aa', 'd942d8fffda1', 'w-12'] }),
      s({ id: 40 }),
      c({ id: 9, method: 'mining.hashrate', params: ['3938700', 'w-12'] }),
    ],
    expect: {
      dialect: 'ethstratum2',
      kinds: ['mining.hello', 'mining.subscribe', 'mining.authorize', 'mining.set', 'mining.notify', 'mining.submit', 'mining.hashrate'],
      agent: 'ethminer-0.19.0',
      wallet: ETH_WALLET,
      worker: 'w12',
      algo: 'etchash',
      poolHost: 'eu1.etc-pool.example',
    },
  },
  {
    name: 'ethproxy',
    description: 'EthProxy (ethminer stratum1): eth_submitLogin, eth_getWork, id-0 work pushes, eth_submitWork, eth_submitHashrate',
    serverPort: 8008,
    turns: [
      c({ id: 1, jsonrpc: '2.0', method: 'eth_submitLogin', params: [`${ETH_WALLET}.rig1`, 'x'], worker: 'rig1' }),
      s({ id: 1, jsonrpc: '2.0', result: true }),
      c({ id: 5, jsonrpc: '2.0', method: 'eth_getWork', params: [] }),
      s({ id: 5, jsonrpc: '2.0', result: [`0x${hex(64, 25)}`, `0x${hex(64, 26)}`, `0x0000000225c17d04dad2${hex(44, 27)}`] }),
      s({ id: 0, jsonrpc: '2.0', result: [`0x${hex(64, 28)}`, `0x${hex(64, 26)}`, `0x0000000225c17d04dad2${hex(44, 27)}`, '0xfd2a1c'] }),
      c({ id: 40, jsonrpc: '2.0', method: 'eth_submitWork', params: [`0x${hex(16, 29)}`, `0x${hex(64, 28)}`, `0x${hex(64, 30)}`], worker: 'rig1' }),
      s({ id: 40, jsonrpc: '2.0', result: true }),
      c({ id: 9, jsonrpc: '2.0', method: 'eth_submitHashrate', params: [`0x${'0'.repeat(56)}03938700`, `0x${hex(64, 31)}`], worker: 'rig1' }),
    ],
    expect: {
      dialect: 'ethproxy',
      kinds: ['eth_submitLogin', 'eth_getWork', 'eth_getWork.result', 'work.push', 'eth_submitWork', 'eth_submitHashrate'],
      wallet: ETH_WALLET,
      worker: 'rig1',
      algo: 'ethash',
    },
  },
  {
    name: 'cryptonote-xmrig',
    description: 'XMRig-era CryptoNote: login with algo list and rigid, job in the login result, job push, submit, keepalived',
    serverPort: 5555,
    turns: [
      c({
        id: 1,
        jsonrpc: '2.0',
        method: 'login',
        params: { login: MONERO_WALLET, pass: 'x', agent: 'XMRig/6.26.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.1', rigid: 'rig07', algo: ['rx/0', 'cn/r', 'cn/2', 'rx/wow', 'kawpow'] },
      }),
      s({
        id: 1,
        jsonrpc: '2.0',
        error: null,
        result: { id: 'e799836b25e38747', job: { blob: hex(152, 32), job_id: '5614619b', target: 'b88d0600', algo: 'rx/0', height: 3311250, seed_hash: hex(64, 33) }, extensions: ['algo', 'nicehash', 'connect', 'tls', 'keepalive'], status: 'OK' },
      }),
      s({ jsonrpc: '2.0', method: 'job', params: { blob: hex(152, 34), job_id: 'a0518c3d', target: 'b88d0600', algo: 'rx/0', height: 3311251, seed_hash: hex(64, 33) } }),
      c({ id: 2, jsonrpc: '2.0', method: 'submit', params: { id: 'e799836b25e38747', job_id: 'a0518c3d', nonce: '5a894b02', result: hex(64, 35), algo: 'rx/0' } }),
      s({ id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } }),
      c({ id: 3, jsonrpc: '2.0', method: 'keepalived', params: { id: 'e799836b25e38747' } }),
      s({ id: 3, jsonrpc: '2.0', error: null, result: { status: 'KEEPALIVED' } }),
    ],
    expect: {
      dialect: 'cryptonote',
      kinds: ['login', 'login.result', 'job', 'submit', 'keepalived'],
      agent: 'XMRig/6.26.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.1',
      wallet: MONERO_WALLET,
      worker: 'rig07',
      algo: 'rx/0',
    },
  },
  {
    name: 'grin',
    description: 'Grin node stratum: string ids, job with pre_pow, submit with a 42-integer pow',
    serverPort: 3416,
    turns: [
      c({ id: '0', jsonrpc: '2.0', method: 'login', params: { login: 'grinfarm.w3', pass: 'x', agent: 'grin-miner' } }),
      s({ id: '0', jsonrpc: '2.0', method: 'login', result: 'ok', error: null }),
      s({ id: 'Stratum', jsonrpc: '2.0', method: 'job', params: { difficulty: 4, height: 1200345, job_id: 5, pre_pow: hex(448, 36) } }),
      c({ id: '1', jsonrpc: '2.0', method: 'submit', params: { edge_bits: 32, height: 1200345, job_id: 5, nonce: 8493028374, pow: Array.from({ length: 42 }, (_, i) => 1000 + i * 7919) } }),
      s({ id: '1', jsonrpc: '2.0', method: 'submit', result: 'ok', error: null }),
    ],
    expect: { dialect: 'grin', kinds: ['login', 'job', 'submit'], agent: 'grin-miner', worker: 'w3', login: 'grinfarm.w3' },
  },
  {
    name: 'beam',
    description: 'Beam stratum: flat objects, login with api_key, job with input, solution',
    serverPort: 3030,
    turns: [
      c({ method: 'login', api_key: 'beamfarm.w9', id: 'login', jsonrpc: '2.0' }),
      s({ method: 'result', id: 'login', code: 0, description: 'Login successful', jsonrpc: '2.0' }),
      s({ method: 'job', id: '212', input: hex(64, 37), difficulty: 137438953472, height: 1020304, jsonrpc: '2.0' }),
      c({ method: 'solution', id: '212', nonce: hex(16, 38), output: hex(208, 39), jsonrpc: '2.0' }),
      s({ method: 'result', id: '212', code: 1, description: 'accepted', jsonrpc: '2.0' }),
    ],
    expect: { dialect: 'beam', kinds: ['login', 'job', 'solution'], login: 'beamfarm.w9', worker: 'w9', algo: 'beamhash' },
  },
  {
    name: 'http-getwork',
    description: 'getwork over HTTP with X-Mining-Extensions and Basic auth; the pool answers with X-Long-Polling and X-Roll-Ntime',
    serverPort: 8332,
    turns: httpExchange(
      ['POST / HTTP/1.1', 'Host: pool.example:8332', `Authorization: Basic ${Buffer.from('worker17:pw').toString('base64')}`, 'User-Agent: cgminer 4.11.1', 'Content-Type: application/json', 'X-Mining-Extensions: longpoll midstate rollntime submitold'],
      '{"method": "getwork", "params": [], "id": 0}',
      ['HTTP/1.1 200 OK', 'Content-Type: application/json', 'X-Long-Polling: /LP', 'X-Roll-Ntime: Y'],
      JSON.stringify({ result: { data: hex(256, 40), target: `${'f'.repeat(56)}00000000`, midstate: hex(64, 41), hash1: hex(128, 42) }, error: null, id: 0 }),
    ),
    expect: {
      dialect: 'getwork',
      kinds: ['http.x-mining-extensions', 'getwork', 'http.x-long-polling', 'getwork.result'],
      agent: 'cgminer 4.11.1',
      worker: 'worker17',
      poolHost: 'pool.example',
    },
  },
  {
    name: 'http-getblocktemplate',
    description: 'getblocktemplate over HTTP from a miner (X-Mining-Extensions), header and body in separate segments',
    serverPort: 3333,
    turns: httpExchange(
      ['POST / HTTP/1.1', 'Host: solo.pool.example:3333', `Authorization: Basic ${Buffer.from('farm3.r2:123').toString('base64')}`, 'Content-type: application/json', 'X-Mining-Extensions: longpoll midstate rollntime submitold', 'User-Agent: bfgminer/5.2.0'],
      JSON.stringify({ id: 0, method: 'getblocktemplate', params: [{ capabilities: ['coinbasetxn', 'workid', 'longpoll'], maxversion: 4 }] }),
      ['HTTP/1.1 200 OK', 'Content-Type: application/json', 'X-Stratum: stratum+tcp://solo.pool.example:3334'],
      JSON.stringify({ id: 0, result: null, error: null }),
      true,
    ),
    expect: {
      dialect: 'getblocktemplate',
      kinds: ['http.x-mining-extensions', 'getblocktemplate', 'http.x-stratum'],
      agent: 'bfgminer/5.2.0',
      worker: 'farm3.r2',
      poolHost: 'solo.pool.example',
    },
  },
  {
    name: 'http-eth-getwork',
    description: 'geth-style getwork mining over HTTP: eth_getWork answered by a work package, then eth_submitWork',
    serverPort: 8545,
    turns: [
      ...httpExchange(
        ['POST / HTTP/1.0', 'Host: 198.51.100.20:8545', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getWork', params: [] }),
        ['HTTP/1.0 200 OK', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 1, result: [`0x${hex(64, 43)}`, `0x${hex(64, 44)}`, `0x00000000${hex(56, 45)}`] }),
      ),
      ...httpExchange(
        ['POST / HTTP/1.0', 'Host: 198.51.100.20:8545', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_submitWork', params: [`0x${hex(16, 46)}`, `0x${hex(64, 43)}`, `0x${hex(64, 47)}`] }),
        ['HTTP/1.0 200 OK', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 2, result: true }),
      ),
    ],
    expect: { dialect: 'getwork', kinds: ['eth_getWork', 'eth_getWork.result', 'eth_submitWork'], algo: 'ethash' },
  },
];

/** One HTTP request/response pair as turns; `splitBody` sends the body as its own segment. */
export function httpExchange(reqHead: string[], reqBody: string, resHead: string[], resBody: string, splitBody = false): Turn[] {
  const head = (lines: string[], body: string): string => `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const req = head(reqHead, reqBody);
  const res = head(resHead, resBody);
  const turns: Turn[] = splitBody
    ? [
        { from: 'client', data: req },
        { from: 'client', data: reqBody, gapMicros: 200 },
      ]
    : [{ from: 'client', data: req + reqBody }];
  turns.push({ from: 'server', data: res + resBody });
  return turns;
}

export function scenarioByName(name: string): Scenario {
  const found = MINING_SCENARIOS.find((sc) => sc.name === name);
  if (!found) throw new Error(`no mining scenario named ${name}`);
  return found;
}
