/**
 * A flood of flows that each start a line and never finish it: every flow's carry is capped
 * (8 KiB before confirmation), and all of them together are held to the engine's budget
 * (maxCarryBytesTotal), so memory stays bounded whatever the flow table's size. Partial
 * lines beyond the budget are dropped and counted; mining is still found; when the flows
 * end, the carries give everything back.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/reader.js';
import type { Evidence } from '../src/detect/types.js';
import { Sensor } from '../src/sensor.js';
import { payloadOnlySignatures } from '../src/signatures/signature-set.js';
import { scenarioByName } from '../src/synth/scenarios/mining.js';
import { OP_CLOSE, OP_TEXT, WsScript } from '../src/synth/scenarios/websocket.js';
import type { TimedPacket } from '../src/synth/tcp-session.js';
import { captureOf, conversation, MINER } from './support/pipeline.js';

const T0 = 1_780_000_000_000_000;
const FLOWS = 300;
const LINE = `{"id":1,"method":"${'a'.repeat(7000)}`; // no newline, ever

function floodCapture(): Buffer {
  const parts: TimedPacket[][] = [];
  for (let n = 0; n < FLOWS; n++) {
    parts.push(
      conversation({
        turns: [{ from: 'client', data: Buffer.from(LINE) }],
        serverPort: 3333,
        serverIp: '203.0.113.77',
        client: { ip: `198.51.100.${(n % 250) + 1}`, port: 20_000 + n },
        startMicros: T0 + n * 1000,
        session: { close: 'none' }, // the flows stay open until the end of the input
      }),
    );
  }
  const mining = scenarioByName('stratum-v1-btc');
  parts.push(conversation({ turns: mining.turns, serverPort: mining.serverPort, startMicros: T0 + FLOWS * 1000 + 5000 }));
  return captureOf(parts);
}

async function run(maxCarryBytesTotal?: number): Promise<{ sensor: Sensor; evidence: Evidence[]; maxHeld: number }> {
  const evidence: Evidence[] = [];
  const sensor = new Sensor((e) => evidence.push(e), {
    signatures: payloadOnlySignatures(),
    ...(maxCarryBytesTotal ? { engine: { maxCarryBytesTotal } } : {}),
  });
  let maxHeld = 0;
  await readCapture(Readable.from([floodCapture()]), (pkt) => {
    sensor.handlePacket(pkt);
    maxHeld = Math.max(maxHeld, sensor.engine.carryBytesHeld);
  });
  sensor.finish();
  return { sensor, evidence, maxHeld };
}

describe('carry budget', () => {
  it('holds all partial lines to the budget, counts what it drops, and still finds the miner', async () => {
    const budget = 512 * 1024;
    const { sensor, evidence, maxHeld } = await run(budget);
    expect(maxHeld).toBeLessThanOrEqual(budget);
    expect(maxHeld).toBeGreaterThan(budget / 2);
    expect(sensor.engine.stats.carryRefused).toBeGreaterThan(FLOWS / 2);
    expect(sensor.engine.stats.oversizeLines).toBe(0);
    expect(evidence.some((e) => e.minerIp === MINER.ip && e.dialect === 'stratum')).toBe(true);
    expect(sensor.engine.carryBytesHeld).toBe(0);
  });

  it('drops nothing while the default budget (64 MiB) has room', async () => {
    const { sensor, evidence, maxHeld } = await run();
    expect(sensor.engine.stats.carryRefused).toBe(0);
    // Every flood flow holds its partial line (up to the 8 KiB cap of an unconfirmed flow).
    expect(maxHeld).toBeGreaterThan(FLOWS * 7000);
    expect(maxHeld).toBeLessThanOrEqual(FLOWS * 8192 + 64 * 1024);
    expect(evidence.some((e) => e.minerIp === MINER.ip)).toBe(true);
    expect(sensor.engine.carryBytesHeld).toBe(0);
  });
});

describe('carry budget and WebSocket messages', () => {
  /** A browser-miner-like WebSocket whose client starts a text message (FIN clear) and
   *  then closes; the flow itself stays open to the end of the input. */
  function unfinishedMessageCapture(): Buffer {
    const ws = new WsScript(7).handshake('ws.example.com', '/proxy');
    const login = JSON.stringify({ type: 'auth', params: { site_key: 'k'.repeat(40), type: 'anonymous', user: null } });
    ws.send('client', [ws.c(OP_TEXT, login.slice(0, 60), { fin: false })]);
    ws.send('client', [ws.c(OP_CLOSE, Buffer.alloc(0))]);
    return captureOf([conversation({ turns: ws.turns, serverPort: 8080, serverIp: '203.0.113.78', startMicros: T0, session: { close: 'none' } })]);
  }

  async function replay(capture: Buffer, maxCarryBytesTotal?: number): Promise<{ sensor: Sensor; heldAfterInput: number }> {
    const sensor = new Sensor(() => {}, {
      signatures: payloadOnlySignatures(),
      ...(maxCarryBytesTotal ? { engine: { maxCarryBytesTotal } } : {}),
    });
    await readCapture(Readable.from([capture]), (pkt) => sensor.handlePacket(pkt));
    const heldAfterInput = sensor.engine.carryBytesHeld;
    sensor.finish();
    return { sensor, heldAfterInput };
  }

  it('gives back a message cut off by a close frame while the flow is still open', async () => {
    const { sensor, heldAfterInput } = await replay(unfinishedMessageCapture());
    expect(sensor.engine.stats.wsTextMessages).toBe(0);
    expect(heldAfterInput).toBe(0);
    expect(sensor.engine.carryBytesHeld).toBe(0);
  });

  it('skips a message the budget refuses instead of delivering it without its start', async () => {
    const ws = new WsScript(8).handshake('ws.example.com', '/proxy');
    const text = JSON.stringify({ type: 'auth', params: { site_key: 'k'.repeat(400), type: 'anonymous' } });
    // Two frames of one message: the budget refuses the first, and the second alone must
    // not come out as a message.
    ws.send('client', [ws.c(OP_TEXT, text.slice(0, 300), { fin: false })]);
    ws.send('client', [ws.c(0x0, text.slice(300), { fin: true })]);
    const capture = captureOf([conversation({ turns: ws.turns, serverPort: 8080, serverIp: '203.0.113.79', startMicros: T0, session: { close: 'none' } })]);
    const { sensor, heldAfterInput } = await replay(capture, 256);
    expect(sensor.engine.stats.carryRefused).toBeGreaterThan(0);
    expect(sensor.engine.stats.wsTextMessages).toBe(0);
    expect(heldAfterInput).toBe(0);
  });
});
