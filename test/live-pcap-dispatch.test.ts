/**
 * The pcap backend's per-packet path: pcap.js's 'packet' event (a wrapper object and an
 * EventEmitter call per packet) is bypassed for the backend's own sessions by replacing the
 * prototype method pcap.js binds at construction. Checked against the installed pcap.js:
 * a session with a direct handler gets the call, any other session still gets the event.
 * The live tests (live-netns.test.ts) capture real traffic through the direct handler.
 * Skipped when the optional pcap module is not installed.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DIRECT_HANDLER } from '../src/capture/pcap-backend.js';
import { pcapLoads } from './support/netns.js';

describe.skipIf(!pcapLoads())('pcap.js per-packet dispatch', () => {
  const pcap = createRequire(import.meta.url)('pcap') as { PcapSession: { prototype: { on_packet_ready: (this: unknown) => void } } };
  const onPacketReady = pcap.PcapSession.prototype.on_packet_ready;

  it('calls a session’s direct handler, and nothing else', () => {
    const calls: string[] = [];
    const session = Object.assign(new EventEmitter(), { [DIRECT_HANDLER]: () => calls.push('direct') });
    session.on('packet', () => calls.push('event'));
    onPacketReady.call(session);
    onPacketReady.call(session);
    expect(calls).toEqual(['direct', 'direct']);
  });

  it('still emits the packet event for sessions without one', () => {
    const buf = Buffer.from('frame');
    const header = Buffer.alloc(16);
    const session = Object.assign(new EventEmitter(), { buf, header, link_type: 'LINKTYPE_ETHERNET' });
    const seen: { buf: Buffer; header: Buffer; link_type: string }[] = [];
    session.on('packet', (raw: { buf: Buffer; header: Buffer; link_type: string }) => seen.push(raw));
    onPacketReady.call(session);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.buf).toBe(buf);
    expect(seen[0]!.header).toBe(header);
    expect(seen[0]!.link_type).toBe('LINKTYPE_ETHERNET');
  });
});
