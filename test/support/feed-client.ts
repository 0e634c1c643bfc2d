/**
 * A live feed client for the tests (run inside the sensor's namespace):
 *
 *   node --import tsx test/support/feed-client.ts ws://HOST:PORT TOKEN|-
 *
 * Prints every message on its own line; "refused STATUS" and exit 1 when the server turns
 * the connection down; exit 0 when the server closes it.
 */
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
const ws = new WebSocket(url!, token && token !== '-' ? { headers: { authorization: `Bearer ${token}` } } : {});
ws.on('message', (data) => process.stdout.write(`${data.toString()}\n`));
ws.on('unexpected-response', (_req, res) => {
  process.stdout.write(`refused ${res.statusCode}\n`);
  process.exit(1);
});
ws.on('close', () => process.exit(0));
ws.on('error', (err) => {
  process.stderr.write(`feed-client: ${err.message}\n`);
  process.exit(1);
});
