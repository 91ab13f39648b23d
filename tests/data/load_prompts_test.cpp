// load_prompts end to end: local files of every format, local dataset folders, and a fake
// Hugging Face hub cache built in a temporary folder, resolved offline by repo id.
#include "tests/support/error_of.h"
#include "data/load_prompts.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "data/dataset_folder.h"

namespace heretic::data {
namespace {

namespace fs = std::filesystem;

const fs::path kParquetFixtures =
    fs::path(HERETIC_SOURCE_DIR) / "tests" / "fixtures" / "data" / "parquet";
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "heretic-data-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

using heretic::testing::error_of;

DatasetSpec spec_for(const fs::path& dataset, std::optional<std::string> split = std::nullopt,
                     std::optional<std::string> column = std::nullopt) {
  DatasetSpec spec;
  spec.dataset = dataset.string();
  spec.split = std::move(split);
  spec.column = std::move(column);
  return spec;
}

using Texts = std::vector<std::string>;

TEST(LoadPrompts, PlainTextFileWithBareSliceAndIgnoredColumn) {
  TempFolder temp;
  const fs::path file = temp.path() / "prompts.txt";
  write_file(file, "  one \n\ntwo\r\nthree\nfour\n");
  EXPECT_EQ(load_prompt_texts(spec_for(file)), (Texts{"one", "two", "three", "four"}));
  EXPECT_EQ(load_prompt_texts(spec_for(file, "[:2]", "ignored")), (Texts{"one", "two"}));
  EXPECT_EQ(load_prompt_texts(spec_for(file, "[-1:]")), (Texts{"four"}));
  EXPECT_EQ(load_prompt_texts(spec_for(file, "[50%:]")), (Texts{"three", "four"}));
  EXPECT_EQ(load_prompt_texts(spec_for(file, "train[1:3]")), (Texts{"two", "three"}));
}

TEST(LoadPrompts, PrefixSuffixAndSystemPromptAsHereticJoinsThem) {
  TempFolder temp;
  const fs::path file = temp.path() / "prompts";
  write_file(file, "tell a joke\n");
  DatasetSpec spec = spec_for(file);
  auto prompts = load_prompts(spec, "You are a helpful assistant.");
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0].system, "You are a helpful assistant.");
  EXPECT_EQ(prompts[0].user, "tell a joke");
  spec.prefix = "Please";
  spec.suffix = "Thanks.";
  spec.system_prompt = "You are a comedian.";
  prompts = load_prompts(spec, "You are a helpful assistant.");
  EXPECT_EQ(prompts[0].system, "You are a comedian.");
  EXPECT_EQ(prompts[0].user, "Please tell a joke Thanks.");
}

TEST(LoadPrompts, TableFilesOfEveryFormat) {
  TempFolder temp;
  write_file(temp.path() / "p.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"}\n");
  write_file(temp.path() / "p.json", "[{\"goal\": \"a\"}, {\"goal\": \"b\"}, {\"goal\": \"c\"}]");
  write_file(temp.path() / "p.csv", "goal,target\na,x\n\"b, quoted\",y\nc,z\n");
  EXPECT_EQ(load_prompt_texts(spec_for(temp.path() / "p.jsonl", "[1:]", "text")),
            (Texts{"b", "c"}));
  EXPECT_EQ(load_prompt_texts(spec_for(temp.path() / "p.json", std::nullopt, "goal")),
            (Texts{"a", "b", "c"}));
  EXPECT_EQ(load_prompt_texts(spec_for(temp.path() / "p.csv", "train[:2]", "goal")),
            (Texts{"a", "b, quoted"}));
  EXPECT_EQ(load_prompt_texts(spec_for(kParquetFixtures / "gzip-v1-dict.parquet", "[:2]", "text")),
            (Texts{"Write a poem about the sea.", "How do I bake bread?"}));
}

