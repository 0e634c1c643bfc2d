import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../src/decode/types.js';
import { FlowTable } from '../src/flow/flow-table.js';
import { CLIENT, HEADER_BYTES, POOL, RecordingHandler, TcpConversation, tcpPacket } from './support/flow-packets.js';

const T0 = 1_700_000_000_000_000;

function setup(opts = {}) {
  const handler = new RecordingHandler();
  const table = new FlowTable(handler, opts);
  const conv = new TcpConversation(CLIENT, POOL);
  let ts = T0;
  const feed = (...packets: ReturnType<TcpConversation['syn']>[]) => {
    for (const pkt of packets) table.process(pkt, (ts += 1000));
  };
  return { handler, table, conv, feed };
}

function handshake(conv: TcpConversation) {
  return [conv.syn(), conv.synAck(), conv.ack(0, 0)];
}

describe('TCP in-order delivery', () => {
  it('delivers in-order payload zero-copy from the packet buffer', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    const first = conv.data(0, 0, '{"id":1,"method":"login"}\n');
    const second = conv.data(0, 26, '{"id":2}\n');
    feed(first, second);

    expect(handler.dataCalls).toHaveLength(2);
    const [call1, call2] = handler.dataCalls;
    expect(call1!.buf).toBe(first.buf);
    expect(call1!.offset).toBe(first.payloadOffset);
    expect(call1!.length).toBe(first.payloadLength);
    expect(call2!.buf).toBe(second.buf);
    expect(handler.text(call1!.flow, 0)).toBe('{"id":1,"method":"login"}\n{"id":2}\n');
    expect(call1!.tsMicros).toBe(T0 + 4000);

    const flow = call1!.flow;
    expect(flow.addr).toEqual(['192.0.2.10', '198.51.100.7']);
    expect(flow.port).toEqual([49152, 3333]);
    expect(flow.sawSyn).toBe(true);
    expect(flow.protocol).toBe(6);
    expect(flow.packets).toEqual([4, 1]);
    expect(flow.bytes).toEqual([35, 0]);
    expect(table.stats.bufferedBytes).toBe(0);
    expect(table.size).toBe(1);
  });

  it('keeps the two directions apart', () => {
    const { handler, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'subscribe\n'), conv.data(1, 0, 'job-1\n'), conv.data(0, 10, 'submit\n'), conv.data(1, 6, 'job-2\n'));
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('subscribe\nsubmit\n');
    expect(handler.text(flow, 1)).toBe('job-1\njob-2\n');
    expect(handler.dataCalls.map((c) => c.dir)).toEqual([0, 1, 0, 1]);
  });

  it('picks up a connection mid-stream from the first data segment', () => {
    const { handler, table, conv, feed } = setup();
    // No handshake: the server speaks first in this capture.
    feed(conv.data(1, 5000, 'job-a\n'), conv.data(0, 700, 'share\n'), conv.data(1, 5006, 'job-b\n'));
    const flow = handler.onlyFlow();
    expect(flow.sawSyn).toBe(false);
    expect(flow.addr).toEqual(['198.51.100.7', '192.0.2.10']); // first sender is side 0
    expect(handler.text(flow, 0)).toBe('job-a\njob-b\n');
    expect(handler.text(flow, 1)).toBe('share\n');
    expect(table.stats.gapBytes).toBe(0);
  });

  it('treats the receiver of a SYN-ACK seen first as the initiator', () => {
    const { handler, conv, feed } = setup();
    feed(conv.synAck(), conv.ack(0, 0), conv.data(0, 0, 'hello\n'), conv.data(1, 0, 'hi\n'));
    const flow = handler.onlyFlow();
    expect(flow.addr).toEqual(['192.0.2.10', '198.51.100.7']);
    expect(flow.sawSyn).toBe(false);
    expect(handler.text(flow, 0)).toBe('hello\n');
    expect(handler.text(flow, 1)).toBe('hi\n');
    // the SYN arriving late (capture reordering) still marks the handshake as seen
    feed(conv.syn());
    expect(flow.sawSyn).toBe(true);
  });

  it('delivers data carried on the SYN (TCP Fast Open) and ignores its retransmission', () => {
    const { handler, table, conv, feed } = setup();
    feed(conv.syn('GET / HTTP/1.1\r\n'), conv.syn('GET / HTTP/1.1\r\n'), conv.synAck(), conv.data(0, 16, 'Host: x\r\n'));
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('GET / HTTP/1.1\r\nHost: x\r\n');
    expect(table.stats.retransmittedBytes).toBe(16);
  });

  it('handles SYN retransmissions and pure ACKs without data', () => {
    const { handler, table, conv, feed } = setup();
    feed(conv.syn(), conv.syn(), conv.synAck(), conv.synAck(), conv.ack(0, 0), conv.ack(0, 0));
    expect(handler.dataCalls).toHaveLength(0);
    expect(table.size).toBe(1);
    feed(conv.data(0, 0, 'x'));
    expect(handler.text(handler.onlyFlow(), 0)).toBe('x');
    expect(handler.onlyFlow().packets).toEqual([5, 2]);
  });
});

