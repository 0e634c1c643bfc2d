/**
 * The flow table's clock is capture time: one corrupt far-future timestamp may end what was
 * open, but must not stop idle sweeps for the rest of the capture.
 */
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../src/flow/flow-table.js';
import { RecordingHandler, udpPacket } from './support/flow-packets.js';

const T0 = 1_700_000_000_000_000;
const SECOND = 1_000_000;
const YEAR = 365 * 24 * 3600 * SECOND;

describe('capture clock', () => {
  it('idle sweeps resume after a corrupt far-future timestamp', () => {
    const handler = new RecordingHandler();
    const table = new FlowTable(handler, { udpIdleMicros: 60 * SECOND });
    table.process(udpPacket({ ip: '192.0.2.1', port: 1000 }, { ip: '198.51.100.1', port: 53 }, 'a'), T0);
    table.process(udpPacket({ ip: '192.0.2.2', port: 1000 }, { ip: '198.51.100.1', port: 53 }, 'b'), T0 + 20 * YEAR); // corrupt
    // Back to normal time: a flow goes quiet and must still expire by idle timeout.
    table.process(udpPacket({ ip: '192.0.2.3', port: 1000 }, { ip: '198.51.100.1', port: 53 }, 'c'), T0 + SECOND);
    const idleBefore = table.stats.idleExpired;
    for (let i = 2; i < 200; i++) {
      table.process(udpPacket({ ip: '192.0.2.4', port: 1000 }, { ip: '198.51.100.1', port: 53 }, 'd'), T0 + i * SECOND);
    }
    const ended = handler.ends.map((e) => e.flow.addr[0]);
    expect(ended).toContain('192.0.2.3');
    expect(table.stats.idleExpired).toBeGreaterThan(idleBefore);
  });
});
