/**
 * Miners behind an HTTP proxy: `CONNECT pool:port`, the proxy's 2xx, then the mining
 * protocol inside the tunnel. The miner is the client, the flow's far end is the proxy, and
 * the pool is named by the CONNECT target.
 */
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../src/synth/scenarios/mining.js';
import type { Turn } from '../src/synth/tcp-session.js';
import { captureOf, conversation, MINER, POOL_IP, replayBytes } from './support/pipeline.js';

const PROXY_PORT = 3128;

function throughProxy(target: string, inner: Turn[], sameSegment = false): Turn[] {
  const connect = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nUser-Agent: XMRig/6.26.0\r\n\r\n`;
  const established = 'HTTP/1.1 200 Connection established\r\n\r\n';
  const [first, ...rest] = inner;
  if (sameSegment && first && first.from === 'client') {
    // The miner does not wait for the proxy's answer: its first line rides with the CONNECT.
    return [{ from: 'client', data: connect + String(first.data) }, { from: 'server', data: established }, ...rest];
  }
  return [{ from: 'client', data: connect }, { from: 'server', data: established }, ...inner];
}

describe('HTTP CONNECT proxies', () => {
  for (const sameSegment of [false, true]) {
    it(`CryptoNote through a proxy${sameSegment ? ', first line in the CONNECT segment' : ''}`, async () => {
      const sc = scenarioByName('cryptonote-xmrig');
      const turns = throughProxy('pool.supportxmr.example:5555', sc.turns, sameSegment);
      const r = await replayBytes(captureOf([conversation({ turns, serverPort: PROXY_PORT })]));
      expect(r.ips.filter((s) => s.role === 'miner').map((s) => s.ip)).toEqual([MINER.ip]);
      const kinds = new Set(r.hits.map((h) => h.kind));
      for (const k of ['login', 'login.result', 'submit']) expect(kinds).toContain(k);
      for (const h of r.hits) {
        expect([h.poolIp, h.poolPort, h.poolHost]).toEqual([POOL_IP, PROXY_PORT, 'pool.supportxmr.example']);
        expect(h.detail).toContain('via HTTP proxy CONNECT pool.supportxmr.example:5555');
      }
    });
  }

  it('an ordinary HTTPS CONNECT (TLS to an unlisted host) is no hit', async () => {
    const hello = Buffer.from('16030100310100002d0303' + '00'.repeat(32) + '000002002f0100', 'hex');
    const turns: Turn[] = [
      { from: 'client', data: 'CONNECT www.example.org:443 HTTP/1.1\r\nHost: www.example.org:443\r\n\r\n' },
      { from: 'server', data: 'HTTP/1.1 200 Connection established\r\n\r\n' },
      { from: 'client', data: hello },
      { from: 'server', data: Buffer.from('160303002a020000260303' + '11'.repeat(32) + '00002f00', 'hex') },
    ];
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: PROXY_PORT })]));
    expect(r.ips).toEqual([]);
  });

  it('a refused CONNECT leaves the answer unread', async () => {
    const sc = scenarioByName('stratum-v1-btc');
    const turns: Turn[] = [
      { from: 'client', data: 'CONNECT pool.example:3333 HTTP/1.1\r\n\r\n' },
      { from: 'server', data: 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n' },
      ...sc.turns.filter((t) => t.from === 'server'),
    ];
    const r = await replayBytes(captureOf([conversation({ turns, serverPort: PROXY_PORT })]));
    expect(r.ips).toEqual([]);
  });
});
