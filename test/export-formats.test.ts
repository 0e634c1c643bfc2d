import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evidence } from '../src/detect/types.js';
import { writeFileAtomic } from '../src/export/atomic-write.js';
import { csvCell, toCsv } from '../src/export/csv.js';
import { EXPORT_FORMATS, isExportFormat, renderExport } from '../src/export/formats.js';
import { toJson, toNdjson } from '../src/export/json.js';
import { EXPORT_FIELDS } from '../src/export/records.js';
import { toTxt } from '../src/export/txt.js';
import { HitStore } from '../src/store/hit-store.js';
import type { IpSummary } from '../src/store/types.js';
import { scratchDir } from './support/scratch.js';

const T0 = Date.UTC(2024, 2, 1, 8, 30) * 1000;

function evidence(overrides: Partial<Evidence>): Evidence {
  return {
    tsMicros: T0,
    minerIp: '192.0.2.10',
    minerPort: 40001,
    poolIp: '203.0.113.5',
    poolPort: 3333,
    transport: 'tcp',
    dialect: 'stratum',
    kind: 'mining.subscribe',
    confidence: 'high',
    detector: 'stratum',
    source: 'sample.pcap',
    ...overrides,
  };
}

/** Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF/LF record ends. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      // CRLF: handled on the \n
    } else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else {
      field += ch;
    }
  }
  expect(quoted).toBe(false);
  expect(field).toBe('');
  return records;
}

let dir: string;
let rows: IpSummary[];

beforeAll(() => {
  dir = scratchDir('minewatch-export-');
  const store = HitStore.open(join(dir, 'minewatch.db'));
  // Hostile identities and agents: separators, quotes, newlines and spreadsheet formulas.
  store.add(evidence({ worker: 'rig,one', agent: 'bfgminer "5.5"' }));
  store.add(evidence({ tsMicros: T0 + 1, kind: 'mining.authorize', worker: '=HYPERLINK("http://203.0.113.9")' }));
  store.add(evidence({ tsMicros: T0 + 2, kind: 'mining.submit', worker: 'line1\nline2' }));
  store.add(evidence({ minerIp: '192.0.2.9', minerPort: 40002, worker: '-2+3', agent: '@SUM(A1)' }));
  store.add(evidence({ minerIp: '2001:db8::a', minerPort: 50000, poolIp: '2001:db8::b', worker: '\tcmd', login: '+1' }));
  store.close();
  const reader = HitStore.open(join(dir, 'minewatch.db'), { readonly: true });
  rows = reader.listIps({ role: 'any' });
  reader.close();
  rows.reverse(); // exporters must order by themselves
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const ORDER = ['192.0.2.9/miner', '192.0.2.10/miner', '203.0.113.5/pool', '2001:db8::a/miner', '2001:db8::b/pool'];

describe('csv', () => {
  it('has a header, one record per row in IP order, and round-trips hostile text', () => {
    const text = toCsv(rows);
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual([...EXPORT_FIELDS]);
    expect(records.map((r) => `${r[0]}/${r[1]}`)).toEqual(ORDER);

    const byIp = new Map(records.map((r) => [`${r[0]}/${r[1]}`, Object.fromEntries(header!.map((h, i) => [h, r[i]]))]));
    const miner = byIp.get('192.0.2.10/miner')!;
    expect(miner).toMatchObject({
      first_seen: '2024-03-01T08:30:00.000000Z',
      last_seen: '2024-03-01T08:30:00.000002Z',
      hits: '3',
      dialects: 'stratum',
      peers: '203.0.113.5:3333',
      agents: 'bfgminer "5.5"',
    });
    // Sorted distinct identities joined with ';', each formula-like item neutralised.
    expect(miner.identities).toBe(`'=HYPERLINK("http://203.0.113.9");line1\nline2;rig,one`);
    expect(byIp.get('192.0.2.9/miner')).toMatchObject({ identities: "'-2+3", agents: "'@SUM(A1)" });
    expect(byIp.get('2001:db8::a/miner')).toMatchObject({ identities: "'\tcmd;'+1", peers: '[2001:db8::b]:3333' });
    // No item after a ';' can start a formula either.
    for (const record of records) for (const cell of record) expect(cell).not.toMatch(/;[=+\-@\t\r]/);
    expect(byIp.get('2001:db8::b/pool')?.peers).toBe('[2001:db8::a]:50000');
  });

  it('quotes only when needed and neutralises every formula lead character', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@x')).toBe("'@x");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('=a,b')).toBe(`"'=a,b"`);
    expect(csvCell('a;b')).toBe('"a;b"');
  });

  it('is just the header for no rows', () => {
    expect(toCsv([])).toBe(`${EXPORT_FIELDS.join(',')}\r\n`);
  });
});

/** What a summary exports as when the database holds no sessions and no asset map is given. */
const NO_INTEL = {
  sessions: 0,
  concurrent_sessions: 0,
  workers: 0,
  wallets: 0,
  algorithms: [],
  coins: [],
  shares_submitted: 0,
  shares_accepted: 0,
  shares_rejected: 0,
  hashrate_algo: null,
  hashrate_unit: null,
  est_hashrate: null,
  est_hashrate_low: null,
  est_hashrate_high: null,
  self_reported_hashrate: null,
  est_power_w: null,
  est_power_w_low: null,
  est_power_w_high: null,
  est_kwh_day: null,
  est_kwh_day_low: null,
  est_kwh_day_high: null,
  farm: false,
  owner_status: 'no-asset-map',
  owner_prefix: null,
  owner_id: null,
  owner_name: null,
  owner_place: null,
  owner_tags: [],
};

