/**
 * TLS evidence from the ClientHello: the SNI names a listed pool (rule tls.sni), or the
 * JA3/JA4 fingerprint is a miner's that may stand alone. A fingerprint that only
 * corroborates is reported in the detail and provenance of the flow's other hits.
 */
import type { SignatureSet } from '../signatures/signature-set.js';
import { originText, type TlsFingerprint } from '../signatures/types.js';
import { cleanText } from './identity.js';
import { entryDetail, entryDialect, entryLabel, joinProvenance, ruleLabel, type IntelFinding } from './intel.js';
import { ja3, ja4, type ClientHello, type ServerHello } from './tls-hello.js';

/** What a flow's TLS handshake showed. */
export interface TlsFacts {
  readonly hello: ClientHello;
  readonly ja3: string;
  readonly ja4: string;
  readonly fingerprint: TlsFingerprint | null;
  server: ServerHello | null;
}

export function tlsFacts(set: SignatureSet, hello: ClientHello): TlsFacts {
  const j3 = ja3(hello);
  const j4 = ja4(hello);
  return { hello, ja3: j3, ja4: j4, fingerprint: set.tls.match(j3, j4), server: null };
}

/** 'sni x alpn h2,http/1.1 ja3 … ja4 …' (plus the fingerprint's miner) for hit details. */
export function tlsDetail(t: TlsFacts): string {
  const parts = [
    t.hello.sni ? `sni ${cleanText(t.hello.sni, 253) ?? '?'}` : 'no sni',
    t.hello.alpn.length ? `alpn ${cleanText(t.hello.alpn.join(','), 128) ?? '?'}` : undefined,
    `ja3 ${t.ja3}`,
    `ja4 ${t.ja4}`,
    t.fingerprint ? `fingerprint of ${t.fingerprint.miner}` : undefined,
  ];
  return parts.filter(Boolean).join(' ');
}

export function fingerprintLabel(t: TlsFacts | null): string | undefined {
  return t?.fingerprint ? `${originText(t.fingerprint.origin)} ${t.fingerprint.kind} ${t.fingerprint.miner}` : undefined;
}

/** The hit a ClientHello makes on its own, or null (a TLS flow to an unlisted host is none). */
export function tlsClientEvidence(set: SignatureSet, t: TlsFacts, serverPort: number): IntelFinding | null {
  const sni = t.hello.sni;
  const rule = set.protocols.rule('tls.sni');
  const entry = sni !== undefined && rule ? set.pools.matchName(sni, serverPort) : null;
  if (entry && rule) {
    return {
      kind: 'tls.sni',
      dialect: entryDialect(entry),
      confidence: rule.confidence,
      detector: 'tls',
      provenance: joinProvenance('tls', entryLabel(entry), fingerprintLabel(t), ruleLabel(rule)),
      poolHost: sni,
      detail: entryDetail(entry, tlsDetail(t)),
    };
  }
  const fp = t.fingerprint;
  if (fp?.standalone) {
    return {
      kind: `tls.${fp.kind}`,
      dialect: 'unknown',
      confidence: fp.standalone,
      detector: 'tls',
      provenance: joinProvenance('tls', fingerprintLabel(t)),
      poolHost: cleanText(sni, 253),
      detail: tlsDetail(t),
    };
  }
  return null;
}
