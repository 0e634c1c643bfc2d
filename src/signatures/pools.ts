/**
 * Pool endpoint lists. One parser reads the native lines and the public list formats as
 * they are, line by line: hosts files (`0.0.0.0 pool.example other.example`), plain domain
 * lists, plain IP/CIDR lists and maltrail-style trails (domain, IP or IP:port, `#` comments,
 * `# Reference:` lines naming the source). Native lines add tags:
 *
 *   *.supportxmr.com   pool=SupportXMR coin=xmr dialect=cryptonote
 *   !www.supportxmr.com                      (exception: the pool's web site)
 *   198.51.100.0/24:3333-3340 pool=Example type=pool
 *
 * PoolIndex answers "is this name / address:port a pool endpoint?" with map lookups.
 */
import { parseIp } from '../decode/address.js';
import { parseEndpoint, maskWord, normalizeHostName, type ParsedEndpoint } from './endpoint-syntax.js';
import { fieldOf, originOf, parseLines } from './lines.js';
import { anySuffixListed, reversedNameHash } from './name-hash.js';
import { POOL_TYPES, type PoolEntry, type PoolTags, type PoolType, type SignatureProblem } from './types.js';

const FIELDS = ['pool', 'coin', 'dialect', 'type', 'source'] as const;
/** Names hosts files carry for the machine itself, not blocklist entries. */
const HOSTS_BOILERPLATE = new Set(['localhost', 'localhost.localdomain', 'local', 'broadcasthost']);

export function parsePoolFile(text: string, file: string, problems: SignatureProblem[]): PoolEntry[] {
  const entries: PoolEntry[] = [];
  for (const line of parseLines(text, file, FIELDS, problems)) {
    const fail = (message: string): void => {
      problems.push({ file, line: line.line, message });
    };
    const type = (fieldOf(line, 'type') ?? 'pool') as PoolType;
    if (!POOL_TYPES.includes(type)) {
      fail(`type '${type}' is not one of ${POOL_TYPES.join(', ')}`);
      continue;
    }
    const tags: PoolTags = compact({
      pool: fieldOf(line, 'pool'),
      coin: fieldOf(line, 'coin'),
      dialect: fieldOf(line, 'dialect'),
      type,
    });
    const origin = originOf(file, line);
    const hostNames = hostsLineNames(line.words);
    if (hostNames === null && line.words.length > 1) {
      fail(`one endpoint per line, got '${line.words.join(' ')}'`);
      continue;
    }
    for (const token of hostNames ?? line.words) {
      const parsed = parseEndpoint(token);
      if (typeof parsed === 'string') {
        fail(parsed);
        continue;
      }
      if (hostNames !== null && parsed.kind !== 'domain') {
        fail(`hosts line: '${token}' is not a host name`);
        continue;
      }
      entries.push({ kind: parsed.kind, value: parsed.value, ports: parsed.ports, exclude: parsed.exclude, tags, origin, ...cidrOf(parsed) });
    }
  }
  return entries;
}

/** A hosts-file line (`<address> <name> [<name>...]`): its names; null for any other line. */
function hostsLineNames(words: readonly string[]): string[] | null {
  if (words.length < 2 || parseIp(words[0]!) === null) return null;
  // The machine's own names (localhost, ip6-localhost) are hosts-file boilerplate, not entries.
  return words.slice(1).filter((w) => !HOSTS_BOILERPLATE.has(w.toLowerCase()) && !/^ip6-/i.test(w) && parseIp(w) === null);
}

function compact(tags: { [K in keyof PoolTags]: PoolTags[K] | undefined }): PoolTags {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tags)) if (v !== undefined && v !== '') out[k] = v;
  return out as unknown as PoolTags;
}

interface CidrEntry extends PoolEntry {
  readonly version?: 4 | 6;
  readonly words?: Uint32Array;
  readonly prefix?: number;
}

function cidrOf(p: ParsedEndpoint): Partial<CidrEntry> {
  return p.kind === 'cidr' ? { version: p.version, words: p.words, prefix: p.prefix } : {};
}

function portAllows(e: PoolEntry, port: number): boolean {
  return port === 0 || e.ports === null || (port >= e.ports.low && port <= e.ports.high);
}

function firstAllowing(list: readonly PoolEntry[] | undefined, port: number): PoolEntry | null {
  if (!list) return null;
  for (const e of list) if (portAllows(e, port)) return e;
  return null;
}

function push<K>(map: Map<K, PoolEntry[]>, key: K, e: PoolEntry): void {
  const list = map.get(key);
  if (list) list.push(e);
  else map.set(key, [e]);
}

