#!/usr/bin/env node
// Writes the tokenizer conformance goldens with the reference implementation: Hugging Face
// tokenizers 0.22.2 (Rust) through its N-API binding @anush008/tokenizers@0.6.0.
//
//   tools/fetch-tokenizers.sh --oracle
//   node tools/tokenizer-goldens.js <tokenizer folder> <cases.json>... > goldens.jsonl
//
// A case is a string, or {"hex": "..."} for raw bytes that need not be valid UTF-8; those are
// decoded the way Python and Rust read such bytes (one U+FFFD per maximal ill-formed
// subpart: WHATWG TextDecoder == String::from_utf8_lossy) before the oracle sees them.
// One JSON line per case, in case order: "case" (file name and index), ids and (up to 200)
// tokens without special tokens, and — only where they differ, to keep the goldens small — ids with special
// tokens (tokenizer.json's post-processor; else equal to ids), "decoded" (else equal to the
// case's text) and "decoded_skip_special" (else equal to decoded).
'use strict';
const fs = require('fs');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..');
const oracleModules = path.join(repoRoot, '.cache', 'tokenizer-oracle', 'node_modules');
let Tokenizer;
try {
  ({ Tokenizer } = require(path.join(oracleModules, '@anush008', 'tokenizers')));
} catch (error) {
  console.error('tokenizer-goldens: the oracle is not installed; run tools/fetch-tokenizers.sh --oracle');
  process.exit(1);
}

const [folder, ...caseFiles] = process.argv.slice(2);
if (!folder || caseFiles.length === 0) {
  console.error('usage: node tools/tokenizer-goldens.js <tokenizer folder> <cases.json>...');
  process.exit(2);
}

(async () => {
  const tokenizer = Tokenizer.fromFile(path.join(folder, 'tokenizer.json'));
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for (const file of caseFiles) {
    const cases = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const [index, item] of cases.entries()) {
      const isBytes = typeof item === 'object';
      const text = isBytes ? decoder.decode(Buffer.from(item.hex, 'hex')) : item;
      const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
      const special = await tokenizer.encode(text, null, { addSpecialTokens: true });
      const ids = Array.from(plain.getIds());
      const idsWithSpecial = Array.from(special.getIds());
      const record = { case: `${path.basename(file)}#${index}`, ids };
      // Token strings of long texts add size but no coverage beyond their ids.
      if (ids.length <= 200) record.tokens = plain.getTokens();
      if (JSON.stringify(idsWithSpecial) !== JSON.stringify(ids)) record.ids_with_special = idsWithSpecial;
      const decoded = await tokenizer.decode(ids, false);
      const decodedSkipSpecial = await tokenizer.decode(idsWithSpecial, true);
      if (decoded !== text) record.decoded = decoded;
      if (decodedSkipSpecial !== decoded) record.decoded_skip_special = decodedSkipSpecial;
      process.stdout.write(JSON.stringify(record) + '\n');
    }
  }
})().catch((error) => {
  console.error('tokenizer-goldens:', error);
  process.exit(1);
});