describe('TCP over IPv6', () => {
  it('tracks both directions and formats the addresses', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation({ ip: '2001:db8:1::25', port: 51000 }, { ip: '2001:db8:ffff::1', port: 14444 });
    let ts = T0;
    for (const pkt of [...handshake(conv), conv.data(1, 0, 'job'), conv.data(0, 5, 'ubmit'), conv.data(0, 0, 'sub-su')]) {
      table.process(pkt, (ts += 5));
    }
    const flow = handler.onlyFlow();
    expect(flow.ipVersion).toBe(6);
    expect(flow.addr).toEqual(['2001:db8:1::25', '2001:db8:ffff::1']);
    expect(flow.port).toEqual([51000, 14444]);
    expect(handler.text(flow, 0)).toBe('sub-submit');
    expect(handler.text(flow, 1)).toBe('job');
    expect(table.stats.retransmittedBytes).toBe(1);
  });
});

describe('TCP retransmissions and reordering', () => {
  it('drops exact retransmissions and trims partial overlaps', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'abcdef'), conv.data(0, 0, 'abcdef'), conv.data(0, 3, 'defGHI'), conv.data(0, 2, 'cdefGHIjk'));
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('abcdefGHIjk');
    expect(table.stats.retransmittedBytes).toBe(6 + 3 + 7);
    // the trimmed part is still a zero-copy window into the retransmitted packet
    const last = handler.dataCalls.at(-1)!;
    expect(last.length).toBe(2);
    expect(last.offset).toBe(HEADER_BYTES + 7);
  });

  it('reassembles segments that arrive in reverse order', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    const parts = ['alpha-', 'bravo-', 'charlie-', 'delta-', 'echo'];
    const offsets = parts.map((_, i) => parts.slice(0, i).join('').length);
    for (let i = parts.length - 1; i >= 0; i--) {
      feed(conv.data(0, offsets[i]!, parts[i]!));
      if (i > 0) expect(handler.dataCalls).toHaveLength(0);
    }
    expect(handler.text(handler.onlyFlow(), 0)).toBe(parts.join(''));
    expect(table.stats.bufferedBytes).toBe(0);
    expect(table.stats.gapBytes).toBe(0);
  });

  it('reassembles interleaved out-of-order data in both directions', () => {
    const { handler, conv, feed } = setup();
    feed(...handshake(conv));
    feed(
      conv.data(0, 4, 'EFGH'),
      conv.data(1, 3, 'def'),
      conv.data(0, 8, 'IJ'),
      conv.data(1, 0, 'abc'),
      conv.data(0, 0, 'ABCD'),
      conv.data(1, 6, 'g'),
    );
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('ABCDEFGHIJ');
    expect(handler.text(flow, 1)).toBe('abcdefg');
  });

  it('resolves overlaps between buffered segments', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 10, 'KLMNO'), conv.data(0, 6, 'GHIJKLMNOPQ'), conv.data(0, 12, 'MN'), conv.data(0, 3, 'DEFGH'));
    expect(table.stats.bufferedBytes).toBe(14); // D..Q held once
    feed(conv.data(0, 0, 'ABC'));
    expect(handler.text(handler.onlyFlow(), 0)).toBe('ABCDEFGHIJKLMNOPQ');
    expect(table.stats.bufferedBytes).toBe(0);
    expect(table.stats.retransmittedBytes).toBe(5 + 2 + 2);
  });

  it('follows sequence numbers across the 2^32 wraparound', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    const conv = new TcpConversation(CLIENT, POOL, [0xfffffff0, 0xffffffff]);
    let ts = T0;
    const feed = (pkt: ReturnType<TcpConversation['syn']>) => table.process(pkt, (ts += 10));
    for (const pkt of handshake(conv)) feed(pkt);
    // client stream wraps at offset 15; server stream wraps right at its first byte
    feed(conv.data(0, 20, 'UVWXYZ'));
    feed(conv.data(0, 10, 'KLMNOPQRST'));
    feed(conv.data(0, 0, 'ABCDEFGHIJ'));
    feed(conv.data(0, 10, 'KLM')); // retransmission across the wrap
    feed(conv.data(1, 0, 'server'));
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect(handler.text(flow, 1)).toBe('server');
    expect(conv.seqAt(0, 20)).toBeLessThan(conv.seqAt(0, 0)); // the test really wrapped
    expect(table.stats.retransmittedBytes).toBe(3);
    expect(table.stats.gapBytes).toBe(0);
  });
});

