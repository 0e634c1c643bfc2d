/**
 * Miner agent-string patterns: the software name a miner announces (stratum subscribe,
 * CryptoNote login `agent`, HTTP User-Agent). One line per pattern:
 *
 *   XMRig        prefix=XMRig/
 *   EWBF         prefix="EWBF "
 *   SRBMiner     regex=^SRBMiner[- ]
 *
 * Matching ignores case.
 */
import { fieldOf, originOf, parseLines } from './lines.js';
import type { AgentMatchKind, AgentRule, SignatureProblem } from './types.js';

const FIELDS = ['prefix', 'contains', 'regex', 'source'] as const;
const KINDS: readonly AgentMatchKind[] = ['prefix', 'contains', 'regex'];

export function parseAgentFile(text: string, file: string, problems: SignatureProblem[]): AgentRule[] {
  const rules: AgentRule[] = [];
  for (const line of parseLines(text, file, FIELDS, problems)) {
    const fail = (message: string): void => {
      problems.push({ file, line: line.line, message });
    };
    if (line.words.length !== 1) {
      fail(`expected one miner name, got '${line.words.join(' ')}' (quote names with blanks)`);
      continue;
    }
    const given = KINDS.filter((k) => line.fields.has(k));
    if (given.length !== 1) {
      fail('give exactly one of prefix=, contains=, regex=');
      continue;
    }
    const match = given[0]!;
    const pattern = fieldOf(line, match)!;
    if (pattern === '') {
      fail(`${match}= is empty`);
      continue;
    }
    let regex: RegExp | null = null;
    if (match === 'regex') {
      try {
        regex = new RegExp(pattern, 'i');
      } catch (err) {
        fail(`bad regex: ${(err as Error).message}`);
        continue;
      }
    }
    rules.push({ miner: line.words[0]!, match, pattern: match === 'regex' ? pattern : pattern.toLowerCase(), regex, origin: originOf(file, line) });
  }
  return rules;
}

export class AgentMatcher {
  constructor(readonly rules: readonly AgentRule[] = []) {}

  /** The first rule that matches the agent string, or null. */
  match(agent: string | undefined): AgentRule | null {
    if (!agent || this.rules.length === 0) return null;
    const lower = agent.toLowerCase();
    for (const r of this.rules) {
      if (r.match === 'prefix' ? lower.startsWith(r.pattern) : r.match === 'contains' ? lower.includes(r.pattern) : r.regex!.test(agent)) return r;
    }
    return null;
  }
}