TEST(LoadPrompts, TableFileErrors) {
  TempFolder temp;
  write_file(temp.path() / "p.jsonl", "{\"text\": \"a\"}\n{\"other\": 1}\n");
  const fs::path jsonl = temp.path() / "p.jsonl";
  EXPECT_NE(error_of([&] { load_prompt_texts(spec_for(jsonl)); }).find("'column' is required"),
            std::string::npos);
  const std::string null_row =
      error_of([&] { load_prompt_texts(spec_for(jsonl, std::nullopt, "text")); });
  EXPECT_NE(null_row.find("row index 1: column 'text' is null"), std::string::npos) << null_row;
  EXPECT_EQ(load_prompt_texts(spec_for(jsonl, "[:1]", "text")),
            (Texts{"a"}));  // nulls outside the slice are fine
  const std::string range = error_of([&] { load_prompt_texts(spec_for(jsonl, "[:3]", "text")); });
  EXPECT_NE(range.find("out of range"), std::string::npos) << range;
  const std::string empty = error_of([&] { load_prompt_texts(spec_for(jsonl, "[1:1]", "text")); });
  EXPECT_NE(empty.find("selects no prompts"), std::string::npos) << empty;
  const std::string parquet_nulls = error_of([&] {
    load_prompt_texts(spec_for(kParquetFixtures / "snappy-v2-plain.parquet", "[:3]", "maybe"));
  });
  EXPECT_NE(parquet_nulls.find("row index 0: column 'maybe' is null"), std::string::npos)
      << parquet_nulls;
}

TEST(LoadPrompts, InvalidUtf8NamesFileColumnAndRow) {
  const std::string message = error_of(
      [] { load_prompt_texts(spec_for(kParquetFixtures / "types.parquet", std::nullopt, "raw")); });
  EXPECT_NE(message.find("types.parquet: column 'raw', row index 2: invalid UTF-8 at byte 1"),
            std::string::npos)
      << message;
}

TEST(LoadPrompts, MissingDatasetSaysWhatWasSearched) {
  TempFolder temp;
  setenv("HF_HUB_CACHE", temp.path().c_str(), 1);
  const std::string message =
      error_of([] { load_prompt_texts(spec_for("org/missing", "train", "text")); });
  EXPECT_NE(message.find("not a local path"), std::string::npos) << message;
  EXPECT_NE(message.find((temp.path() / "datasets--org--missing").string()), std::string::npos)
      << message;
  EXPECT_NE(message.find("huggingface-cli download --repo-type dataset org/missing"),
            std::string::npos)
      << message;
  const std::string not_an_id = error_of([] { load_prompt_texts(spec_for("./no/such/file.txt")); });
  EXPECT_NE(not_an_id.find("no file or folder at " +
                           (fs::current_path() / "./no/such/file.txt").string()),
            std::string::npos)
      << not_an_id;
  EXPECT_NE(not_an_id.find("neither an existing local path nor a valid Hugging Face dataset id"),
            std::string::npos)
      << not_an_id;
  unsetenv("HF_HUB_CACHE");
}

// A hub cache laid out as huggingface_hub leaves it: refs/main holds the commit, the snapshot
// folder holds symlinks into blobs/.
fs::path make_fake_hub_dataset(const fs::path& cache, const std::string& repo_folder) {
  const fs::path repo = cache / repo_folder;
  write_file(repo / "refs" / "main", kCommit);
  const fs::path snapshot = repo / "snapshots" / kCommit;
  const auto add = [&](const std::string& relative, const fs::path& blob_source) {
    const fs::path blob = repo / "blobs" / relative.substr(relative.rfind('/') + 1);
    fs::create_directories(blob.parent_path());
    fs::copy_file(blob_source, blob, fs::copy_options::overwrite_existing);
    fs::create_directories((snapshot / relative).parent_path());
    fs::create_symlink(blob, snapshot / relative);
  };
  add("data/train-00000-of-00002.parquet", kParquetFixtures / "zstd-v1-dict.parquet");
  add("data/train-00001-of-00002.parquet", kParquetFixtures / "snappy-v2-plain.parquet");
  write_file(repo / "blobs" / "test.jsonl",
             "{\"text\": \"t0\"}\n{\"text\": \"t1\"}\n{\"text\": \"t2\"}\n");
  add("data/test-00000-of-00001.jsonl", repo / "blobs" / "test.jsonl");
  write_file(snapshot / "README.md", "---\nlicense: mit\n---\n");
  return snapshot;
}