interface V6Block {
  words: Uint32Array;
  prefix: number;
  entries: PoolEntry[];
}

export class PoolIndex {
  private readonly exact = new Map<string, PoolEntry[]>();
  private readonly wild = new Map<string, PoolEntry[]>();
  private readonly exceptExact = new Set<string>();
  private readonly exceptWild = new Set<string>();
  private readonly ips = new Map<string, PoolEntry[]>();
  /** IPv4 CIDR blocks: prefix length → network → entries; lengths longest first. */
  private readonly v4 = new Map<number, Map<number, PoolEntry[]>>();
  private v4Prefixes: number[] = [];
  private hashes: Set<number> | null = null;
  private readonly v6: V6Block[] = [];

  constructor(entries: readonly PoolEntry[] = []) {
    for (const e of entries) this.add(e);
    this.v4Prefixes = [...this.v4.keys()].sort((a, b) => b - a);
  }

  get hasNames(): boolean {
    return this.exact.size > 0 || this.wild.size > 0;
  }

  /** reversedNameHash of every listed name and wildcard suffix (exceptions left out). */
  get nameHashes(): ReadonlySet<number> {
    this.hashes ??= new Set([...this.exact.keys(), ...this.wild.keys()].map(reversedNameHash));
    return this.hashes;
  }

  get hasAddresses(): boolean {
    return this.ips.size > 0 || this.v4.size > 0 || this.v6.length > 0;
  }

  private add(e: PoolEntry): void {
    const c = e as CidrEntry;
    switch (e.kind) {
      case 'domain':
        if (e.exclude) this.exceptExact.add(e.value);
        else push(this.exact, e.value, e);
        break;
      case 'wildcard':
        if (e.exclude) this.exceptWild.add(e.value);
        else push(this.wild, e.value, e);
        break;
      case 'ip':
        push(this.ips, e.value, e);
        break;
      case 'cidr':
        if (c.version === 4) {
          let byNet = this.v4.get(c.prefix!);
          if (!byNet) this.v4.set(c.prefix!, (byNet = new Map()));
          push(byNet, c.words![0]!, e);
        } else {
          const block = this.v6.find((b) => b.prefix === c.prefix && sameWords(b.words, c.words!));
          if (block) block.entries.push(e);
          else this.v6.push({ words: c.words!, prefix: c.prefix!, entries: [e] });
        }
        break;
    }
  }

  /**
   * The entry for a host name (SNI, HTTP Host, DNS name): exceptions first, then the exact
   * name, then the most specific wildcard. `port` 0 matches any port range.
   */
  matchName(rawName: string, port = 0): PoolEntry | null {
    // Most names (SNI, HTTP Host) are not listed: a hash walk over the text rules them out
    // before normalisation builds strings.
    if (!this.hasNames || !anySuffixListed(rawName, this.nameHashes)) return null;
    const name = normalizeHostName(rawName);
    if (name === null || this.exceptExact.has(name)) return null;
    if (this.exceptWild.size > 0) {
      for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) {
        if (this.exceptWild.has(name.slice(i + 1))) return null;
      }
    }
    const hit = firstAllowing(this.exact.get(name), port);
    if (hit) return hit;
    if (this.wild.size === 0) return null;
    for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) {
      const e = firstAllowing(this.wild.get(name.slice(i + 1)), port);
      if (e) return e;
    }
    return null;
  }

  /** The entry listing an address (canonical text, as flows carry it) and port. */
  matchAddress(ip: string, port: number): PoolEntry | null {
    const hit = firstAllowing(this.ips.get(ip), port);
    if (hit || (this.v4.size === 0 && this.v6.length === 0)) return hit;
    const parsed = parseIp(ip);
    if (!parsed) return null;
    if (parsed.version === 4) {
      const word = parsed.words[0]!;
      for (const prefix of this.v4Prefixes) {
        const e = firstAllowing(this.v4.get(prefix)!.get(maskWord(word, prefix)), port);
        if (e) return e;
      }
      return null;
    }
    for (const b of this.v6) {
      if (inBlock(parsed.words, b)) {
        const e = firstAllowing(b.entries, port);
        if (e) return e;
      }
    }
    return null;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return false;
  return true;
}

function inBlock(words: Uint32Array, b: V6Block): boolean {
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, b.prefix - i * 32));
    if (bits === 0) return true;
    if (maskWord(words[i]!, bits) !== b.words[i]) return false;
  }
  return true;
}
