/** One entry point: the share event a message carries, whatever its dialect. */
import type { FlowFacts, JsonMessage } from '../dialect.js';
import { beamEvents } from './beam.js';
import { cryptonoteEvents } from './cryptonote.js';
import { ethproxyEvents } from './ethproxy.js';
import { httpWorkEvents } from './http-work.js';
import { stratumEvents } from './stratum.js';
import type { ShareEvent } from './types.js';

const READERS: readonly ((msg: JsonMessage, fromMiner: boolean, facts: FlowFacts) => ShareEvent | null)[] = [
  stratumEvents,
  cryptonoteEvents,
  ethproxyEvents,
  httpWorkEvents,
  beamEvents,
];

export function shareEventOf(msg: JsonMessage, fromMiner: boolean, facts: FlowFacts): ShareEvent | null {
  for (const read of READERS) {
    const event = read(msg, fromMiner, facts);
    if (event) return event;
  }
  return null;
}

export { classifyReply, idKey, replyId } from './replies.js';
export type { ReplyVerdict, ShareEvent, WorkSize } from './types.js';
