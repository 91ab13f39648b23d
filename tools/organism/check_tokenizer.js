#!/usr/bin/env node
// Encodes every case with the real Hugging Face tokenizers library (Rust crate 0.22.2 through the
// @anush008/tokenizers N-API binding, set up as in /work/shared/oracle/tokenizer) and compares
// with the ids the Python trainer produced.
// usage: node check_tokenizer.js ORACLE_DIR MODEL_DIR CASES.jsonl
//   CASES.jsonl: {"text": ..., "ids": [...]} per line. Exit 0 iff every case agrees.
const fs = require('fs'), path = require('path');
const [oracleDir, modelDir, casesFile] = process.argv.slice(2);
const { Tokenizer } = require(path.join(path.resolve(oracleDir), 'node_modules/@anush008/tokenizers'));
(async () => {
  const tok = Tokenizer.fromFile(path.join(modelDir, 'tokenizer.json'));
  const lines = fs.readFileSync(casesFile, 'utf8').split('\n').filter((l) => l.length > 0);
  let agree = 0, disagree = 0, decodeMismatch = 0;
  for (const line of lines) {
    const c = JSON.parse(line);
    const plain = (await tok.encode(c.text, null, { addSpecialTokens: false })).getIds();
    const withSpecial = (await tok.encode(c.text, null, { addSpecialTokens: true })).getIds();
    const same = JSON.stringify(plain) === JSON.stringify(c.ids) &&
                 JSON.stringify(withSpecial) === JSON.stringify(c.ids);
    if (same) agree++; else {
      disagree++;
      if (disagree <= 5) console.error('MISMATCH', JSON.stringify({ text: c.text, python: c.ids, rust: plain }));
    }
    if ((await tok.decode(plain, false)) !== c.text) decodeMismatch++;
  }
  console.log(`tokenizer oracle: ${agree} agree, ${disagree} disagree, ${decodeMismatch} decode round-trip mismatches, of ${lines.length} texts`);
  process.exit(disagree === 0 && decodeMismatch === 0 ? 0 : 1);
})();
