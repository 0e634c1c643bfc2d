/**
 * An operator's asset map: CSV rows mapping an IP or CIDR prefix to the subscriber or
 * owner behind it (penetrating supervision: from "this IP mines" to "who"). The most
 * specific prefix wins. Format (header row required, columns by name, any order):
 *
 *   prefix,owner_id,name,place,tags
 *   198.51.100.0/24,ACME-001,"Acme Hosting, Ltd",Hall 2,datacenter;hosting
 *   198.51.100.7,SUB-88412,J. Doe,Flat 3,residential
 *
 * Accepted header names: prefix|cidr|ip|network, owner_id|owner|subscriber|subscriber_id,
 * name|entity|entity_name, place|address|location, tags (split on ';' or '|').
 * Blank lines and lines starting with '#' are skipped. A later row for the same prefix
 * replaces an earlier one.
 */
import { readFileSync } from 'node:fs';
import { formatIp, parseIp } from '../decode/address.js';
import { maskWords, PrefixTable } from './prefix-table.js';

export interface Owner {
  ownerId: string | null;
  name: string | null;
  place: string | null;
  tags: string[];
}

export interface OwnerMatch extends Owner {
  /** The matched prefix, canonical ('198.51.100.0/24'). */
  prefix: string;
}

export class AssetMapError extends Error {
  override name = 'AssetMapError';
}

const COLUMN_NAMES: Readonly<Record<string, keyof Columns>> = {
  prefix: 'prefix',
  cidr: 'prefix',
  ip: 'prefix',
  network: 'prefix',
  owner_id: 'ownerId',
  owner: 'ownerId',
  subscriber: 'ownerId',
  subscriber_id: 'ownerId',
  name: 'name',
  entity: 'name',
  entity_name: 'name',
  place: 'place',
  address: 'place',
  location: 'place',
  tags: 'tags',
};

interface Columns {
  prefix: number;
  ownerId: number;
  name: number;
  place: number;
  tags: number;
}

export class AssetMap {
  /** Owners, deduplicated (many prefixes usually share one owner). */
  private readonly owners: Owner[] = [];
  private readonly ownerIndex = new Map<string, number>();
  private readonly table = new PrefixTable<number>();

  private constructor(readonly name: string) {}

  static load(path: string): AssetMap {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AssetMapError(`cannot read asset map ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return AssetMap.parse(text, path);
  }

  static parse(text: string, name = 'assets'): AssetMap {
    const map = new AssetMap(name);
    let columns: Columns | null = null;
    // Line by line without splitting the whole text first: a million-row map stays one string.
    for (let pos = 0, lineNo = 1; pos < text.length; lineNo++) {
      const nl = text.indexOf('\n', pos);
      const stop = nl < 0 ? text.length : nl;
      const line = text.slice(pos, stop > pos && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop);
      pos = stop + 1;
      if (line.trim() === '' || line.startsWith('#')) continue;
      const cells = splitCsvLine(line, () => new AssetMapError(`${name}:${lineNo}: unterminated quote`));
      if (columns === null) columns = headerColumns(cells, name);
      else map.addRow(cells, columns, `${name}:${lineNo}`);
    }
    if (columns === null) throw new AssetMapError(`${name}: no header row (expected prefix,owner_id,name,place,tags)`);
    return map;
  }

  /** Prefixes loaded. */
  get size(): number {
    return this.table.size;
  }

  /** The owner of the most specific prefix holding `ip`, or null. IPv4-mapped IPv6
   *  addresses are looked up as IPv4. */
  lookup(ip: string): OwnerMatch | null {
    const parsed = parseIp(ip);
    if (!parsed) return null;
    let { version, words } = parsed;
    if (version === 6 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
      version = 4;
      words = Uint32Array.of(words[3]!, 0, 0, 0);
    }
    const hit = this.table.lookup(version, words);
    if (!hit) return null;
    const owner = this.owners[hit.value]!;
    return { ...owner, tags: [...owner.tags], prefix: `${formatIp(version, maskWords(words, hit.length))}/${hit.length}` };
  }

  private addRow(cells: string[], columns: Columns, where: string): void {
    const prefixText = (cells[columns.prefix] ?? '').trim();
    const slash = prefixText.indexOf('/');
    const addr = slash < 0 ? prefixText : prefixText.slice(0, slash);
    const parsed = parseIp(addr);
    if (!parsed) throw new AssetMapError(`${where}: not an IP address or prefix: '${prefixText.slice(0, 60)}'`);
    const maxLength = parsed.version === 4 ? 32 : 128;
    const length = slash < 0 ? maxLength : Number(prefixText.slice(slash + 1));
    if (!Number.isInteger(length) || length < 0 || length > maxLength || (slash >= 0 && !/^\d{1,3}$/.test(prefixText.slice(slash + 1)))) {
      throw new AssetMapError(`${where}: bad prefix length in '${prefixText.slice(0, 60)}'`);
    }
    const cell = (i: number): string | null => {
      const v = i < 0 ? '' : (cells[i] ?? '').trim();
      return v === '' ? null : v;
    };
    const tagsText = cell(columns.tags);
    const owner: Owner = {
      ownerId: cell(columns.ownerId),
      name: cell(columns.name),
      place: cell(columns.place),
      tags: tagsText === null ? [] : tagsText.split(/[;|]/).map((t) => t.trim()).filter(Boolean),
    };
    const key = `${owner.ownerId}\u0000${owner.name}\u0000${owner.place}\u0000${owner.tags.join('\u0000')}`;
    let index = this.ownerIndex.get(key);
    if (index === undefined) {
      index = this.owners.length;
      this.owners.push(owner);
      this.ownerIndex.set(key, index);
    }
    this.table.set(parsed.version, parsed.words, length, index);
  }
}

function headerColumns(cells: string[], name: string): Columns {
  const columns: Columns = { prefix: -1, ownerId: -1, name: -1, place: -1, tags: -1 };
  cells.forEach((cell, i) => {
    const field = COLUMN_NAMES[cell.trim().toLowerCase()];
    if (field !== undefined && columns[field] < 0) columns[field] = i;
  });
  if (columns.prefix < 0) throw new AssetMapError(`${name}: the header names no prefix column (prefix, cidr, ip or network)`);
  return columns;
}

/** One CSV line (RFC 4180 quoting within the line: "a ""b"", c" is one cell). */
export function splitCsvLine(line: string, unterminated: () => Error): string[] {
  if (!line.includes('"')) return line.split(',');
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      // Quoted cell: runs to the next quote not doubled.
      let cell = '';
      let from = i + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q < 0) throw unterminated();
        cell += line.slice(from, q);
        if (line[q + 1] === '"') {
          cell += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // Anything between the closing quote and the comma is kept, as spreadsheets do.
      const comma = line.indexOf(',', i);
      cells.push(cell + line.slice(i, comma < 0 ? line.length : comma));
      if (comma < 0) return cells;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      cells.push(line.slice(i, comma < 0 ? line.length : comma));
      if (comma < 0) return cells;
      i = comma + 1;
    }
  }
}
