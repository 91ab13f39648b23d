// Safetensors reading, strict validation of corrupt files, and writing with sharding.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"

namespace fs = std::filesystem;
using heretic::InputError;
using heretic::hf::DType;
using heretic::hf::SafetensorsCheckpoint;
using heretic::hf::SafetensorsFile;
using heretic::hf::TensorToWrite;

namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("heretic-safetensors-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A file made of the 8-byte length of `header`, `header`, then `data_bytes` zero bytes.
  fs::path write_raw(const std::string& header, size_t data_bytes, const std::string& name = "x.safetensors",
                     std::optional<uint64_t> declared_length = std::nullopt) {
    const fs::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    uint64_t length = declared_length.value_or(header.size());
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xff));
    out << header;
    out << std::string(data_bytes, '\0');
    return path;
  }

  // Expects opening `path` to fail with an InputError whose message names the file and
  // contains `fragment`.
  void expect_rejected(const fs::path& path, const std::string& fragment) {
    try {
      SafetensorsFile file(path);
      FAIL() << "accepted a corrupt file; expected an error containing: " << fragment;
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  }

  fs::path dir_;
};

const char* kOneTensor = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";

TEST_F(SafetensorsTest, ReadsAValidFile) {
  const std::vector<float> values = {1.0f, 2.0f, 3.0f, 4.0f};
  const fs::path path = dir_ / "ok.safetensors";
  heretic::hf::write_safetensors_file(
      path, {TensorToWrite{"w", DType::kF32, {2, 2}, reinterpret_cast<const std::byte*>(values.data())}});
  SafetensorsFile file(path);
  ASSERT_EQ(file.tensors().size(), 1u);
  const auto* info = file.find("w");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(info->dtype, DType::kF32);
  float read[4];
  std::memcpy(read, file.data(*info), sizeof(read));
  EXPECT_EQ(read[3], 4.0f);
  EXPECT_EQ(file.metadata().at("format"), "pt");
}

// Computed tensors (the export's merged weights) are produced while the file is written, in
// pieces; the file is the same as from a byte span, and a producer that gives the wrong number
// of bytes is caught instead of writing a file whose header lies.
TEST_F(SafetensorsTest, ProducedTensorsAreWrittenLikeByteSpans) {
  const std::vector<float> values = {1.0f, 2.0f, 3.0f, 4.0f};
  const auto* bytes = reinterpret_cast<const std::byte*>(values.data());
  TensorToWrite produced{"w", DType::kF32, {2, 2}, nullptr};
  produced.produce = [bytes](const heretic::hf::ByteSink& write) {
    write(bytes, 4);
    write(bytes + 4, 12);
  };
  heretic::hf::write_safetensors_file(dir_ / "produced.safetensors", {produced});
  heretic::hf::write_safetensors_file(dir_ / "span.safetensors", {TensorToWrite{"w", DType::kF32, {2, 2}, bytes}});
  std::ifstream a(dir_ / "produced.safetensors", std::ios::binary), b(dir_ / "span.safetensors", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}), std::string(std::istreambuf_iterator<char>(b), {}));

  produced.produce = [bytes](const heretic::hf::ByteSink& write) { write(bytes, 12); };
  EXPECT_THROW(heretic::hf::write_safetensors_file(dir_ / "short.safetensors", {produced}), std::logic_error);
}

TEST_F(SafetensorsTest, RejectsFileShorterThanLengthPrefix) {
  const fs::path path = dir_ / "short.safetensors";
  std::ofstream(path, std::ios::binary) << "abc";
  expect_rejected(path, "fewer than the 8-byte header length");
}

TEST_F(SafetensorsTest, RejectsHeaderLengthPastEndOfFile) {
  expect_rejected(write_raw(kOneTensor, 16, "x.safetensors", 5000), "runs past the end");
}

TEST_F(SafetensorsTest, RejectsHugeHeaderLength) {
  expect_rejected(write_raw(kOneTensor, 16, "x.safetensors", uint64_t{1} << 40), "exceeds the");
}

TEST_F(SafetensorsTest, RejectsHeaderThatIsNotJson) {
  expect_rejected(write_raw(R"({"w":{"dtype":"F32",)", 16), "does not parse at file byte");
}

TEST_F(SafetensorsTest, RejectsHeaderThatIsNotAnObject) {
  expect_rejected(write_raw("[1,2,3]", 0), "does not start with '{'");
}

