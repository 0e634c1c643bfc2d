/**
 * Splits a pool login ("wallet.worker", "wallet+diff", "account.worker", "0x…/worker/email")
 * into the wallet address it carries, if any, and a worker name.
 */

// Address shapes by coin family. Anchored; tested on one token at a time.
const WALLET_PATTERNS: readonly RegExp[] = [
  /^[48][1-9A-HJ-NP-Za-km-z]{94}$/, // Monero primary / subaddress
  /^4[1-9A-HJ-NP-Za-km-z]{105}$/, // Monero integrated address
  /^0x[0-9a-fA-F]{40}$/, // Ethereum family
  /^(bc1|tb1|ltc1)[02-9ac-hj-np-z]{8,87}$/i, // bech32 (BTC, LTC)
  /^[13LMDR][1-9A-HJ-NP-Za-km-z]{25,34}$/, // base58check: BTC, LTC, DOGE, RVN
  /^t[13][1-9A-HJ-NP-Za-km-z]{33}$/, // Zcash transparent
  /^kaspa:[02-9ac-hj-np-z]{61,63}$/, // Kaspa
];

export function looksLikeWallet(token: string): boolean {
  if (token.length < 26 || token.length > 110) return false;
  for (const re of WALLET_PATTERNS) if (re.test(token)) return true;
  return false;
}

export interface LoginParts {
  wallet?: string;
  worker?: string;
}

/** Finds a wallet among the login's tokens; the worker is what follows the first separator. */
export function splitLogin(login: string): LoginParts {
  const parts: LoginParts = {};
  const tokens = login.split(/[.+/:@]/);
  // "kaspa:addr" keeps its prefix: try the joined first two tokens too.
  if (tokens.length > 1 && tokens[0] === 'kaspa' && looksLikeWallet(`kaspa:${tokens[1]}`)) {
    parts.wallet = `kaspa:${tokens[1]}`;
    if (tokens.length > 2 && tokens[2]) parts.worker = tokens[2];
    return parts;
  }
  for (const t of tokens) {
    if (looksLikeWallet(t)) {
      parts.wallet = t;
      break;
    }
  }
  parts.worker = workerOf(login, parts.wallet);
  return parts;
}

/**
 * The worker part of a login: ethminer's "wallet/worker/email" takes the second slash
 * token; dotted logins ("account.worker", "wallet.paymentid.worker") take the last dot
 * token. Payment ids (64 hex) and wallets are never workers.
 */
function workerOf(login: string, wallet: string | undefined): string | undefined {
  let candidate: string | undefined;
  if (login.includes('/')) candidate = login.split('/')[1];
  else {
    const base = login.split('+')[0]!;
    const dot = base.lastIndexOf('.');
    if (dot > 0) candidate = base.slice(dot + 1);
  }
  if (!candidate || candidate === wallet || looksLikeWallet(candidate) || /^[0-9a-fA-F]{64}$/.test(candidate)) return undefined;
  return candidate;
}

/** Printable, bounded copy of a protocol string for storage (control chars dropped). */
export function cleanText(value: unknown, max = 256): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const s = value.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!s) return undefined;
  return s.length > max ? s.slice(0, max) : s;
}
