/**
 * Protocol rules as data (signatures/protocols/*.txt):
 *
 *   method mining.subscribe  family=stratum sender=miner strength=strong shape=subscribe
 *   marker EthereumStratum/1.0.0  dialect=ethstratum1
 *   rule   tls.sni  confidence=medium
 *
 * `method` lines name the JSON-RPC methods of a dialect family, who sends them, whether they
 * identify mining alone, and which code-level shape check validates their params, so a
 * variant that reuses a known shape under a new name needs a line, not a code change.
 * `marker` lines map protocol strings to dialects. `rule` lines switch evidence kinds on
 * and hold their thresholds; an evidence kind with no rule line is off.
 */
import type { Confidence } from '../detect/types.js';
import { parsePorts } from './endpoint-syntax.js';
import { fieldOf, originOf, parseLines } from './lines.js';
import { POOL_TYPES, type EvidenceRule, type MarkerRule, type MethodRule, type PoolType, type PortRange, type Sender, type SignatureProblem } from './types.js';

/** Shape checks the stratum detector implements, by sender. */
export const STRATUM_SHAPES: Readonly<Record<Sender, readonly string[]>> = {
  miner: ['subscribe', 'hello', 'authorize', 'submit', 'hashrate', 'generic'],
  pool: ['notify', 'set_difficulty', 'set_target', 'set', 'reconnect', 'generic'],
};
export const METHOD_FAMILIES: Readonly<Record<string, Readonly<Record<Sender, readonly string[]>>>> = { stratum: STRATUM_SHAPES };

interface RuleSchema {
  /** Numeric parameters and whether each is required. */
  params: Readonly<Record<string, boolean>>;
  ports: boolean;
  /** Takes types=<pool types> (which list entries the rule applies to). */
  types?: boolean;
  /** The rule's own confidence is meaningful (dns.learn has none). */
  confidence: boolean;
}

/** Evidence kinds a rule line may switch on, with their parameters. */
export const RULE_SCHEMAS: Readonly<Record<string, RuleSchema>> = {
  'dns.query': { params: { 'repeat-seconds': false }, ports: false, confidence: true },
  'dns.learn': { params: { 'ttl-floor': true, 'ttl-cap': true, 'max-entries': true }, ports: false, confidence: false, types: true },
  'tls.sni': { params: {}, ports: false, confidence: true },
  'http.host': { params: {}, ports: false, confidence: true },
  'endpoint.sustained': { params: { 'min-seconds': true, 'min-packets': true }, ports: false, confidence: true },
  'endpoint.syn': { params: {}, ports: false, confidence: true },
  'sv2.noise': { params: { 'client-bytes': true, 'server-bytes': true }, ports: true, confidence: true },
  'sv2.setup': { params: {}, ports: false, confidence: true },
  'agent.known-miner': { params: {}, ports: false, confidence: true },
};

const CONFIDENCES: readonly Confidence[] = ['low', 'medium', 'high'];
const METHOD_FIELDS = ['family', 'sender', 'strength', 'shape', 'source'];
const MARKER_FIELDS = ['dialect', 'source'];
const RULE_FIELDS = ['confidence', 'ports', 'port-confidence', 'types', 'source', ...new Set(Object.values(RULE_SCHEMAS).flatMap((s) => Object.keys(s.params)))];

export interface ProtocolFile {
  methods: MethodRule[];
  markers: MarkerRule[];
  rules: EvidenceRule[];
}

export function parseProtocolFile(text: string, file: string, problems: SignatureProblem[]): ProtocolFile {
  const out: ProtocolFile = { methods: [], markers: [], rules: [] };
  const allFields = [...new Set([...METHOD_FIELDS, ...MARKER_FIELDS, ...RULE_FIELDS])];
  for (const line of parseLines(text, file, allFields, problems)) {
    const fail = (message: string): void => {
      problems.push({ file, line: line.line, message });
    };
    const [kind, subject, ...extra] = line.words;
    if (subject === undefined || extra.length > 0) {
      fail(`expected '<method|marker|rule> <name> key=value...', got '${line.words.join(' ')}'`);
      continue;
    }
    const allowed = kind === 'method' ? METHOD_FIELDS : kind === 'marker' ? MARKER_FIELDS : kind === 'rule' ? RULE_FIELDS : null;
    if (allowed === null) {
      fail(`unknown line kind '${kind}' (expected method, marker or rule)`);
      continue;
    }
    const stray = [...line.fields.keys()].find((k) => !allowed.includes(k));
    if (stray) {
      fail(`field '${stray}' does not apply to a ${kind} line`);
      continue;
    }
    const origin = originOf(file, line);
    if (kind === 'method') {
      const m = methodRule(subject, line.fields, fail);
      if (m) out.methods.push({ ...m, origin });
    } else if (kind === 'marker') {
      const dialect = fieldOf(line, 'dialect');
      if (!dialect) fail('marker needs dialect=');
      else out.markers.push({ text: subject, dialect, origin });
    } else {
      const r = evidenceRule(subject, line.fields, fail);
      if (r) out.rules.push({ ...r, origin });
    }
  }
  return out;
}

