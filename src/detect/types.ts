/**
 * What detection hands to the store: one Evidence per evidence event (the first time a
 * flow shows a given message kind, or a new identity). Roles come from the messages:
 * the miner is the side that logs in / subscribes / submits, the pool the side that
 * pushes jobs.
 */
export type Confidence = 'low' | 'medium' | 'high';

export interface Evidence {
  /** Capture time of the message, integer microseconds since the epoch. */
  tsMicros: number;
  minerIp: string;
  minerPort: number;
  poolIp: string;
  poolPort: number;
  transport: 'tcp' | 'udp';
  /** Dialect id, e.g. 'stratum', 'cryptonote', 'ethproxy', 'ethstratum1', 'ethstratum2',
   *  'getwork', 'getblocktemplate', 'grin', 'beam'. */
  dialect: string;
  /** What was seen: a method name ('mining.subscribe', 'login', 'job'), or a detector's
   *  evidence kind ('http.getwork', 'http.x-mining-extensions'). */
  kind: string;
  /** high: the mining protocol itself was seen; medium: TLS SNI/HTTP Host of a pool, or a
   *  sustained flow to a listed or DNS-learned pool endpoint; low: a DNS query alone, a lone
   *  SYN, a heuristic on the port alone. */
  confidence: Confidence;
  /** Detector that produced it (file name under detect/ without extension). */
  detector: string;
  /** Where the packets came from: capture file path, '-' for stdin, or 'if:<name>'. */
  source: string;
  agent?: string;
  /** Worker / account name (authorize user, rigid, EthProxy worker). */
  worker?: string;
  /** Login string as sent (may hold wallet.worker). */
  login?: string;
  /** A wallet address recognised inside the login. */
  wallet?: string;
  algo?: string;
  /** Pool host name named inside the protocol (ZIP 301 subscribe, ES2 hello, HTTP Host). */
  poolHost?: string;
  /** Short free text (error codes, extra fields). */
  detail?: string;
  /** Why: the detector and the signature lines behind the hit, '; '-separated
   *  ('tls; pools/mining-pools.txt:74 *.bitminter.com; ...'). */
  provenance?: string;
}

export type EvidenceSink = (e: Evidence) => void;
