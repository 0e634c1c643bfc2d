/**
 * TLS client fingerprints of miners, JA3 (MD5 of the ClientHello field list) and JA4
 * (FoxIO's readable form), only where a real capture or the miner's own source shows them:
 *
 *   ja3:ec2e8760003621ca668b5f03e616cd57  miner=bfgminer/5.2.0
 *   ja4:t12d...                          miner=bfgminer/5.2.0 standalone=low
 *
 * A fingerprint names the TLS library build as much as the miner, so by default a match only
 * corroborates a flow that is a hit for another reason; `standalone=low|medium` lets a match
 * alone make a hit.
 */
import type { Confidence } from '../detect/types.js';
import { fieldOf, originOf, parseLines } from './lines.js';
import type { SignatureProblem, TlsFingerprint } from './types.js';

const FIELDS = ['miner', 'standalone', 'source'] as const;
const JA3 = /^[0-9a-f]{32}$/;
const JA4 = /^[tqd](?:1[0-3]|s[23]|d[1-3]|00)[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/;

export function parseTlsFile(text: string, file: string, problems: SignatureProblem[]): TlsFingerprint[] {
  const out: TlsFingerprint[] = [];
  for (const line of parseLines(text, file, FIELDS, problems)) {
    const fail = (message: string): void => {
      problems.push({ file, line: line.line, message });
    };
    if (line.words.length !== 1) {
      fail('expected one fingerprint (ja3:<md5> or ja4:<ja4>) per line');
      continue;
    }
    const subject = line.words[0]!.toLowerCase();
    const colon = subject.indexOf(':');
    const kind = subject.slice(0, colon);
    const value = subject.slice(colon + 1);
    if (kind !== 'ja3' && kind !== 'ja4') {
      fail(`'${line.words[0]}': expected ja3:<md5> or ja4:<fingerprint>`);
      continue;
    }
    if (!(kind === 'ja3' ? JA3 : JA4).test(value)) {
      fail(`'${value}' is not a ${kind.toUpperCase()} fingerprint`);
      continue;
    }
    const miner = fieldOf(line, 'miner');
    if (!miner) {
      fail('miner= is required');
      continue;
    }
    const standaloneText = fieldOf(line, 'standalone') ?? 'no';
    if (!['no', 'low', 'medium'].includes(standaloneText)) {
      fail(`standalone=${standaloneText}: expected no, low or medium`);
      continue;
    }
    const standalone = standaloneText === 'no' ? null : (standaloneText as Confidence);
    out.push({ kind, value, miner, standalone, origin: originOf(file, line) });
  }
  return out;
}

export class TlsFingerprintIndex {
  private readonly byValue = new Map<string, TlsFingerprint>();

  constructor(fingerprints: readonly TlsFingerprint[] = []) {
    for (const f of fingerprints) if (!this.byValue.has(f.value)) this.byValue.set(f.value, f);
  }

  get size(): number {
    return this.byValue.size;
  }

  match(ja3: string, ja4: string): TlsFingerprint | null {
    if (this.byValue.size === 0) return null;
    return this.byValue.get(ja4) ?? this.byValue.get(ja3) ?? null;
  }
}
