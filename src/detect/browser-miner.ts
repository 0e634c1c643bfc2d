/**
 * Browser miners over WebSocket (reference §9): the Coinhive-style protocol
 * ({"type":…,"params":{…}}, also CryptoNoter and WS↔stratum proxies) and webminerpool's
 * flat {"identifier":…} messages. The type names are common English words ("auth", "job"),
 * so each must come with its shape: a site key, a hex blob with a job id and a 4- or 8-byte
 * target, an 8-hex nonce with a 64-hex result. The acknowledgements ("authed",
 * "hash_accepted", "hashsolved") are weak: they count only beside a strong sign.
 *
 * Kinds are the message's own type or identifier ('auth', 'job', 'solved'); the engine
 * notes in the detail that the message came over WebSocket.
 */
import type { Finding, JsonDetector, MessageContext } from './dialect.js';
import { isHex } from './dialect.js';
import { cleanText, splitLogin } from './identity.js';

const DETECTOR = 'browser-miner';

function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function hasJobId(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number';
}

/** A CryptoNote job as both protocols carry it: hex blob, job id, 4- or 8-byte hex target. */
function isJob(job: Record<string, unknown>): boolean {
  return isHex(job.blob, 40, 4096) && hasJobId(job.job_id) && (isHex(job.target, 8) || isHex(job.target, 16));
}

function isSolution(o: Record<string, unknown>): boolean {
  return isHex(o.nonce, 8) && isHex(o.result, 64);
}

function jobFinding(dialect: string, kind: string, job: Record<string, unknown>, ctx: MessageContext): Finding | null {
  if (!isJob(job)) return null;
  const algo = cleanText(job.algo, 32);
  if (algo) ctx.facts.algo = algo;
  return { dialect, kind, sender: 'pool', strong: true, detector: DETECTOR, algo: ctx.facts.algo };
}

const COINHIVE = 'coinhive-ws';

/** {"type":"auth","params":{"site_key":…,"user":…}} and the rest of the Coinhive-style exchange. */
function inspectCoinhive(type: string, params: Record<string, unknown>, ctx: MessageContext): Finding | null {
  switch (type) {
    case 'auth': {
      const siteKey = cleanText(params.site_key);
      if (!siteKey) return null;
      // The proxies log in upstream as site_key.user; a clone may put a wallet in site_key.
      return { dialect: COINHIVE, kind: type, sender: 'miner', strong: true, detector: DETECTOR, login: siteKey, wallet: splitLogin(siteKey).wallet, worker: cleanText(params.user) };
    }
    case 'job':
      return jobFinding(COINHIVE, type, params, ctx);
    case 'submit':
      return isSolution(params) ? { dialect: COINHIVE, kind: type, sender: 'miner', strong: true, detector: DETECTOR } : null;
    case 'authed':
    case 'hash_accepted':
      return { dialect: COINHIVE, kind: type, sender: 'pool', strong: false, detector: DETECTOR };
    default:
      return null;
  }
}

const WEBMINERPOOL = 'webminerpool';

/** {"identifier":"handshake","pool":…,"login":…} and the rest of webminerpool's exchange. */
function inspectWebminerpool(identifier: string, o: Record<string, unknown>, ctx: MessageContext): Finding | null {
  switch (identifier) {
    case 'handshake': {
      const login = cleanText(o.login);
      const pool = cleanText(o.pool, 253);
      if (!login || !pool) {
        // The loginid variant names a login registered beforehand: a sign, not proof.
        return typeof o.loginid === 'string' ? { dialect: WEBMINERPOOL, kind: identifier, sender: 'miner', strong: false, detector: DETECTOR } : null;
      }
      const parts = splitLogin(login);
      return { dialect: WEBMINERPOOL, kind: identifier, sender: 'miner', strong: true, detector: DETECTOR, login, wallet: parts.wallet, worker: parts.worker, poolHost: pool };
    }
    case 'job':
      return jobFinding(WEBMINERPOOL, identifier, o, ctx);
    case 'solved':
      return isSolution(o) ? { dialect: WEBMINERPOOL, kind: identifier, sender: 'miner', strong: true, detector: DETECTOR } : null;
    case 'hashsolved':
      return { dialect: WEBMINERPOOL, kind: identifier, sender: 'pool', strong: false, detector: DETECTOR };
    default:
      return null;
  }
}

export const browserMinerDetector: JsonDetector = {
  name: DETECTOR,
  inspect(msg, ctx) {
    if (msg.method !== undefined) return null; // JSON-RPC: the other detectors' business
    const o = msg.obj;
    if (typeof o.type === 'string') {
      const params = asObject(o.params);
      return params ? inspectCoinhive(o.type, params, ctx) : null;
    }
    if (typeof o.identifier === 'string') return inspectWebminerpool(o.identifier, o, ctx);
    return null;
  },
};

const QUOTE = 0x22;
const TYPE_KEY = Buffer.from('"type"', 'latin1');
const IDENTIFIER_KEY = Buffer.from('"identifier"', 'latin1');

function keyAt(buf: Buffer, at: number, end: number, key: Buffer): boolean {
  if (at + key.length > end) return false;
  for (let i = 1; i < key.length; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

/**
 * The WebSocket addition to the engine's parse gate: browser-miner messages carry a "type"
 * or "identifier" member instead of "method"/"result".
 */
export function hasBrowserMinerKey(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end - 5; i++) {
    if (buf[i] !== QUOTE) continue;
    const next = buf[i + 1];
    if (next === 0x74 /* t */ && keyAt(buf, i, end, TYPE_KEY)) return true;
    if (next === 0x69 /* i */ && keyAt(buf, i, end, IDENTIFIER_KEY)) return true;
  }
  return false;
}