describe('json and ndjson', () => {
  it('json is an array of objects with list fields as arrays', () => {
    const parsed = JSON.parse(toJson(rows)) as Record<string, unknown>[];
    expect(parsed.map((r) => `${String(r.ip)}/${String(r.role)}`)).toEqual(ORDER);
    expect(Object.keys(parsed[0]!)).toEqual([...EXPORT_FIELDS]);
    expect(parsed[1]).toEqual({
      ip: '192.0.2.10',
      role: 'miner',
      first_seen: '2024-03-01T08:30:00.000000Z',
      last_seen: '2024-03-01T08:30:00.000002Z',
      hits: 3,
      dialects: ['stratum'],
      peers: ['203.0.113.5:3333'],
      identities: ['=HYPERLINK("http://203.0.113.9")', 'line1\nline2', 'rig,one'],
      agents: ['bfgminer "5.5"'],
      ...NO_INTEL,
    });
    expect(JSON.parse(toJson([]))).toEqual([]);
  });

  it('ndjson has one object per line matching the json export', () => {
    const text = toNdjson(rows);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(rows.length);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(JSON.parse(toJson(rows)));
    expect(toNdjson([])).toBe('');
  });
});

describe('txt', () => {
  it('lists each distinct IP once, sorted', () => {
    expect(toTxt(rows)).toBe('192.0.2.9\n192.0.2.10\n203.0.113.5\n2001:db8::a\n2001:db8::b\n');
    // An IP seen as miner and as pool appears once.
    const both: IpSummary[] = [rows[0]!, { ...rows[0]!, role: rows[0]!.role === 'miner' ? 'pool' : 'miner' }];
    expect(toTxt(both).split('\n').filter(Boolean)).toEqual([rows[0]!.ip]);
    expect(toTxt([])).toBe('');
  });
});

describe('format registry', () => {
  it('knows exactly the five formats and renders each deterministically', () => {
    expect(EXPORT_FORMATS).toEqual(['csv', 'json', 'ndjson', 'txt', 'eve']);
    expect(isExportFormat('xml')).toBe(false);
    for (const format of EXPORT_FORMATS) {
      expect(renderExport(format, rows)).toBe(renderExport(format, [...rows].reverse()));
    }
  });
});

describe('writeFileAtomic', () => {
  it('replaces the target in one step and leaves no temp file', () => {
    const target = join(dir, 'out.csv');
    writeFileSync(target, 'old content');
    writeFileAtomic(target, toCsv(rows));
    expect(readFileSync(target, 'utf8')).toBe(toCsv(rows));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves nothing behind when the directory does not exist', () => {
    expect(() => writeFileAtomic(join(dir, 'missing', 'out.csv'), 'x')).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