function methodRule(method: string, f: ReadonlyMap<string, string>, fail: (m: string) => void): Omit<MethodRule, 'origin'> | null {
  const family = f.get('family');
  const shapes = family === undefined ? undefined : METHOD_FAMILIES[family];
  if (!shapes) {
    fail(`family=${family ?? ''}: expected one of ${Object.keys(METHOD_FAMILIES).join(', ')}`);
    return null;
  }
  const sender = f.get('sender');
  if (sender !== 'miner' && sender !== 'pool') {
    fail('sender= must be miner or pool');
    return null;
  }
  const strength = f.get('strength');
  if (strength !== 'strong' && strength !== 'weak') {
    fail('strength= must be strong or weak');
    return null;
  }
  const shape = f.get('shape') ?? 'generic';
  if (!shapes[sender].includes(shape)) {
    fail(`shape=${shape}: a ${family} ${sender} method takes one of ${shapes[sender].join(', ')}`);
    return null;
  }
  return { family: family!, method, sender, strong: strength === 'strong', shape };
}

function evidenceRule(name: string, f: ReadonlyMap<string, string>, fail: (m: string) => void): Omit<EvidenceRule, 'origin'> | null {
  const schema = RULE_SCHEMAS[name];
  if (!schema) {
    fail(`unknown rule '${name}' (expected ${Object.keys(RULE_SCHEMAS).join(', ')})`);
    return null;
  }
  const confidence = (f.get('confidence') ?? (schema.confidence ? undefined : 'low')) as Confidence | undefined;
  if (confidence === undefined || !CONFIDENCES.includes(confidence)) {
    fail(`rule ${name} needs confidence=low|medium|high`);
    return null;
  }
  const params = new Map<string, number>();
  for (const [key, value] of f) {
    if (key === 'confidence' || key === 'source' || key === 'ports' || key === 'types') continue;
    if (key === 'port-confidence') {
      if (!schema.ports || !CONFIDENCES.includes(value as Confidence)) {
        fail(`port-confidence=${value} is not valid for rule ${name}`);
        return null;
      }
      params.set(key, CONFIDENCES.indexOf(value as Confidence));
      continue;
    }
    if (!(key in schema.params)) {
      fail(`rule ${name} takes no '${key}'`);
      return null;
    }
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || !/^\d+(\.\d+)?$/.test(value)) {
      fail(`${key}=${value} is not a non-negative number`);
      return null;
    }
    params.set(key, n);
  }
  for (const [key, required] of Object.entries(schema.params)) {
    if (required && !params.has(key)) {
      fail(`rule ${name} needs ${key}=`);
      return null;
    }
  }
  const ports: PortRange[] = [];
  const portsText = f.get('ports');
  if (portsText !== undefined) {
    if (!schema.ports) {
      fail(`rule ${name} takes no ports=`);
      return null;
    }
    for (const part of portsText.split(',')) {
      const range = parsePorts(part);
      if (!range) {
        fail(`ports=${portsText}: bad port or range '${part}'`);
        return null;
      }
      ports.push(range);
    }
  }
  let types: PoolType[] | null = null;
  const typesText = f.get('types');
  if (typesText !== undefined) {
    if (!schema.types) {
      fail(`rule ${name} takes no types=`);
      return null;
    }
    types = [];
    for (const t of typesText.split(',')) {
      if (!POOL_TYPES.includes(t as PoolType)) {
        fail(`types=${typesText}: '${t}' is not one of ${POOL_TYPES.join(', ')}`);
        return null;
      }
      types.push(t as PoolType);
    }
  }
  return { name, confidence, params, ports, types };
}

/** The protocol rules of a signature set, indexed for the detectors. */
export class ProtocolRules {
  private readonly methodsByFamily = new Map<string, Map<string, MethodRule>>();
  private readonly rulesByName = new Map<string, EvidenceRule>();

  constructor(
    readonly methods: readonly MethodRule[] = [],
    readonly markers: readonly MarkerRule[] = [],
    readonly rules: readonly EvidenceRule[] = [],
  ) {
    for (const m of methods) {
      let byName = this.methodsByFamily.get(m.family);
      if (!byName) this.methodsByFamily.set(m.family, (byName = new Map()));
      if (!byName.has(m.method)) byName.set(m.method, m);
    }
    for (const r of rules) if (!this.rulesByName.has(r.name)) this.rulesByName.set(r.name, r);
  }

  method(family: string, name: string): MethodRule | undefined {
    return this.methodsByFamily.get(family)?.get(name);
  }

  /** The dialect a protocol string announces (its longest matching marker), if any. */
  markerDialect(text: unknown): MarkerRule | undefined {
    if (typeof text !== 'string') return undefined;
    let best: MarkerRule | undefined;
    for (const m of this.markers) if (text.startsWith(m.text) && (!best || m.text.length > best.text.length)) best = m;
    return best;
  }

  rule(name: string): EvidenceRule | undefined {
    return this.rulesByName.get(name);
  }

  /** The same method and marker rules with every evidence rule off (payload detectors only). */
  withoutEvidenceRules(): ProtocolRules {
    return new ProtocolRules(this.methods, this.markers, []);
  }
}

export function portInRanges(port: number, ranges: readonly PortRange[]): boolean {
  for (const r of ranges) if (port >= r.low && port <= r.high) return true;
  return false;
}
