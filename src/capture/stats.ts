import { MAX_WARNINGS, type ReaderStats } from './types.js';

export function newReaderStats(): ReaderStats {
  return {
    format: null,
    gzip: false,
    nanosecond: false,
    packets: 0,
    packetBytes: 0,
    inputBytes: 0,
    corruptRecords: 0,
    resyncs: 0,
    skippedBytes: 0,
    unknownBlocks: 0,
    truncated: false,
    warnings: [],
  };
}

/** Adds a warning; the last free slot says that later ones were dropped, so the list stays bounded. */
export function addWarning(stats: ReaderStats, message: string): void {
  const count = stats.warnings.length;
  if (count < MAX_WARNINGS - 1) stats.warnings.push(message);
  else if (count === MAX_WARNINGS - 1) stats.warnings.push('further warnings suppressed');
}
