// Replays the fuzz corpus, and deterministic mutations of it (prefixes and byte changes),
// through the fuzz entry points under the normal compiler, so the suite exercises every
// parser's error paths even where clang and libFuzzer are missing (tools/run-fuzz.sh does the
// real fuzzing). The entry points swallow InputError only: any other exception fails the
// test, and a crash or a broken FUZZ_CHECK ends it. Inputs named regression-* once crashed a
// target (tests/fuzz/README.md lists them); they replay unmutated as well as mutated.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz_targets.h"

namespace heretic::fuzz {
namespace {

namespace fs = std::filesystem;

struct Seed {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<Seed> files_in(const fs::path& folder, const std::string& extension = "") {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && (extension.empty() || entry.path().extension() == extension)) {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Seed> seeds;
  for (const fs::path& path : paths) {
    std::ifstream stream(path, std::ios::binary);
    seeds.push_back({path.filename().string(), std::vector<uint8_t>(std::istreambuf_iterator<char>(stream), {})});
  }
  return seeds;
}

std::vector<Seed> corpus(const std::string& target) {
  return files_in(fs::path(HERETIC_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target);
}

using Entry = int (*)(const uint8_t*, size_t);

// Runs `entry` on `seed`, on prefixes of it, and on copies with one byte changed every `step`
// bytes.
void replay_with_mutations(Entry entry, const Seed& seed, size_t step) {
  const std::vector<uint8_t>& bytes = seed.bytes;
  ASSERT_NO_THROW(entry(bytes.data(), bytes.size())) << seed.name;
  for (size_t length = 0; length < bytes.size(); length += std::max<size_t>(1, bytes.size() / 16)) {
    ASSERT_NO_THROW(entry(bytes.data(), length)) << seed.name << ": prefix of " << length << " bytes";
  }
  for (size_t i = 1; i < bytes.size(); i += step) {
    for (const uint8_t value : {uint8_t{0x00}, uint8_t{0xff}, static_cast<uint8_t>(bytes[i] ^ 0x21)}) {
      std::vector<uint8_t> mutated = bytes;
      mutated[i] = value;
      ASSERT_NO_THROW(entry(mutated.data(), mutated.size()))
          << seed.name << ": byte " << i << " set to " << int{value};
    }
  }
}

// Every seed of a corpus folder with about `budget` byte changes in all (three per place).
void replay_corpus(Entry entry, const std::vector<Seed>& seeds, size_t minimum_seeds, size_t budget) {
  ASSERT_GE(seeds.size(), minimum_seeds) << "the corpus is missing; see tools/make-fuzz-seeds.py";
  const size_t places = std::max<size_t>(8, budget / seeds.size() / 3);
  for (const Seed& seed : seeds) replay_with_mutations(entry, seed, std::max<size_t>(1, seed.bytes.size() / places));
}

TEST(FuzzReplay, ParquetReaderSurvivesTheFixturesAndTheirMutations) {
  const auto seeds = files_in(fs::path(HERETIC_SOURCE_DIR) / "tests" / "fixtures" / "data" / "parquet", ".parquet");
  ASSERT_GE(seeds.size(), 21u);
  // About 200 mutation points per file keeps the test to a few seconds.
  for (const Seed& seed : seeds) replay_with_mutations(fuzz_parquet_reader, seed, std::max<size_t>(7, seed.bytes.size() / 200));
}

TEST(FuzzReplay, TextReadersSurviveTheSeedCorpusAndItsMutations) {
  const auto seeds = corpus("text");
  ASSERT_GE(seeds.size(), 7u);
  for (const Seed& seed : seeds) {
    replay_with_mutations(fuzz_text_readers, seed, 1);
    // The same bytes through every reader: the first byte picks it.
    for (uint8_t reader = 0; reader < 5; ++reader) {
      std::vector<uint8_t> other = seed.bytes;
      other[0] = reader;
      ASSERT_NO_THROW(fuzz_text_readers(other.data(), other.size()));
    }
  }
}

TEST(FuzzReplay, SafetensorsHeaderSurvivesTheFixtureHeadersAndTheirMutations) {
  replay_corpus(fuzz_safetensors_header, corpus("safetensors_header"), 6, 6000);
}

TEST(FuzzReplay, ModelConfigSurvivesTheFixtureConfigsAndTheirMutations) {
  replay_corpus(fuzz_model_config, corpus("model_config"), 10, 6000);
}

TEST(FuzzReplay, TokenizerSurvivesTheCutDownRealTokenizersAndTheirMutations) {
  replay_corpus(fuzz_tokenizer, corpus("tokenizer"), 10, 3000);
}

TEST(FuzzReplay, ChatTemplateSurvivesTheFixtureTemplatesAndTheirMutations) {
  replay_corpus(fuzz_chat_template, corpus("chat_template"), 20, 3000);
}

TEST(FuzzReplay, TomlConfigSurvivesTheShippedConfigurationsAndTheirMutations) {
  replay_corpus(fuzz_toml_config, corpus("toml_config"), 4, 1500);
}

TEST(FuzzReplay, JournalSurvivesARealJournalAndItsMutations) {
  replay_corpus(fuzz_journal, corpus("journal"), 4, 3000);
}

}  // namespace
}  // namespace heretic::fuzz
