/**
 * Pool replies: which pool messages answer a request, and whether a share was accepted.
 * Conventions: V1 `true` or an error array [code, message, …]; CryptoNote
 * {status:"OK"} or {code, message}; Grin "ok" or "blockfound - …"; ES2 a bare {id}
 * (error 202: accepted but stale); BIP 22 submitblock null (accepted) or a reason
 * string; Beam {method:"result", code, description:"accepted"}.
 */
import type { JsonMessage } from '../dialect.js';
import { asObject, type ReplyVerdict } from './types.js';

/** ES2: error 202 means the share was accepted but stale (EIP-1571). */
const ES2_ACCEPTED_STALE = '202';
/** V1 error 21 ("job not found") is the stale-share rejection. */
const V1_STALE = '21';

/** The pool message answers a request with this id (null when it is a push, not an answer). */
export function replyId(msg: JsonMessage): string | null {
  const id = msg.id;
  if (id === undefined || id === null) return null;
  const obj = msg.obj;
  const answers = msg.method === undefined || msg.method === 'result' || 'result' in obj || 'error' in obj;
  return answers ? idKey(id) : null;
}

/** A request id as a map key: strings and numbers kept apart ("1" vs 1). */
export function idKey(id: unknown): string {
  return typeof id === 'string' ? `s:${id}` : `n:${String(id)}`;
}

export function classifyReply(msg: JsonMessage): ReplyVerdict {
  if (msg.method === 'result') return beamVerdict(msg.obj);
  const err = msg.error;
  if (err !== undefined && err !== null && err !== false) {
    const { code, message } = errorParts(err);
    if (code === ES2_ACCEPTED_STALE) return { accepted: true, stale: true, code, message };
    return { accepted: false, stale: code === V1_STALE || /stale/i.test(message ?? ''), code, message };
  }
  const r = msg.result;
  if (r === true || r === undefined || r === null) return { accepted: true, stale: false };
  if (r === false) return { accepted: false, stale: false, code: 'false' };
  if (typeof r === 'string') {
    if (/^(ok|blockfound)/i.test(r)) return { accepted: true, stale: false };
    return { accepted: false, stale: /stale/i.test(r), message: r.slice(0, 120) };
  }
  const status = asObject(r)?.status;
  if (typeof status === 'string') {
    return /^ok$/i.test(status) ? { accepted: true, stale: false } : { accepted: false, stale: false, message: status.slice(0, 120) };
  }
  return { accepted: false, stale: false, message: 'unrecognised reply' };
}

function errorParts(err: unknown): { code?: string; message?: string } {
  if (Array.isArray(err)) return { code: err[0] === undefined || err[0] === null ? undefined : String(err[0]), message: typeof err[1] === 'string' ? err[1].slice(0, 120) : undefined };
  const o = asObject(err);
  if (o) return { code: o.code === undefined ? undefined : String(o.code), message: typeof o.message === 'string' ? o.message.slice(0, 120) : undefined };
  return { message: String(err).slice(0, 120) };
}

function beamVerdict(obj: Record<string, unknown>): ReplyVerdict {
  const description = typeof obj.description === 'string' ? obj.description : '';
  const code = obj.code === undefined ? undefined : String(obj.code);
  if (/^accepted$/i.test(description)) return { accepted: true, stale: false, code };
  return { accepted: false, stale: /expired|stale/i.test(description), code, message: description.slice(0, 120) || undefined };
}
