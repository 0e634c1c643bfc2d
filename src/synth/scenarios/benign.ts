/**
 * Conversations that look like mining to a careless sensor and must never produce a hit:
 * crypto-currency P2P, node RPC, Electrum, generic JSON-RPC, JSON "login" calls of other
 * applications. Our own illustrations of each protocol's public message shapes.
 */
import type { Turn } from '../tcp-session.js';
import { hex, httpExchange } from './mining.js';

export interface BenignScenario {
  name: string;
  description: string;
  serverPort: number;
  turns: Turn[];
}

const line = (o: unknown): string => `${JSON.stringify(o)}\n`;
const c = (o: unknown): Turn => ({ from: 'client', data: line(o) });
const s = (o: unknown): Turn => ({ from: 'server', data: line(o) });

/** A Bitcoin P2P message: magic f9beb4d9, 12-byte command, length, checksum, payload. */
function bitcoinP2p(command: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32BE(0xf9beb4d9, 0);
  head.write(command, 4, 'latin1');
  head.writeUInt32LE(payload.length, 16);
  head.writeUInt32LE(0x5df6e0e2, 20);
  return Buffer.concat([head, payload]);
}

/** A Monero levin header: signature 0x0101010101012101, then sizes and command. */
function levin(command: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(33);
  head.writeBigUInt64LE(0x0101010101012101n, 0);
  head.writeBigUInt64LE(BigInt(payload.length), 8);
  head.writeUInt8(1, 16);
  head.writeUInt32LE(command, 17);
  head.writeInt32LE(0, 21);
  head.writeUInt32LE(1, 25);
  head.writeUInt32LE(1, 29);
  return Buffer.concat([head, payload]);
}

export const BENIGN_SCENARIOS: readonly BenignScenario[] = [
  {
    name: 'bitcoin-p2p',
    description: 'Bitcoin peer-to-peer version/verack/inv on 8333 (binary, magic f9beb4d9)',
    serverPort: 8333,
    turns: [
      { from: 'client', data: bitcoinP2p('version', Buffer.from(hex(200, 50), 'hex')) },
      { from: 'server', data: bitcoinP2p('version', Buffer.from(hex(200, 51), 'hex')) },
      { from: 'client', data: bitcoinP2p('verack', Buffer.alloc(0)) },
      { from: 'server', data: bitcoinP2p('inv', Buffer.from(hex(74, 52), 'hex')) },
    ],
  },
  {
    name: 'monero-p2p',
    description: 'Monero levin handshake on 18080 (binary)',
    serverPort: 18080,
    turns: [
      { from: 'client', data: levin(1001, Buffer.from(hex(240, 53), 'hex')) },
      { from: 'server', data: levin(1001, Buffer.from(hex(300, 54), 'hex')) },
    ],
  },
  {
    name: 'electrum',
    description: 'Electrum wallet to server: server.version, headers.subscribe, scripthash.subscribe',
    serverPort: 50001,
    turns: [
      c({ jsonrpc: '2.0', method: 'server.version', params: ['electrum/4.5.5', '1.4'], id: 0 }),
      s({ jsonrpc: '2.0', result: ['ElectrumX 1.16.0', '1.4'], id: 0 }),
      c({ jsonrpc: '2.0', method: 'blockchain.headers.subscribe', params: [], id: 1 }),
      s({ jsonrpc: '2.0', result: { hex: hex(160, 55), height: 870000 }, id: 1 }),
      c({ jsonrpc: '2.0', method: 'blockchain.scripthash.subscribe', params: [hex(64, 56)], id: 2 }),
      s({ jsonrpc: '2.0', result: hex(64, 57), id: 2 }),
    ],
  },
  {
    name: 'ethereum-node-rpc',
    description: 'A dapp asking an Ethereum node over HTTP: web3_clientVersion, eth_blockNumber, eth_call',
    serverPort: 8545,
    turns: [
      ...httpExchange(
        ['POST / HTTP/1.1', 'Host: 198.51.100.30:8545', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'web3_clientVersion', params: [] }),
        ['HTTP/1.1 200 OK', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 1, result: 'Geth/v1.14.0-stable/linux-amd64/go1.22.2' }),
      ),
      ...httpExchange(
        ['POST / HTTP/1.1', 'Host: 198.51.100.30:8545', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_blockNumber', params: [] }),
        ['HTTP/1.1 200 OK', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 2, result: '0x13a5c1f' }),
      ),
      ...httpExchange(
        ['POST / HTTP/1.1', 'Host: 198.51.100.30:8545', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'eth_call', params: [{ to: `0x${hex(40, 58)}`, data: `0x70a08231${hex(64, 59)}` }, 'latest'] }),
        ['HTTP/1.1 200 OK', 'Content-Type: application/json'],
        JSON.stringify({ jsonrpc: '2.0', id: 3, result: `0x${hex(64, 60)}` }),
      ),
    ],
  },
  {
    name: 'bitcoin-core-rpc-gbt',
    description: 'A pool server polling its own bitcoind: getblocktemplate over HTTP on 8332 without miner headers',
    serverPort: 8332,
    turns: httpExchange(
      ['POST / HTTP/1.1', 'Host: 127.0.0.1:8332', `Authorization: Basic ${Buffer.from('rpcuser:rpcpass').toString('base64')}`, 'Content-Type: application/json'],
      JSON.stringify({ jsonrpc: '1.0', id: 'pool', method: 'getblocktemplate', params: [{ rules: ['segwit'] }] }),
      ['HTTP/1.1 200 OK', 'Content-Type: application/json'],
      JSON.stringify({ result: { version: 536870912, previousblockhash: hex(64, 61), transactions: [], coinbasevalue: 312500000, bits: '17030ecd', height: 870001 }, error: null, id: 'pool' }),
    ),
  },
  {
    name: 'jsonrpc-echo',
    description: 'Generic JSON-RPC 2.0 over raw TCP (echo) and an application "login" call without miner shape',
    serverPort: 4444,
    turns: [
      c({ jsonrpc: '2.0', method: 'echo', params: ['Testing!'], id: 'ca08159b' }),
      s({ jsonrpc: '2.0', result: ['Testing!'], id: 'ca08159b' }),
      c({ jsonrpc: '2.0', method: 'login', params: { user: 'alice', password: 'hunter2' }, id: 2 }),
      s({ jsonrpc: '2.0', result: { token: hex(32, 62), expires: 3600 }, id: 2 }),
      c({ jsonrpc: '2.0', method: 'submit', params: { form: 'contact', text: 'hello' }, id: 3 }),
      s({ jsonrpc: '2.0', result: { status: 'OK' }, id: 3 }),
      c({ jsonrpc: '2.0', method: 'job', params: { name: 'nightly-build', queue: 'ci' }, id: 4 }),
    ],
  },
  {
    name: 'json-documents',
    description: 'JSON over TCP that is not RPC at all (log shipping), on a pool-like port',
    serverPort: 3333,
    turns: Array.from({ length: 20 }, (_, i) =>
      c({ '@timestamp': `2026-11-01T00:00:${String(i).padStart(2, '0')}Z`, level: 'info', message: `request ${i} served`, result: 'ok' }),
    ),
  },
];
