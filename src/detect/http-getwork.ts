/**
 * getwork, getblocktemplate and eth_getWork over HTTP. Miner headers (X-Mining-Extensions,
 * X-Mining-Hashrate) and the `getwork` method identify a miner; pool headers (X-Stratum,
 * X-Long-Polling, X-Roll-Ntime, X-Reject-Reason) identify a pool. A bare getblocktemplate
 * or eth_getWork POST is what pool servers send their own node, so it is weak alone.
 */
import type { Finding, HttpDetector, HttpHead, JsonDetector, JsonMessage, MessageContext } from './dialect.js';
import { isHex } from './dialect.js';
import { cleanText } from './identity.js';

const POOL_HEADERS = ['x-stratum', 'x-long-polling', 'x-roll-ntime', 'x-reject-reason'] as const;

function basicAuthUser(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return cleanText(colon >= 0 ? decoded.slice(0, colon) : decoded);
}

function hostName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim();
  const host = v.startsWith('[') ? v.slice(1, v.indexOf(']')) : v.split(':')[0];
  return cleanText(host, 253);
}

function bodyDialect(body: JsonMessage | null): { dialect: string; algo?: string } {
  const m = body?.method;
  if (m === 'getblocktemplate' || m === 'submitblock') return { dialect: 'getblocktemplate' };
  if (m !== undefined && m.startsWith('eth_')) return { dialect: 'getwork', algo: 'ethash' };
  return { dialect: 'getwork' };
}

function inspectRequest(head: HttpHead, body: JsonMessage | null, ctx: MessageContext): Finding | null {
  const ext = head.headers.get('x-mining-extensions');
  const rate = head.headers.get('x-mining-hashrate');
  const method = body?.method;
  const minerHeader = ext !== undefined || rate !== undefined;
  if (!minerHeader && method !== 'getwork' && method !== 'getblocktemplate' && method !== 'submitblock' && method !== 'eth_getWork') {
    return null;
  }
  const { dialect, algo } = bodyDialect(body);
  const strong = minerHeader || method === 'getwork';
  if (strong) ctx.facts.dialect = dialect;
  return {
    dialect,
    kind: minerHeader ? 'http.x-mining-extensions' : `http.${method}`,
    sender: 'miner',
    strong,
    detector: 'http-getwork',
    agent: cleanText(head.headers.get('user-agent')),
    worker: basicAuthUser(head.headers.get('authorization')),
    poolHost: hostName(head.headers.get('host')),
    algo,
    detail: cleanText(ext ? `X-Mining-Extensions: ${ext}` : rate ? `X-Mining-Hashrate: ${rate}` : undefined),
  };
}

function inspectResponse(head: HttpHead, ctx: MessageContext): Finding | null {
  for (const name of POOL_HEADERS) {
    const value = head.headers.get(name);
    if (value === undefined) continue;
    return {
      dialect: ctx.facts.dialect ?? 'getwork',
      kind: `http.${name}`,
      sender: 'pool',
      strong: true,
      detector: 'http-getwork',
      detail: cleanText(`${name}: ${value}`),
    };
  }
  return null;
}

export const httpGetworkDetector: HttpDetector = {
  name: 'http-getwork',
  inspect(head, body, ctx) {
    return head.isRequest ? inspectRequest(head, body, ctx) : inspectResponse(head, ctx);
  },
};

/** The JSON bodies of getwork and getblocktemplate calls (HTTP only). */
export const getworkBodyDetector: JsonDetector = {
  name: 'http-getwork',
  inspect(msg, ctx) {
    if (!msg.overHttp) return null;
    const dialect = ctx.facts.dialect ?? 'getwork';
    switch (msg.method) {
      case 'getwork':
        if (msg.params !== undefined && !Array.isArray(msg.params)) return null;
        return { dialect: 'getwork', kind: 'getwork', sender: 'miner', strong: true, detector: 'http-getwork' };
      case 'getblocktemplate':
      case 'submitblock':
        // Also what pool servers send their own node: weak alone.
        return { dialect: 'getblocktemplate', kind: msg.method, sender: 'miner', strong: false, detector: 'http-getwork' };
      case undefined: {
        const r = msg.result as Record<string, unknown> | null;
        if (r && typeof r === 'object' && isHex(r.data, 256) && isHex(r.target, 64)) {
          return { dialect, kind: 'getwork.result', sender: 'pool', strong: true, detector: 'http-getwork' };
        }
        return null;
      }
      default:
        return null;
    }
  },
};

/** Headers that make an HTTP message worth reading further (bodies, later messages). */
export function hasMiningHeaders(head: HttpHead): boolean {
  if (head.headers.has('x-mining-extensions') || head.headers.has('x-mining-hashrate')) return true;
  return POOL_HEADERS.some((h) => head.headers.has(h));
}
