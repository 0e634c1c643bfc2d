import { describe, expect, it } from 'vitest';
import { symmetricFlowHash } from '../src/flow/flow-table.js';
import { AddressTextCache } from '../src/flow/address-text.js';
import { formatIp } from '../src/decode/address.js';
import { tcpPacket, udpPacket } from './support/flow-packets.js';

describe('symmetricFlowHash', () => {
  const a = { ip: '192.0.2.1', port: 40000 };
  const b = { ip: '203.0.113.9', port: 3333 };

  it('is equal for both directions of an IPv4 flow', () => {
    const forward = symmetricFlowHash(tcpPacket(a, b, 0x02, 1, 0));
    const reverse = symmetricFlowHash(tcpPacket(b, a, 0x12, 7, 2));
    expect(forward).toBe(reverse);
    expect(Number.isInteger(forward) && forward >= 0 && forward < 2 ** 32).toBe(true);
  });

  it('is equal for both directions of an IPv6 flow', () => {
    const c = { ip: '2001:db8::1', port: 50000 };
    const d = { ip: '2001:db8:0:1::beef', port: 443 };
    expect(symmetricFlowHash(udpPacket(c, d))).toBe(symmetricFlowHash(udpPacket(d, c)));
  });

  it('differs when ports, addresses or protocol differ', () => {
    const base = symmetricFlowHash(tcpPacket(a, b, 0, 0, 0));
    const others = [
      symmetricFlowHash(tcpPacket({ ...a, port: 40001 }, b, 0, 0, 0)),
      symmetricFlowHash(tcpPacket(a, { ...b, ip: '203.0.113.10' }, 0, 0, 0)),
      symmetricFlowHash(udpPacket(a, b)),
      // swapping only the ports is a different flow, not the reverse direction
      symmetricFlowHash(tcpPacket({ ...a, port: 3333 }, { ...b, port: 40000 }, 0, 0, 0)),
    ];
    for (const other of others) expect(other).not.toBe(base);
  });

  it('ignores stale upper words of IPv4 addresses', () => {
    const clean = tcpPacket(a, b, 0, 0, 0);
    const stale = tcpPacket(a, b, 0, 0, 0);
    stale.src[1] = 0xdeadbeef;
    stale.dst[3] = 0x12345678;
    expect(symmetricFlowHash(stale)).toBe(symmetricFlowHash(clean));
  });

  it('spreads many tuples over the low bits used for table buckets', () => {
    const buckets = new Set<number>();
    for (let port = 1024; port < 1024 + 4096; port++) {
      buckets.add(symmetricFlowHash(tcpPacket({ ip: '192.0.2.1', port }, b, 0, 0, 0)) & 4095);
    }
    // 4096 keys into 4096 buckets: a uniform hash fills about 63 %.
    expect(buckets.size).toBeGreaterThan(2400);
  });
});

describe('AddressTextCache', () => {
  it('returns the right text for every address, including ones that share a cache entry', () => {
    const cache = new AddressTextCache();
    const words = new Uint32Array(8);
    // 20 000 IPv4 and IPv6 addresses through a 4096-entry cache, twice: entries get replaced
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) {
        words[0] = (0xc6336400 + (i % 256)) >>> 0; // 198.51.100.x
        expect(cache.text(4, words, 0)).toBe(formatIp(4, words));
        words.set([0x20010db8, i, 0, i * 7], 4);
        expect(cache.text(6, words, 4)).toBe(formatIp(6, words.subarray(4, 8)));
      }
    }
  });

  it('keeps IPv4 and IPv6 entries apart', () => {
    const cache = new AddressTextCache();
    const words = new Uint32Array([1, 0, 0, 0]);
    expect(cache.text(4, words, 0)).toBe('0.0.0.1');
    expect(cache.text(6, words, 0)).toBe('0:1::');
    expect(cache.text(4, words, 0)).toBe('0.0.0.1');
  });
});
