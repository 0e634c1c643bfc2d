/**
 * A scripted miner and pool that talk over real TCP, for the live tests (run each inside
 * its network namespace):
 *
 *   node --import tsx test/support/stratum-peers.ts pool  HOST PORT [SCENARIO]
 *   node --import tsx test/support/stratum-peers.ts miner HOST PORT [SCENARIO] [--hold]
 *
 * Both walk the scenario's turns (src/synth/scenarios/mining.ts): a side sends its own
 * turns and waits for the other side's bytes before going on. The pool serves any number
 * of sessions; the miner prints "done" after the last turn, then closes, or with --hold
 * keeps the connection open until it is killed.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { scenarioByName } from '../../src/synth/scenarios/mining.js';
import type { Turn } from '../../src/synth/tcp-session.js';

const [role, host, portText, scenarioArg] = process.argv.slice(2);
const scenario = scenarioByName(scenarioArg && !scenarioArg.startsWith('--') ? scenarioArg : 'stratum-v1-btc');
const hold = process.argv.includes('--hold');
const port = Number(portText);

/** Plays one side of the conversation; resolves after the last turn. */
async function play(socket: Socket, me: Turn['from']): Promise<void> {
  let received = 0;
  let waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  });
  let expected = 0;
  for (const turn of scenario.turns) {
    const bytes = Buffer.isBuffer(turn.data) ? turn.data : Buffer.from(turn.data);
    if (turn.from === me) {
      socket.write(bytes);
      continue;
    }
    expected += bytes.length;
    while (received < expected) await new Promise<void>((resolve) => waiters.push(resolve));
  }
}

if (role === 'pool') {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    void play(socket, 'server');
  });
  server.listen(port, host, () => console.log('listening'));
} else if (role === 'miner') {
  const socket = createConnection({ host, port }, () => {
    void play(socket, 'client').then(() => {
      console.log('done');
      if (!hold) socket.end(() => process.exit(0));
    });
  });
  socket.on('error', (err) => {
    console.error(`miner: ${err.message}`);
    process.exit(1);
  });
} else {
  console.error('usage: stratum-peers.ts pool|miner HOST PORT [SCENARIO] [--hold]');
  process.exit(2);
}
