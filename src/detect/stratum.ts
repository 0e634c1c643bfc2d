/**
 * The `mining.*` family: Bitcoin Stratum V1 (with BIP 310 configure), its Equihash
 * (ZIP 301), KawPow and Kaspa variants, EthereumStratum/1.0.0 and EthereumStratum/2.0.0.
 * The side that sends subscribe/authorize/submit is the miner; the side that pushes
 * notify/set_difficulty is the pool.
 */
import type { MarkerRule, MethodRule } from '../signatures/types.js';
import { originText } from '../signatures/types.js';
import type { Finding, JsonDetector, JsonMessage, MessageContext } from './dialect.js';
import { isHex } from './dialect.js';
import { cleanText, splitLogin } from './identity.js';

/*
 * Which methods belong to the family, who sends them, whether they identify mining alone and
 * which shape check below validates them come from the protocol rules
 * (signatures/protocols/stratum.txt); so do the marker strings that name the ES1/ES2 dialects.
 */

function dialectOf(ctx: MessageContext): string {
  return ctx.facts.dialect ?? 'stratum';
}

function isStringArray(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

/** Algorithm hints from the shape of a notify (see the reference's per-variant layouts). */
function algoFromNotify(params: unknown[]): string | undefined {
  if (Array.isArray(params[1]) && params[1].length === 4 && params[1].every((x) => typeof x === 'number')) {
    return 'kheavyhash';
  }
  if (params.length === 8 && params[1] === '04000000') return 'equihash';
  if (params.length === 7 && isHex(params[1], 64) && isHex(params[3], 64)) return 'kawpow';
  if (params.length >= 9 && Array.isArray(params[4])) return 'sha256d';
  return undefined;
}

function findingOf(rule: MethodRule, ctx: MessageContext): Finding {
  return {
    dialect: dialectOf(ctx),
    kind: rule.method,
    sender: rule.sender,
    strong: rule.strong,
    detector: 'stratum',
    provenance: originText(rule.origin),
  };
}

function inspectMinerMethod(rule: MethodRule, msg: JsonMessage, ctx: MessageContext): Finding | null {
  const params = msg.params;
  const f = findingOf(rule, ctx);
  switch (rule.shape) {
    case 'subscribe': {
      if (params !== undefined && !Array.isArray(params)) return null;
      const p = (params as unknown[] | undefined) ?? [];
      f.agent = cleanText(p[0]);
      const marker = ctx.rules.markerDialect(p[1]);
      if (marker && p[1] === marker.text) ctx.facts.dialect = marker.dialect;
      // ZIP 301 and KawPow: [agent, session, host, port] — the host names the pool.
      if (p.length >= 4 && typeof p[2] === 'string' && p[2].length > 0) f.poolHost = cleanText(p[2]);
      f.dialect = dialectOf(ctx);
      return f;
    }
    case 'hello': {
      const p = msg.params as Record<string, unknown> | undefined;
      if (!p || typeof p !== 'object' || Array.isArray(p)) return null;
      const marker = ctx.rules.markerDialect(p.proto);
      if (marker) ctx.facts.dialect = marker.dialect;
      else if (p.agent === undefined) return null;
      f.dialect = ctx.facts.dialect ?? 'ethstratum2';
      f.agent = cleanText(p.agent);
      f.poolHost = cleanText(p.host);
      return f;
    }
    case 'authorize':
    case 'submit': {
      const submit = rule.shape === 'submit';
      if (!isStringArray(params) || typeof params[0] !== 'string') return null;
      if (submit && params.length < 3) return null;
      const login = cleanText(params[0]);
      // ES2 submit is [job_id, nonce, pool-assigned worker id]: no identity in it.
      if (ctx.facts.dialect === 'ethstratum2' && submit) return f;
      if (login) {
        const parts = splitLogin(login);
        f.login = login;
        f.wallet = parts.wallet;
        f.worker = parts.worker ?? login;
      }
      if (submit) {
        if (params.length === 5 && isHex(params[2], 16) && isHex(params[3], 64) && isHex(params[4], 64)) f.algo = 'kawpow';
        else if (params.length === 5 && typeof params[4] === 'string' && params[4].length > 2000) f.algo = 'equihash';
      }
      return f;
    }
    case 'hashrate': {
      if (!isStringArray(params)) return null;
      f.detail = cleanText(`self-reported hashrate 0x${String(params[0])}`);
      return f;
    }
    default:
      if (params !== undefined && typeof params !== 'object') return null;
      return f;
  }
}

function inspectPoolMethod(rule: MethodRule, msg: JsonMessage, ctx: MessageContext): Finding | null {
  const params = msg.params;
  const f = findingOf(rule, ctx);
  switch (rule.shape) {
    case 'notify': {
      if (!isStringArray(params) || params.length < 3) return null;
      const algo = algoFromNotify(params);
      if (params.length === 4 && typeof params[3] === 'boolean' && isHex(params[1], 64) && isHex(params[2], 64)) {
        ctx.facts.dialect ??= 'ethstratum1';
        ctx.facts.algo ??= 'ethash';
      }
      if (algo) ctx.facts.algo = algo;
      f.dialect = dialectOf(ctx);
      f.algo = ctx.facts.algo;
      return f;
    }
    case 'set_difficulty':
      if (!isStringArray(params) || (typeof params[0] !== 'number' && typeof params[0] !== 'string')) return null;
      f.detail = `difficulty ${String(params[0]).slice(0, 32)}`;
      return f;
    case 'set_target':
      if (!isStringArray(params) || !isHex(params[0], 64)) return null;
      return f;
    case 'set': {
      if (!params || typeof params !== 'object' || Array.isArray(params)) return null;
      ctx.facts.dialect = 'ethstratum2';
      const algo = cleanText((params as Record<string, unknown>).algo, 32);
      if (algo) ctx.facts.algo = algo;
      f.dialect = 'ethstratum2';
      f.algo = ctx.facts.algo;
      return f;
    }
    case 'reconnect': {
      const p = params as Record<string, unknown> | unknown[] | undefined;
      const host = Array.isArray(p) ? p[0] : p && typeof p === 'object' ? p.host : undefined;
      const port = Array.isArray(p) ? p[1] : p && typeof p === 'object' ? p.port : undefined;
      if (typeof host === 'string') f.detail = cleanText(`reconnect to ${host}:${String(port ?? '')}`);
      return f;
    }
    default:
      if (params !== undefined && typeof params !== 'object') return null;
      return f;
  }
}

/** The marker rule a result field echoes exactly, if any. */
function echoedMarker(value: unknown, ctx: MessageContext): MarkerRule | undefined {
  const marker = ctx.rules.markerDialect(value);
  return marker && value === marker.text ? marker : undefined;
}

/** Results that identify the pool by shape alone, without knowing the request. */
function inspectResult(msg: JsonMessage, ctx: MessageContext): Finding | null {
  const r = msg.result;
  if (!Array.isArray(r) || r.length < 2) return null;
  // ES1 / Kaspa: [[ "mining.notify", session, "EthereumStratum/1.0.0" ], extranonce] or [true, "EthereumStratum/1.0.0"]
  const first = r[0];
  // ES1 / Kaspa echo the marker: as result[1], or inside [["mining.notify", session, marker], ...].
  const marker = echoedMarker(r[1], ctx) ?? (Array.isArray(first) && first[0] === 'mining.notify' ? echoedMarker(first[2], ctx) : undefined);
  if (marker) {
    ctx.facts.dialect = marker.dialect;
    return { dialect: marker.dialect, kind: 'mining.subscribe.result', sender: 'pool', strong: true, detector: 'stratum', provenance: originText(marker.origin) };
  }
  // V1: [[["mining.set_difficulty", id], ["mining.notify", id]], extranonce1, extranonce2_size]
  if (Array.isArray(first) && typeof r[1] === 'string') {
    const pairs = Array.isArray(first[0]) ? (first as unknown[]) : [first];
    const names = pairs.some((p) => Array.isArray(p) && typeof p[0] === 'string' && p[0].startsWith('mining.'));
    if (names) {
      return { dialect: dialectOf(ctx), kind: 'mining.subscribe.result', sender: 'pool', strong: true, detector: 'stratum' };
    }
  }
  return null;
}

export const stratumDetector: JsonDetector = {
  name: 'stratum',
  inspect(msg, ctx) {
    const method = msg.method;
    if (method === undefined) return msg.result !== undefined ? inspectResult(msg, ctx) : null;
    const rule = ctx.rules.method('stratum', method);
    if (rule === undefined) return null;
    return rule.sender === 'miner' ? inspectMinerMethod(rule, msg, ctx) : inspectPoolMethod(rule, msg, ctx);
  },
};