TEST_F(SafetensorsTest, RejectsUnsupportedDtypeByName) {
  expect_rejected(write_raw(R"({"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", 16),
                  "unsupported dtype 'I64'");
}

TEST_F(SafetensorsTest, RejectsUnknownDtype) {
  expect_rejected(write_raw(R"({"w":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,16]}})", 16), "unknown dtype 'Q4_K'");
}

TEST_F(SafetensorsTest, RejectsShapeThatDisagreesWithByteSize) {
  expect_rejected(write_raw(R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", 16),
                  "needing 24 bytes but data_offsets span 16");
}

TEST_F(SafetensorsTest, RejectsOffsetsPastTheDataSection) {
  expect_rejected(write_raw(kOneTensor, 10), "holds only 10 bytes");
}

TEST_F(SafetensorsTest, RejectsOverlappingTensors) {
  expect_rejected(write_raw(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                            16),
                  "overlap");
}

TEST_F(SafetensorsTest, RejectsGapBetweenTensors) {
  expect_rejected(write_raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
                            16),
                  "belong to no tensor");
}

TEST_F(SafetensorsTest, RejectsTrailingBytes) {
  expect_rejected(write_raw(kOneTensor, 20), "4 bytes after the last tensor");
}

TEST_F(SafetensorsTest, RejectsReversedOffsets) {
  expect_rejected(write_raw(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "after end");
}

TEST_F(SafetensorsTest, RejectsNegativeDimension) {
  expect_rejected(write_raw(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", 16),
                  "not a non-negative integer");
}

TEST_F(SafetensorsTest, RejectsDuplicateTensorNames) {
  expect_rejected(write_raw(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                            16),
                  "names 'w' twice");
}

TEST_F(SafetensorsTest, RejectsMissingDtype) {
  expect_rejected(write_raw(R"({"w":{"shape":[4],"data_offsets":[0,16]}})", 16), "no \"dtype\"");
}

TEST_F(SafetensorsTest, RejectsDeepNesting) {
  expect_rejected(write_raw(R"({"w":{"dtype":[[[[[[1]]]]]]}})", 0), "nests deeper");
}

TEST_F(SafetensorsTest, RejectsNonStringMetadata) {
  expect_rejected(write_raw(R"({"__metadata__":{"format":1}})", 0), "is not a string");
}

TEST_F(SafetensorsTest, RejectsTruncatedRealCheckpoint) {
  const fs::path source = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/models/llama-tiny/model.safetensors";
  const fs::path path = dir_ / "truncated.safetensors";
  fs::copy_file(source, path);
  fs::resize_file(path, fs::file_size(source) - 100);
  expect_rejected(path, "file truncated?");
}

TEST_F(SafetensorsTest, WritesShardsWithAnIndexAndReadsThemBack) {
  std::vector<std::vector<float>> data;
  std::vector<TensorToWrite> tensors;
  for (int i = 0; i < 5; ++i) data.push_back(std::vector<float>(10, static_cast<float>(i)));
  for (int i = 0; i < 5; ++i)
    tensors.push_back({"t" + std::to_string(i),
                       DType::kF32,
                       {10},
                       reinterpret_cast<const std::byte*>(data[static_cast<size_t>(i)].data())});
  // 40 bytes per tensor, 100 per shard: two tensors per shard -> 3 shards.
  const auto written = heretic::hf::write_safetensors_checkpoint(dir_ / "out", tensors, 100);
  ASSERT_EQ(written.size(), 4u);
  EXPECT_EQ(written[0], "model-00001-of-00003.safetensors");
  EXPECT_EQ(written[3], "model.safetensors.index.json");
  const auto checkpoint = SafetensorsCheckpoint::open(dir_ / "out");
  EXPECT_EQ(checkpoint.files().size(), 3u);
  EXPECT_EQ(checkpoint.tensor_names().size(), 5u);
  EXPECT_EQ(checkpoint.total_bytes(), 200u);
  const auto location = checkpoint.at("t4");
  float value = 0;
  std::memcpy(&value, location.data(), sizeof(value));
  EXPECT_EQ(value, 4.0f);
  EXPECT_EQ(location.file->path().filename(), "model-00003-of-00003.safetensors");
}

TEST_F(SafetensorsTest, SmallCheckpointIsOneFile) {
  const float value = 1.5f;
  const auto written = heretic::hf::write_safetensors_checkpoint(
      dir_ / "one", {{"x", DType::kF32, {1}, reinterpret_cast<const std::byte*>(&value)}}, 1 << 20);
  EXPECT_EQ(written, (std::vector<std::string>{"model.safetensors"}));
  EXPECT_TRUE(SafetensorsCheckpoint::open(dir_ / "one").contains("x"));
}

TEST_F(SafetensorsTest, RejectsIndexNamingMissingShard) {
  std::ofstream(dir_ / "model.safetensors.index.json") << R"({"weight_map":{"w":"model-00001-of-00002.safetensors"}})";
  try {
    SafetensorsCheckpoint::open(dir_);
    FAIL() << "accepted an index naming a missing shard";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("does not exist"), std::string::npos) << error.what();
  }
}

TEST_F(SafetensorsTest, RejectsIndexClaimingATensorTheShardLacks) {
  write_raw(kOneTensor, 16, "model-00001-of-00001.safetensors");
  std::ofstream(dir_ / "model.safetensors.index.json")
      << R"({"weight_map":{"w":"model-00001-of-00001.safetensors","v":"model-00001-of-00001.safetensors"}})";
  try {
    SafetensorsCheckpoint::open(dir_);
    FAIL() << "accepted an index naming a tensor its shard lacks";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("weight_map['v']"), std::string::npos) << error.what();
  }
}

TEST_F(SafetensorsTest, RejectsFolderWithoutSafetensors) {
  try {
    SafetensorsCheckpoint::open(dir_);
    FAIL() << "accepted a folder without weights";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("no model.safetensors"), std::string::npos);
  }
}

}  // namespace
