/**
 * CryptoNote / XMRig stratum (login, job, submit, keepalived, getjob) and its Grin
 * relative. Method names are generic English words, so each must come with its shape: a
 * login params object with login+pass, a job with hex blob/job_id/target, a submit with an
 * 8-hex nonce and a 64-hex result.
 */
import type { Finding, JsonDetector, JsonMessage, MessageContext } from './dialect.js';
import { isHex } from './dialect.js';
import { cleanText, splitLogin } from './identity.js';

function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function dialectOf(ctx: MessageContext): string {
  return ctx.facts.dialect ?? 'cryptonote';
}

/** A CryptoNote job: hex blob, job id, 4- or 8-byte hex target. */
function isCryptonoteJob(job: Record<string, unknown>): boolean {
  return (
    isHex(job.blob, 40, 4096) &&
    (typeof job.job_id === 'string' || typeof job.job_id === 'number') &&
    (isHex(job.target, 8) || isHex(job.target, 16))
  );
}

/** A Grin job: pre_pow header and numeric difficulty/height. */
function isGrinJob(job: Record<string, unknown>): boolean {
  return isHex(job.pre_pow, 64, 4096) && job.job_id !== undefined;
}

function algoList(v: unknown): string | undefined {
  if (typeof v === 'string') return cleanText(v, 32);
  if (Array.isArray(v)) return cleanText(v.filter((x) => typeof x === 'string').slice(0, 8).join(','), 128);
  return undefined;
}

function jobFinding(job: Record<string, unknown>, kind: string, ctx: MessageContext): Finding | null {
  if (isGrinJob(job)) {
    ctx.facts.dialect = 'grin';
    ctx.facts.algo ??= 'cuckoo';
    return { dialect: 'grin', kind, sender: 'pool', strong: true, detector: 'cryptonote', algo: ctx.facts.algo };
  }
  if (!isCryptonoteJob(job)) return null;
  const algo = cleanText(job.algo, 32);
  if (algo) ctx.facts.algo = algo;
  return { dialect: dialectOf(ctx), kind, sender: 'pool', strong: true, detector: 'cryptonote', algo: ctx.facts.algo };
}

function inspectLogin(msg: JsonMessage, ctx: MessageContext): Finding | null {
  const p = asObject(msg.params);
  if (!p || typeof p.login !== 'string' || typeof p.pass !== 'string') return null;
  const login = cleanText(p.login);
  const parts = login ? splitLogin(login) : {};
  const agent = cleanText(p.agent);
  const algo = algoList(p.algo);
  if (algo) ctx.facts.algo ??= algo.split(',')[0];
  // Grin speaks JSON-RPC 2.0 with string ids; CryptoNote miners use numbers.
  if (typeof msg.id === 'string' && msg.obj.jsonrpc === '2.0') ctx.facts.dialect ??= 'grin';
  return {
    dialect: dialectOf(ctx),
    kind: 'login',
    sender: 'miner',
    // login+pass+agent is the miner's shape; without an agent (web-miner proxies) wait for the job reply.
    strong: agent !== undefined || p.rigid !== undefined || Array.isArray(p.algo),
    detector: 'cryptonote',
    agent,
    login,
    wallet: parts.wallet,
    worker: cleanText(p.rigid) ?? parts.worker,
    algo,
  };
}

function inspectSubmit(msg: JsonMessage, ctx: MessageContext): Finding | null {
  const p = asObject(msg.params);
  if (!p) return null;
  if (Array.isArray(p.pow) && p.pow.length === 42) {
    ctx.facts.dialect = 'grin';
    return { dialect: 'grin', kind: 'submit', sender: 'miner', strong: true, detector: 'cryptonote' };
  }
  if (isHex(p.nonce, 8) && isHex(p.result, 64)) {
    const algo = cleanText(p.algo, 32);
    return { dialect: dialectOf(ctx), kind: 'submit', sender: 'miner', strong: true, detector: 'cryptonote', algo };
  }
  return null;
}

export const cryptonoteDetector: JsonDetector = {
  name: 'cryptonote',
  inspect(msg, ctx) {
    switch (msg.method) {
      case 'login':
        return inspectLogin(msg, ctx);
      case 'submit':
        return inspectSubmit(msg, ctx);
      case 'job': {
        const job = asObject(msg.params);
        return job ? jobFinding(job, 'job', ctx) : null;
      }
      case 'keepalived':
        if (msg.params !== undefined && asObject(msg.params) === null) return null;
        return { dialect: dialectOf(ctx), kind: 'keepalived', sender: 'miner', strong: true, detector: 'cryptonote' };
      case 'getjob':
      case 'getjobtemplate':
        return { dialect: dialectOf(ctx), kind: msg.method, sender: 'miner', strong: false, detector: 'cryptonote' };
      case undefined: {
        // The login reply carries the first job: {"result":{"id":…,"job":{…},"status":"OK"}}.
        const result = asObject(msg.result);
        const job = result ? asObject(result.job) : null;
        return job ? jobFinding(job, 'login.result', ctx) : null;
      }
      default:
        return null;
    }
  },
};
