// Replays the fuzz seed corpus, and deterministic mutations of it (truncations and byte flips),
// through the fuzz entry points under the normal compiler, so the suite exercises the readers'
// error paths even where clang and libFuzzer are missing (tools/run-fuzz.sh does the real
// fuzzing). The entry points swallow InputError only: any other exception fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz_targets.h"

namespace heretic::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<std::vector<uint8_t>> files_in(const fs::path& folder, const std::string& extension) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && (extension.empty() || entry.path().extension() == extension)) {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::vector<uint8_t>> contents;
  for (const fs::path& path : paths) {
    std::ifstream stream(path, std::ios::binary | std::ios::ate);
    std::vector<uint8_t> bytes(static_cast<size_t>(stream.tellg()));
    stream.seekg(0);
    stream.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    contents.push_back(std::move(bytes));
  }
  return contents;
}

// Runs `entry` on `seed`, on prefixes of it, and on copies with one byte changed every `step`.
void replay_with_mutations(int (*entry)(const uint8_t*, size_t), const std::vector<uint8_t>& seed,
                           size_t step) {
  ASSERT_NO_THROW(entry(seed.data(), seed.size()));
  for (size_t length = 0; length < seed.size(); length += std::max<size_t>(1, seed.size() / 16)) {
    ASSERT_NO_THROW(entry(seed.data(), length)) << "prefix of " << length << " bytes";
  }
  for (size_t i = 1; i < seed.size(); i += step) {
    for (const uint8_t value :
         {uint8_t{0x00}, uint8_t{0xff}, static_cast<uint8_t>(seed[i] ^ 0x21)}) {
      std::vector<uint8_t> mutated = seed;
      mutated[i] = value;
      ASSERT_NO_THROW(entry(mutated.data(), mutated.size()))
          << "byte " << i << " set to " << int{value};
    }
  }
}

TEST(FuzzReplay, ParquetReaderSurvivesTheFixturesAndTheirMutations) {
  const auto seeds = files_in(
      fs::path(HERETIC_SOURCE_DIR) / "tests" / "fixtures" / "data" / "parquet", ".parquet");
  ASSERT_GE(seeds.size(), 21u);
  // About 200 mutation points per file keeps the test to a few seconds.
  for (const auto& seed : seeds) {
    replay_with_mutations(fuzz_parquet_reader, seed, std::max<size_t>(7, seed.size() / 200));
  }
}

TEST(FuzzReplay, TextReadersSurviveTheSeedCorpusAndItsMutations) {
  const auto seeds =
      files_in(fs::path(HERETIC_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "text", "");
  ASSERT_GE(seeds.size(), 7u);
  for (const auto& seed : seeds) {
    replay_with_mutations(fuzz_text_readers, seed, 1);
    // The same bytes through every reader: the first byte picks it.
    for (uint8_t reader = 0; reader < 5; ++reader) {
      std::vector<uint8_t> other = seed;
      other[0] = reader;
      ASSERT_NO_THROW(fuzz_text_readers(other.data(), other.size()));
    }
  }
}

}  // namespace
}  // namespace heretic::fuzz
