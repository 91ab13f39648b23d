// bench_tokenizer: tokens/s of Tokenizer::encode on a multi-megabyte text against Hugging
// Face tokenizers (Rust 0.22.2 through its npm N-API binding), measured in the same run on
// the same text and the same tokenizer.json, single-threaded on both sides. Two shapes:
// "whole" = one encode call on the whole text; "lines" = every line encoded on its own
// (prompt-sized inputs; HF's encodeBatch with RAYON_NUM_THREADS=1, a loop of encode calls
// here). It also checks that both produce the same ids (sha256 of little-endian uint32 ids).
//
//   tools/fetch-tokenizers.sh --oracle
//   cmake --build build --target bench_tokenizer && build/tools/bench/tokenizer/bench_tokenizer
//   [tokenizer names, default: qwen3 llama3_1 gemma3] [--megabytes N (default 4)]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hf/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

// A deterministic mix of prose, numbers, code and non-Latin scripts, about `bytes` long.
std::string make_text(size_t bytes) {
  static const char* const kWords[] = {
      "the",       "model",      "refuses",   "harmful",   "requests", "while",
      "answering", "harmless",   "ones",      "direction", "residual", "stream",
      "layer",     "weights",    "ablation",  "optimizer", "trial",    "Pareto",
      "front",     "divergence", "tokenizer", "encodes",   "text",     "quickly",
      "and",       "of",         "to",        "in",        "is",       "that",
      "for",       "with",       "as",        "on",        "it's",     "don't"};
  static const char* const kExtras[] = {"\n\ndef score(x):\n    return x ** 2  # squared\n",
                                        " Привет, мир! Как дела?",
                                        " 你好，世界。这是一个测试。",
                                        " こんにちは世界",
                                        " naïve café résumé",
                                        " 3.14159 and 2,718,281",
                                        " (see https://example.com/a?b=1)",
                                        " 😀👍 ",
                                        "\n\t- item: value\n"};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&state]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  std::string text;
  text.reserve(bytes + 256);
  while (text.size() < bytes) {
    const size_t choice = next() % 100;
    if (choice < 4) {
      text += kExtras[next() % (sizeof(kExtras) / sizeof(kExtras[0]))];
    } else if (choice < 8) {
      text += " " + std::to_string(next() % 100000);
    } else if (choice < 14) {
      text += choice < 11 ? "." : ",";
      if (choice == 8) text += "\n";
    } else {
      text += " ";
      text += kWords[next() % (sizeof(kWords) / sizeof(kWords[0]))];
    }
  }
  return text;
}

// Minimal SHA-256 of the ids as little-endian uint32, to compare with the baseline.
std::string sha256_hex(const std::vector<heretic::hf::TokenId>& ids) {
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string message;
  for (const auto id : ids) {
    const auto v = static_cast<uint32_t>(id);
    for (int i = 0; i < 4; ++i) message.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  const uint64_t bit_length = static_cast<uint64_t>(message.size()) * 8;
  message.push_back(static_cast<char>(0x80));
  while (message.size() % 64 != 56) message.push_back(0);
  for (int i = 7; i >= 0; --i) message.push_back(static_cast<char>((bit_length >> (8 * i)) & 0xFF));
  const auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (size_t chunk = 0; chunk < message.size(); chunk += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int b = 0; b < 4; ++b) {
        w[i] = (w[i] << 8) |
               static_cast<unsigned char>(message[chunk + static_cast<size_t>(4 * i + b)]);
      }
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 =
          hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  char hex[65];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 8 * i, 9, "%08x", h[i]);
  return std::string(hex, 64);
}

std::string run_and_capture(const std::string& command) {
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) return "";
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe.get())) output.append(buffer, n);
  return output;
}

// Extracts a number or string field from the one-line JSON the baseline prints.
std::string json_field(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return "";
  size_t start = at + key.size() + 3;
  if (json[start] == '"') {
    ++start;
    return json.substr(start, json.find('"', start) - start);
  }
  return json.substr(start, json.find_first_of(",}", start) - start);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> names;
  size_t megabytes = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--megabytes" && i + 1 < argc) {
      megabytes = static_cast<size_t>(std::stoul(argv[++i]));
    } else {
      names.push_back(arg);
    }
  }
  if (names.empty()) names = {"qwen3", "llama3_1", "gemma3"};
  const std::filesystem::path root = HERETIC_SOURCE_DIR;
  std::printf("machine: %s, %u hardware threads; single-threaded encode of a %zu MB text\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(), megabytes);

  const std::string text = make_text(megabytes << 20);
  const std::filesystem::path text_file =
      std::filesystem::temp_directory_path() / "bench_tokenizer.txt";
  std::ofstream(text_file, std::ios::binary) << text;
  constexpr int kRepeats = 3;

  std::vector<std::string> lines;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }

  std::printf("%-12s %-6s %10s %14s %14s %8s %s\n", "tokenizer", "shape", "tokens", "heretic tok/s",
              "HF Rust tok/s", "ratio", "same ids");
  for (const std::string& name : names) {
    const std::filesystem::path folder = root / ".cache" / "tokenizers" / name;
    const heretic::hf::Tokenizer tokenizer = heretic::hf::Tokenizer::from_folder(folder);
    for (const std::string mode : {"whole", "lines"}) {
      double best = 1e30;
      std::vector<heretic::hf::TokenId> ids;
      for (int r = 0; r < kRepeats; ++r) {
        const auto start = Clock::now();
        if (mode == "whole") {
          ids = tokenizer.encode_ids(text, false);
        } else {
          ids.clear();
          for (const std::string& line : lines) {
            const auto line_ids = tokenizer.encode_ids(line, false);
            ids.insert(ids.end(), line_ids.begin(), line_ids.end());
          }
        }
        best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
      }
      const std::string baseline = run_and_capture(
          "RAYON_NUM_THREADS=1 node '" + (root / "tools/bench/tokenizer/hf_encode.js").string() +
          "' '" + root.string() + "' '" + folder.string() + "' '" + text_file.string() + "' " +
          std::to_string(kRepeats) + " " + mode);
      const std::string seconds = json_field(baseline, "seconds");
      if (seconds.empty()) {
        std::fprintf(stderr, "baseline failed (run tools/fetch-tokenizers.sh --oracle): %s\n",
                     baseline.c_str());
        return 1;
      }
      const double ours = static_cast<double>(ids.size()) / best;
      const double theirs = std::stod(json_field(baseline, "tokens")) / std::stod(seconds);
      std::printf("%-12s %-6s %10zu %14.0f %14.0f %7.2fx %s\n", name.c_str(), mode.c_str(),
                  ids.size(), ours, theirs, ours / theirs,
                  sha256_hex(ids) == json_field(baseline, "ids_sha") ? "yes" : "NO");
      std::fflush(stdout);
    }
  }
  std::filesystem::remove(text_file);
  return 0;
}
