#!/usr/bin/env node
// The baseline half of bench_tokenizer: encodes a text file with Hugging Face tokenizers
// 0.22.2 (Rust, N-API binding) and prints {"seconds", "tokens", "ids_sha"} as one JSON line.
// Mode "whole": one encode call on the whole text. Mode "lines": encodeBatch over its lines
// (run with RAYON_NUM_THREADS=1 so that it stays single-threaded like the C++ side).
// usage: node hf_encode.js <repo root> <tokenizer folder> <text file> <repeats> <whole|lines>
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const [root, folder, file, repeatsArg, mode] = process.argv.slice(2);
const { Tokenizer } = require(path.join(root, '.cache', 'tokenizer-oracle', 'node_modules',
                                        '@anush008', 'tokenizers'));
(async () => {
  const tokenizer = Tokenizer.fromFile(path.join(folder, 'tokenizer.json'));
  const text = fs.readFileSync(file, 'utf8');
  await tokenizer.encode('warm up', null, { addSpecialTokens: false });
  let best = Infinity;
  let ids = null;
  for (let i = 0; i < Number(repeatsArg); ++i) {
    const start = process.hrtime.bigint();
    if (mode === 'lines') {
      const encodings = await tokenizer.encodeBatch(text.split('\n'), { addSpecialTokens: false });
      ids = [].concat(...encodings.map((encoding) => Array.from(encoding.getIds())));
    } else {
      ids = (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds();
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  const hash = crypto.createHash('sha256').update(Buffer.from(Uint32Array.from(ids).buffer));
  console.log(JSON.stringify({ seconds: best, tokens: ids.length, ids_sha: hash.digest('hex') }));
})();
