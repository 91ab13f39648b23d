// The split syntax behaves as the Hugging Face datasets library's ReadInstruction: the
// expected ranges below are what `load_dataset(..., split=...)` selects.
#include "data/split_spec.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace heretic::data {
namespace {

std::pair<size_t, size_t> range_of(const std::string& spec, size_t rows) {
  const auto ranges = resolve_split_spec(spec, {{"train", rows}, {"test", rows}}, "test");
  EXPECT_EQ(ranges.size(), 1u);
  return {ranges.at(0).from, ranges.at(0).to};
}

std::string error_of(const std::string& spec, size_t rows) {
  try {
    resolve_split_spec(spec, {{"train", rows}, {"test", rows}}, "[good_prompts] split");
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no error)";
}

using Range = std::pair<size_t, size_t>;

TEST(SplitSpec, AbsoluteSlices) {
  EXPECT_EQ(range_of("train", 400), Range(0, 400));
  EXPECT_EQ(range_of("train[:400]", 1000), Range(0, 400));
  EXPECT_EQ(range_of("test[100:200]", 1000), Range(100, 200));
  EXPECT_EQ(range_of("train[1000:1100]", 1100), Range(1000, 1100));
  EXPECT_EQ(range_of("train[:]", 7), Range(0, 7));
}

TEST(SplitSpec, NegativeIndicesCountFromTheEnd) {
  EXPECT_EQ(range_of("train[-50:]", 400), Range(350, 400));
  EXPECT_EQ(range_of("train[:-1]", 10), Range(0, 9));
  EXPECT_EQ(range_of("train[-3:-1]", 10), Range(7, 9));
}

TEST(SplitSpec, PercentRoundsToClosestWithTiesToEven) {
  EXPECT_EQ(range_of("train[:10%]", 400), Range(0, 40));
  EXPECT_EQ(range_of("train[:33%]", 10), Range(0, 3));     // 3.3 -> 3
  EXPECT_EQ(range_of("train[:10%]", 25), Range(0, 2));     // 2.5 -> 2 (Python's round)
  EXPECT_EQ(range_of("train[:10%]", 35), Range(0, 4));     // 3.5 -> 4
  EXPECT_EQ(range_of("train[10%:20%]", 15), Range(2, 3));  // 1.5 -> 2, 3.0 -> 3
  EXPECT_EQ(range_of("train[-10%:]", 100), Range(90, 100));
  // One '%' makes both boundaries percentages, as in datasets.
  EXPECT_EQ(range_of("train[10:50%]", 200), Range(20, 100));
}

TEST(SplitSpec, Pct1DropRemainderUsesWholePercents) {
  EXPECT_EQ(range_of("train[:10%](pct1_dropremainder)", 250), Range(0, 20));
  EXPECT_EQ(range_of("train[:10%](closest)", 250), Range(0, 25));
  EXPECT_NE(error_of("train[:10%](pct1_dropremainder)", 50).find("fewer than 100"),
            std::string::npos);
}

TEST(SplitSpec, FromAfterToSelectsNothing) { EXPECT_EQ(range_of("train[5:3]", 10), Range(5, 5)); }

TEST(SplitSpec, SeveralSplitsAreConcatenated) {
  const auto ranges =
      resolve_split_spec("test[:33%] + train[1:-1]", {{"train", 10}, {"test", 100}}, "x");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].split, "test");
  EXPECT_EQ(Range(ranges[0].from, ranges[0].to), Range(0, 33));
  EXPECT_EQ(ranges[1].split, "train");
  EXPECT_EQ(Range(ranges[1].from, ranges[1].to), Range(1, 9));
}

TEST(SplitSpec, OutOfRangeIsAnErrorNotAClamp) {
  const std::string message = error_of("train[:500]", 400);
  EXPECT_NE(message.find("[good_prompts] split"), std::string::npos) << message;
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
  EXPECT_NE(message.find("400 rows"), std::string::npos) << message;
  EXPECT_NE(error_of("train[-401:]", 400).find("out of range"), std::string::npos);
}

TEST(SplitSpec, UnknownSplitListsTheAvailableOnes) {
  const std::string message = error_of("tset[:10]", 400);
  EXPECT_NE(message.find("unknown split 'tset'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'test'"), std::string::npos) << message;
  EXPECT_NE(message.find("'test', 'train'"), std::string::npos) << message;
}

TEST(SplitSpec, MalformedSpecsAreRejectedWithAnExample) {
  for (const char* spec : {"train[:400", "train[a:b]", "train[:400]x", "[:400]", " train",
                           "train[:101%]", "train[1]", "train+", "train[:5](nearest)"}) {
    const std::string message = error_of(spec, 1000);
    EXPECT_NE(message.find("invalid split"), std::string::npos) << spec << ": " << message;
    EXPECT_NE(message.find("train[:400]"), std::string::npos) << spec << ": " << message;
  }
}

TEST(SplitSpec, BareSlicesForPlainFiles) {
  const SplitRange range = resolve_slice(parse_bare_slice("[:2]", "x"), 5, "x");
  EXPECT_EQ(Range(range.from, range.to), Range(0, 2));
  const SplitRange all = resolve_slice(parse_bare_slice("", "x"), 5, "x");
  EXPECT_EQ(Range(all.from, all.to), Range(0, 5));
  EXPECT_THROW(parse_bare_slice("train[:2]", "x"), InputError);
}

}  // namespace
}  // namespace heretic::data
