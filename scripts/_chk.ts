import { loadSignatureDir, countsText } from '../src/signatures/signature-set.js';
const r = loadSignatureDir(process.argv[2] ?? '/work/main/signatures', { requireSources: true });
console.log(r.problems, r.notes, countsText(r.counts));
