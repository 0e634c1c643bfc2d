/**
 * Asset-map benchmark: builds a CSV of a million prefixes (IPv6 /48–/64 inside
 * 2001:db8::/32 plus nested IPv4 prefixes in the documentation ranges, a hundred thousand
 * owners), parses it, and times a million lookups. Same code path for both families (one
 * map per prefix length). Prints load time, lookup rate and heap growth; exits non-zero
 * when the budget below is exceeded, so CI can run it as a check if wanted.
 *
 *   node --expose-gc --import tsx scripts/bench-assets.ts [prefixes] [lookups]
 *
 * (--expose-gc only makes the memory figure exact.)
 */
import { AssetMap } from '../src/store/asset-map.js';
import { seededRandom } from '../src/synth/rng.js';

const PREFIXES = Number(process.argv[2] ?? 1_000_000);
const LOOKUPS = Number(process.argv[3] ?? 1_000_000);
/** Budget on a busy CI machine: generous, to catch a quadratic slip, not a few %. */
const MAX_LOAD_SECONDS = 30;
const MIN_LOOKUPS_PER_SECOND = 50_000;

const rand = seededRandom(20_241_122);
const hex4 = (): string => Math.floor(rand() * 0x10000).toString(16);

function buildCsv(n: number): string {
  const lines = ['prefix,owner_id,name,place,tags'];
  // Nested IPv4 documentation prefixes (there are only a few hundred distinct ones).
  for (const base of ['192.0.2', '198.51.100', '203.0.113']) {
    lines.push(`${base}.0/24,NET-${base},Network ${base},,doc`);
    for (let i = 0; i < 256; i += 16) lines.push(`${base}.${i}/28,BLK-${base}-${i},Block ${i},,doc`);
    for (let i = 0; i < 256; i += 3) lines.push(`${base}.${i},HOST-${base}-${i},Host ${i},Room ${i % 40},doc;host`);
  }
  while (lines.length <= n) {
    const owner = Math.floor(rand() * 100_000);
    const len = 48 + Math.floor(rand() * 17);
    lines.push(`2001:db8:${hex4()}:${hex4()}:${hex4()}::/${len},SUB-${owner},Subscriber ${owner},"Street ${owner % 997}, Town",residential`);
  }
  return `${lines.join('\n')}\n`;
}

function ms(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

const gc = (globalThis as { gc?: () => void }).gc;
const csv = buildCsv(PREFIXES);
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
let t = process.hrtime.bigint();
const map = AssetMap.parse(csv, 'bench.csv');
const parseMs = ms(t);
t = process.hrtime.bigint();
const size = map.size; // builds the index
const indexMs = ms(t);
const loadMs = parseMs + indexMs;

gc?.();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;

const queries: string[] = [];
for (let i = 0; i < Math.min(LOOKUPS, 100_000); i++) {
  queries.push(i % 10 === 0 ? `198.51.100.${Math.floor(rand() * 256)}` : `2001:db8:${hex4()}:${hex4()}:${hex4()}:${hex4()}::1`);
}
let hits = 0;
t = process.hrtime.bigint();
for (let i = 0; i < LOOKUPS; i++) if (map.lookup(queries[i % queries.length]!)) hits++;
const lookupMs = ms(t);
const rate = LOOKUPS / (lookupMs / 1000);

console.log(
  `prefixes loaded: ${size.toLocaleString('en-US')} distinct in ${(loadMs / 1000).toFixed(2)} s ` +
    `(parse ${(parseMs / 1000).toFixed(2)} s, index ${(indexMs / 1000).toFixed(2)} s)` +
    (gc ? `, heap +${heapMb.toFixed(0)} MB` : ''),
);
console.log(`lookups: ${LOOKUPS.toLocaleString('en-US')} in ${(lookupMs / 1000).toFixed(2)} s, ${Math.round(rate).toLocaleString('en-US')}/s, ${hits.toLocaleString('en-US')} matched`);
if (loadMs / 1000 > MAX_LOAD_SECONDS || rate < MIN_LOOKUPS_PER_SECOND) {
  console.error(`over budget: load <= ${MAX_LOAD_SECONDS} s and >= ${MIN_LOOKUPS_PER_SECOND.toLocaleString('en-US')} lookups/s expected`);
  process.exit(1);
}
