/**
 * The line syntax shared by every signature file:
 *
 *   # comment                      whole-line comment; `text  # comment` ends a line
 *   # Reference: <text>            (also `# Source:`) sets the source of the entries below,
 *                                  as maltrail trails write it
 *   @source <text>                 the same, explicitly
 *   @tags key=value ...            default tags for the entries below (`@tags` alone clears)
 *   subject [subject ...] key=value key="quoted value" ...
 *
 * Tokens are separated by blanks; a value may be double-quoted to hold blanks. Errors carry
 * the file and line.
 */
import type { Origin, SignatureProblem } from './types.js';

export interface SignatureLine {
  readonly line: number;
  /** Positional tokens (subjects). */
  readonly words: readonly string[];
  readonly fields: ReadonlyMap<string, string>;
  /** Source in force for this line (from @source / # Reference:), if any. */
  readonly source: string | undefined;
  /** Defaults from the last @tags. */
  readonly defaults: ReadonlyMap<string, string>;
}

const SOURCE_COMMENT = /^#\s*(?:reference|source)\s*:\s*(.+)$/i;

/** Parses a file's text into entry lines; directive and syntax errors go to `problems`. */
export function parseLines(text: string, file: string, known: readonly string[], problems: SignatureProblem[]): SignatureLine[] {
  const out: SignatureLine[] = [];
  let source: string | undefined;
  let defaults: ReadonlyMap<string, string> = new Map();
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/\r$/, '').trim();
    if (raw === '') continue;
    if (raw.startsWith('#')) {
      const m = SOURCE_COMMENT.exec(raw);
      if (m) source = m[1]!.trim();
      continue;
    }
    const fail = (message: string): void => {
      problems.push({ file, line: lineNo, message });
    };
    if (raw.startsWith('@')) {
      const space = raw.search(/\s/);
      const name = space < 0 ? raw.slice(1) : raw.slice(1, space);
      const rest = space < 0 ? '' : raw.slice(space).trim();
      if (name === 'source') {
        if (!rest) fail('@source needs a value');
        else source = stripComment(rest);
      } else if (name === 'tags') {
        const tokens = tokenize(stripComment(rest), fail);
        if (!tokens) continue;
        if (tokens.words.length) fail(`@tags takes key=value pairs only, got '${tokens.words[0]}'`);
        else if (knownFields(tokens.fields, known, fail)) defaults = tokens.fields;
      } else {
        fail(`unknown directive @${name} (expected @source or @tags)`);
      }
      continue;
    }
    const tokens = tokenize(stripComment(raw), fail);
    if (!tokens || tokens.words.length === 0) {
      if (tokens) fail('a line needs a subject before its key=value fields');
      continue;
    }
    if (!knownFields(tokens.fields, known, fail)) continue;
    out.push({ line: lineNo, words: tokens.words, fields: tokens.fields, source, defaults });
  }
  return out;
}

/** Drops a trailing ` # comment` (a '#' after a blank, outside quotes). */
function stripComment(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (c === HASH && !quoted && i > 0 && isBlank(text.charCodeAt(i - 1))) return text.slice(0, i).trimEnd();
  }
  return text;
}

const QUOTE = 0x22;
const HASH = 0x23;

/** What `\s` matches, by character code: this runs for every character of every signature
 *  file at each start, where a regular expression per character cost milliseconds. */
function isBlank(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && /\s/.test(String.fromCharCode(c)));
}

interface Tokens {
  words: string[];
  fields: Map<string, string>;
}

function tokenize(text: string, fail: (message: string) => void): Tokens | null {
  const words: string[] = [];
  const fields = new Map<string, string>();
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isBlank(text.charCodeAt(i))) i++;
    if (i >= n) break;
    let token = '';
    let sawQuote = false;
    // Unquoted runs are sliced whole; a quoted part adds what lies between its quotes.
    let run = i;
    while (i < n && !isBlank(text.charCodeAt(i))) {
      if (text.charCodeAt(i) === QUOTE) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) {
          fail('unterminated quoted value');
          return null;
        }
        token += text.slice(run, i) + text.slice(i + 1, close);
        sawQuote = true;
        i = close + 1;
        run = i;
      } else {
        i++;
      }
    }
    token += text.slice(run, i);
    const eq = token.indexOf('=');
    // key=value: a bare word before '='; a quoted word stays positional.
    if (eq > 0 && /^[a-z][a-z0-9_-]*$/.test(token.slice(0, eq))) {
      const key = token.slice(0, eq);
      if (fields.has(key)) {
        fail(`field '${key}' given twice`);
        return null;
      }
      fields.set(key, token.slice(eq + 1));
    } else if (eq === 0 && !sawQuote) {
      fail(`'${token}' has no key before '='`);
      return null;
    } else {
      words.push(token);
    }
  }
  return { words, fields };
}

/** The value of a field on the line, or its @tags default. */
export function fieldOf(line: SignatureLine, key: string): string | undefined {
  return line.fields.get(key) ?? line.defaults.get(key);
}

function knownFields(fields: ReadonlyMap<string, string>, known: readonly string[], fail: (message: string) => void): boolean {
  for (const key of fields.keys()) {
    if (!known.includes(key)) {
      fail(`unknown field '${key}' (expected ${known.join(', ')})`);
      return false;
    }
  }
  return true;
}

/** The origin of an entry line: file, line and the source in force. */
export function originOf(file: string, line: SignatureLine): Origin {
  const source = line.fields.get('source') ?? line.source;
  return source ? { file, line: line.line, source } : { file, line: line.line };
}