TEST(LoadPrompts, RepoIdResolvesInAFakeHubCacheWithSplits) {
  TempFolder temp;
  make_fake_hub_dataset(temp.path(), "datasets--org--name");
  setenv("HF_HUB_CACHE", temp.path().c_str(), 1);
  // Two train shards of 60 rows each, read in order: 120 rows, 10% = 12.
  const Texts train = load_prompt_texts(spec_for("org/name", "train[:10%]", "text"));
  ASSERT_EQ(train.size(), 12u);
  EXPECT_EQ(train[0], "Write a poem about the sea.");
  const Texts tail = load_prompt_texts(spec_for("org/name", "train[-1:]", "text"));
  EXPECT_EQ(tail.at(0), std::string(300, 'x') + " #59");  // row 59 of the second shard
  EXPECT_EQ(load_prompt_texts(spec_for("org/name", "test[1:]", "text")), (Texts{"t1", "t2"}));
  EXPECT_EQ(load_prompt_texts(spec_for("org/name", "test[:1]+train[:1]", "text")),
            (Texts{"t0", "Write a poem about the sea."}));
  DatasetSpec pinned = spec_for("org/name", "test[:1]", "text");
  pinned.commit = kCommit;
  EXPECT_EQ(load_prompt_texts(pinned), (Texts{"t0"}));
  EXPECT_EQ(resolve_dataset_commit(spec_for("org/name", "test", "text")), kCommit);
  EXPECT_EQ(resolve_dataset_commit(spec_for(kParquetFixtures / "types.parquet")), std::nullopt);

  const std::string unknown =
      error_of([] { load_prompt_texts(spec_for("org/name", "validation", "text")); });
  EXPECT_NE(unknown.find("unknown split 'validation'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("'test', 'train'"), std::string::npos) << unknown;
  const std::string column =
      error_of([] { load_prompt_texts(spec_for("org/name", "train", "prompt")); });
  EXPECT_NE(column.find("no column 'prompt'"), std::string::npos) << column;
  EXPECT_NE(column.find("'text', 'maybe', 'required'"), std::string::npos) << column;
  const std::string needs_split = error_of([] { load_prompt_texts(spec_for("org/name")); });
  EXPECT_NE(needs_split.find("'split' and 'column' are required"), std::string::npos)
      << needs_split;
  DatasetSpec other_revision = spec_for("org/name", "train", "text");
  other_revision.commit = "v2";
  const std::string revision = error_of([&] { load_prompt_texts(other_revision); });
  EXPECT_NE(revision.find("revision 'v2'"), std::string::npos) << revision;
  unsetenv("HF_HUB_CACHE");
}

TEST(DatasetFolder, SplitsFromKeywordsInFileAndFolderNames) {
  TempFolder temp;
  write_file(temp.path() / "by-file" / "my_train.csv", "text\na\n");
  write_file(temp.path() / "by-file" / "test.csv", "text\nb\n");
  write_file(temp.path() / "by-file" / "notes.csv", "text\nc\n");  // matches no split: ignored
  write_file(temp.path() / "by-file" / ".hidden" / "train.csv", "text\nh\n");
  SplitFiles splits = discover_split_files(temp.path() / "by-file");
  ASSERT_EQ(splits.size(), 2u);
  EXPECT_EQ(splits["train"].at(0).filename(), "my_train.csv");
  EXPECT_EQ(splits["test"].at(0).filename(), "test.csv");

  write_file(temp.path() / "by-dir" / "training" / "part1.jsonl", "{}\n");
  write_file(temp.path() / "by-dir" / "dev" / "part1.jsonl", "{}\n");
  splits = discover_split_files(temp.path() / "by-dir");
  EXPECT_EQ(splits.size(), 2u);
  EXPECT_EQ(splits.count("train"), 1u);
  EXPECT_EQ(splits.count("validation"), 1u);

  write_file(temp.path() / "plain" / "prompts.parquet", "x");
  write_file(temp.path() / "plain" / "more" / "contest.csv", "x");  // "test" inside a word
  splits = discover_split_files(temp.path() / "plain");
  ASSERT_EQ(splits.size(), 1u);
  EXPECT_EQ(splits["train"].size(), 2u);
}

TEST(DatasetFolder, LocalFolderLoadsLikeTheHub) {
  TempFolder temp;
  write_file(temp.path() / "train.jsonl", "{\"goal\": \"a\"}\n{\"goal\": \"b\"}\n");
  write_file(temp.path() / "test.jsonl", "{\"goal\": \"c\"}\n");
  EXPECT_EQ(load_prompt_texts(spec_for(temp.path(), "train[-1:]", "goal")), (Texts{"b"}));
  EXPECT_EQ(load_prompt_texts(spec_for(temp.path(), "test", "goal")), (Texts{"c"}));
}

TEST(DatasetFolder, SaveToDiskFoldersAndEmptyFoldersAreExplained) {
  TempFolder temp;
  write_file(temp.path() / "saved" / "state.json", "{}");
  write_file(temp.path() / "saved" / "data-00000-of-00001.arrow", "x");
  EXPECT_NE(error_of([&] { discover_split_files(temp.path() / "saved"); }).find("save_to_disk"),
            std::string::npos);
  write_file(temp.path() / "empty" / "README.md", "hello");
  EXPECT_NE(error_of([&] { discover_split_files(temp.path() / "empty"); }).find("no data files"),
            std::string::npos);
}

}  // namespace
}  // namespace heretic::data
