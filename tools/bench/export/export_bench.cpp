// bench_export: peak anonymous memory (heap, not the memory-mapped source) while exporting an
// ablated model, against the size of the weights the export merges and of the whole model,
// measured in the same run. The export computes each merged weight when the safetensors writer
// reaches it, so the peak should stay near one module's float32 working set, whatever the
// number of ablated modules.
//
//   bench_export [--hidden 1024 --layers 8 --intermediate 4096 --vocab 8192]
#include <torch/utils.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "ablation/export.h"
#include "machine.h"
#include "random_model.h"

namespace fs = std::filesystem;
using heretic::bench::Clock;

namespace {

// RssAnon of /proc/self/status in bytes: resident memory that is not a file mapping.
double anonymous_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stod(line.substr(8)) * 1024.0;
  }
  return 0.0;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("bench_export", "Peak memory of exporting an ablated model");
  options.add_options()("hidden", "hidden size", cxxopts::value<int64_t>()->default_value("1024"))(
      "layers", "decoder layers", cxxopts::value<int64_t>()->default_value("8"))(
      "intermediate", "MLP size", cxxopts::value<int64_t>()->default_value("4096"))(
      "vocab", "vocabulary", cxxopts::value<int64_t>()->default_value("8192"))("h,help", "help");
  const auto args = options.parse(argc, argv);
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  heretic::bench::RandomModelShape shape;
  shape.hidden = args["hidden"].as<int64_t>();
  shape.layers = args["layers"].as<int64_t>();
  shape.heads = 8;
  shape.kv_heads = 8;
  shape.intermediate = args["intermediate"].as<int64_t>();
  shape.vocab = args["vocab"].as<int64_t>();

  std::printf("machine: %s, %u hardware threads, load %s\n", heretic::bench::cpu_model().c_str(),
              std::thread::hardware_concurrency(), heretic::bench::load_average().c_str());
  const fs::path dir = fs::temp_directory_path() / ("heretic-bench-export-" + std::to_string(::getpid()));
  torch::manual_seed(0);
  heretic::bench::write_random_model(dir / "model", shape);

  // Every o_proj and down_proj ablated with weight 1: the most an export merges.
  heretic::ablation::ExportRequest request;
  request.model_folder = dir / "model";
  request.out_folder = dir / "export";
  request.max_shard_size_bytes = 256ULL << 20;
  const torch::Tensor random = torch::randn({shape.hidden});
  const torch::Tensor direction = random / random.norm();
  for (int64_t layer = 0; layer < shape.layers; ++layer) {
    request.plan.push_back({layer, heretic::model::Component::kAttnOutput, 1.0, direction});
    request.plan.push_back({layer, heretic::model::Component::kMlpDown, 1.0, direction});
  }
  const double f32 = 4.0;
  const double merged_bytes =
      f32 * static_cast<double>(shape.layers * (shape.hidden * shape.hidden + shape.hidden * shape.intermediate));
  const double largest_module = f32 * static_cast<double>(shape.hidden * std::max(shape.hidden, shape.intermediate));
  double model_bytes = 0.0;
  for (const auto& entry : fs::directory_iterator(dir / "model")) {
    if (entry.path().extension() == ".safetensors") model_bytes += static_cast<double>(fs::file_size(entry));
  }

  const double before = anonymous_bytes();
  std::atomic<bool> done{false};
  std::atomic<double> peak{before};
  std::thread sampler([&] {
    while (!done) {
      const double now = anonymous_bytes();
      if (now > peak) peak = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  const auto start = Clock::now();
  heretic::ablation::export_ablated_model(request);
  const double seconds = heretic::bench::seconds_since(start);
  done = true;
  sampler.join();
  fs::remove_all(dir);

  const double extra = peak - before;
  std::printf("model: hidden %lld, layers %lld, intermediate %lld, vocab %lld: %.0f MiB of float32 weights\n",
              static_cast<long long>(shape.hidden), static_cast<long long>(shape.layers),
              static_cast<long long>(shape.intermediate), static_cast<long long>(shape.vocab), mib(model_bytes));
  std::printf("merged (every o_proj and down_proj): %.0f MiB; largest module %.0f MiB\n", mib(merged_bytes),
              mib(largest_module));
  std::printf("export: %.2f s; peak anonymous memory above the start: %.0f MiB = %.2f x the merged weights, "
              "%.2f x the largest module\n",
              seconds, mib(extra), extra / merged_bytes, extra / largest_module);
  return 0;
}