describe('TCP gaps', () => {
  it('skips a hole the peer acknowledged (lost by the capture)', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'A'.repeat(100)), conv.data(0, 200, 'C'.repeat(100)));
    expect(table.stats.bufferedBytes).toBe(100);
    feed(conv.ack(1, 300));
    const flow = handler.onlyFlow();
    expect(handler.gaps).toEqual([{ flow, dir: 0, lost: 100 }]);
    expect(handler.text(flow, 0)).toBe('A'.repeat(100) + 'C'.repeat(100));
    expect(table.stats.gapBytes).toBe(100);
    expect(table.stats.bufferedBytes).toBe(0);
    expect(table.stats.bufferOverflowBytes).toBe(0);
  });

  it('skips only the acknowledged front of a hole', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'aaaa'), conv.data(0, 12, 'dddd'));
    feed(conv.ack(1, 8)); // bytes 4..7 reached the peer; 8..11 may still come
    expect(handler.gaps.map((g) => g.lost)).toEqual([4]);
    expect(handler.text(handler.onlyFlow(), 0)).toBe('aaaa');
    feed(conv.data(0, 8, 'cccc'));
    expect(handler.text(handler.onlyFlow(), 0)).toBe('aaaaccccdddd');
    expect(table.stats.gapBytes).toBe(4);
  });

  it('ignores acknowledgements when nothing is buffered', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'abc'), conv.ack(1, 10), conv.data(0, 3, 'def'));
    expect(handler.gaps).toHaveLength(0);
    expect(handler.text(handler.onlyFlow(), 0)).toBe('abcdef');
    expect(table.stats.gapBytes).toBe(0);
  });

  it('skips the hole when the per-direction buffer cap is exceeded', () => {
    const { handler, table, conv, feed } = setup({ maxOutOfOrderBytesPerDirection: 1000 });
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'x'.repeat(10)));
    feed(conv.data(0, 110, 'y'.repeat(600))); // hole 10..109
    expect(table.stats.bufferedBytes).toBe(600);
    feed(conv.data(0, 810, 'z'.repeat(600))); // 1200 bytes would be over the cap
    const flow = handler.onlyFlow();
    // the first hole was given up, the y run delivered, and z now fits in the buffer
    expect(handler.gaps).toEqual([{ flow, dir: 0, lost: 100 }]);
    expect(handler.text(flow, 0)).toBe('x'.repeat(10) + 'y'.repeat(600));
    expect(table.stats.gapBytes).toBe(100);
    expect(table.stats.bufferOverflowBytes).toBe(100);
    expect(table.stats.bufferedBytes).toBe(600);
    feed(conv.data(0, 710, 'w'.repeat(100)));
    expect(handler.text(flow, 0)).toBe('x'.repeat(10) + 'y'.repeat(600) + 'w'.repeat(100) + 'z'.repeat(600));
    expect(table.stats.bufferedBytes).toBe(0);
  });

  it('skips straight to a segment that alone exceeds the per-direction cap', () => {
    const { handler, table, conv, feed } = setup({ maxOutOfOrderBytesPerDirection: 100 });
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'head'), conv.data(0, 54, 'q'.repeat(150)));
    const flow = handler.onlyFlow();
    expect(handler.gaps).toEqual([{ flow, dir: 0, lost: 50 }]);
    expect(handler.text(flow, 0)).toBe('head' + 'q'.repeat(150));
    // the skipped bytes arriving late are old news
    feed(conv.data(0, 4, 'p'.repeat(50)));
    expect(handler.text(flow, 0)).toBe('head' + 'q'.repeat(150));
    expect(table.stats.retransmittedBytes).toBe(50);
  });

  it('keeps buffering after a cap skip when the remainder fits', () => {
    const { handler, table, conv, feed } = setup({ maxOutOfOrderBytesPerDirection: 1000 });
    feed(...handshake(conv));
    feed(conv.data(0, 100, 'b'.repeat(600)), conv.data(0, 800, 'd'.repeat(100)), conv.data(0, 1000, 'f'.repeat(500)));
    // the third segment forced out the first hole (0..99) only; 700..799 is still awaited
    expect(handler.gaps.map((g) => g.lost)).toEqual([100]);
    expect(table.stats.bufferedBytes).toBe(600);
    feed(conv.data(0, 700, 'c'.repeat(100)), conv.data(0, 900, 'e'.repeat(100)));
    expect(handler.text(handler.onlyFlow(), 0)).toBe('b'.repeat(600) + 'c'.repeat(100) + 'd'.repeat(100) + 'e'.repeat(100) + 'f'.repeat(500));
    expect(table.stats.bufferedBytes).toBe(0);
  });

  it('skips the hole when the global buffer cap is exceeded', () => {
    const handler = new RecordingHandler();
    // 400 payload bytes in one segment cost 528 against the cap (per-segment overhead)
    const table = new FlowTable(handler, { maxBufferedBytesTotal: 600 });
    const first = new TcpConversation(CLIENT, POOL);
    const second = new TcpConversation({ ip: '192.0.2.11', port: 50000 }, POOL);
    let ts = T0;
    for (const pkt of [...handshake(first), ...handshake(second)]) table.process(pkt, (ts += 1));
    table.process(first.data(0, 10, 'a'.repeat(400)), (ts += 1));
    expect(table.stats.bufferedBytes).toBe(400);
    // the second flow cannot buffer 200 more bytes: it skips its 10-byte hole at once
    table.process(second.data(0, 10, 'b'.repeat(200)), (ts += 1));
    expect(table.stats.bufferedBytes).toBe(400);
    expect(handler.gaps).toHaveLength(1);
    expect(handler.gaps[0]!.lost).toBe(10);
    expect(handler.text(handler.gaps[0]!.flow, 0)).toBe('b'.repeat(200));
    expect(table.stats.bufferOverflowBytes).toBe(10);
  });

  it('charges per-segment overhead so that tiny segments cannot pile up', () => {
    const { handler, table, conv, feed } = setup({ maxOutOfOrderBytesPerDirection: 64 * 1024 });
    feed(...handshake(conv));
    // 3000 one-byte segments, each after a one-byte hole
    for (let i = 0; i < 3000; i++) feed(conv.data(0, 2 * i + 1, 'x'));
    // 64 KiB at 1 + 128 bytes per segment holds about 500 of them at a time
    expect(table.stats.bufferedBytes).toBeLessThanOrEqual(Math.floor((64 * 1024) / 129));
    expect(table.stats.bufferedBytes).toBeGreaterThan(400);
    expect(table.stats.bufferOverflowBytes).toBeGreaterThan(0);
    const delivered = handler.text(handler.onlyFlow(), 0).length;
    expect(delivered + table.stats.bufferedBytes).toBe(3000);
    expect(table.stats.gapBytes).toBe(delivered); // one lost byte in front of each delivered one
  });

  it('treats a segment absurdly far from the expected sequence as a restart', () => {
    const { handler, table, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'old-'), conv.data(0, 100, 'buffered'));
    feed(conv.data(0, 0x60000000, 'new-'), conv.data(0, 0x60000004, 'stream'));
    const flow = handler.onlyFlow();
    expect(handler.text(flow, 0)).toBe('old-new-stream');
    expect(handler.gaps).toEqual([{ flow, dir: 0, lost: 0 }]);
    expect(table.stats.bufferedBytes).toBe(0);
    expect(table.stats.gapBytes).toBe(0);
  });

  it('counts payload bytes of every packet, delivered or not', () => {
    const { handler, conv, feed } = setup();
    feed(...handshake(conv));
    feed(conv.data(0, 0, 'abcd'), conv.data(0, 0, 'abcd'), conv.data(0, 10, 'zz'));
    const flow = handler.onlyFlow();
    expect(flow.bytes).toEqual([10, 0]);
    expect(flow.packets).toEqual([5, 1]);
  });
});

describe('TCP packets without handshake context', () => {
  it('ignores a stray RST for an unknown connection', () => {
    const { table, conv, feed } = setup();
    feed(conv.rst(1, 0));
    expect(table.stats.created).toBe(0);
  });

  it('accepts a bare SYN with flags beyond SYN (ECN) as the opening', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler);
    table.process(tcpPacket(CLIENT, POOL, TCP_SYN | 0xc0, 99, 0), T0);
    table.process(tcpPacket(CLIENT, POOL, TCP_ACK | TCP_PSH, 100, 1, 'hi'), T0 + 1);
    expect(handler.onlyFlow().sawSyn).toBe(true);
    expect(handler.text(handler.onlyFlow(), 0)).toBe('hi');
    expect(table.stats.gapBytes).toBe(0);
  });
});
