// What the model-parallel tests (tensor_parallel_test, pipeline_parallel_test) compare between
// one rank's whole model and in-process ranks that hold parts of it, and how those ranks, threads
// of one process, take turns computing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "ablation/ablator.h"
#include "model/causal_lm.h"
#include "mpi/communicator_pipeline_group.h"
#include "mpi/communicator_tensor_group.h"

namespace heretic {

inline std::filesystem::path organism() {
  return std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/model";
}

// What the tests compare: outputs of one model on fixed prompts, unablated and ablated.
struct Outputs {
  torch::Tensor hidden;  // [B, L+1, H]
  torch::Tensor logits;  // [B, V]
  std::vector<std::vector<int64_t>> responses;
  std::vector<torch::Tensor> ablated_logits;  // none, pre, full
  std::vector<std::vector<std::vector<int64_t>>> ablated_responses;
  int64_t parameter_bytes = 0;
  int64_t split_bytes = 0;  // of the modules tensor parallelism splits (q/k/v, o, gate/up, down)
  std::vector<bool> held_layers;  // the layers whose weights this rank holds
};

// Every layer's o_proj and down_proj ablated with a fixed pseudo-random direction and weight.
inline std::vector<ablation::ModuleAblation> test_plan(const model::ModelInfo& info) {
  std::vector<ablation::ModuleAblation> plan;
  const torch::Tensor raw = torch::sin(torch::arange(info.num_layers * info.hidden_size, torch::kFloat32) * 0.37)
                                .reshape({info.num_layers, info.hidden_size});
  const torch::Tensor directions = raw / raw.norm(2, {1}, /*keepdim=*/true);
  for (int64_t layer = 0; layer < info.num_layers; ++layer) {
    for (const model::Component component : model::kAllComponents) {
      ablation::ModuleAblation entry;
      entry.layer = layer;
      entry.component = component;
      entry.weight = 0.8 + 0.1 * static_cast<double>(layer);
      entry.direction = directions[layer].contiguous();
      plan.push_back(entry);
    }
  }
  return plan;
}

inline Outputs run_model(model::CausalLM& model, const std::vector<std::vector<int64_t>>& prompts) {
  Outputs out;
  const model::Batch batch = model.make_batch(prompts);
  out.hidden = model.last_position_hidden_states(batch);
  out.logits = model.next_token_logits(batch);
  out.responses = model.generate_greedy(batch, 6);
  for (const config::RowNormalization mode :
       {config::RowNormalization::kNone, config::RowNormalization::kPre, config::RowNormalization::kFull}) {
    ablation::Ablator ablator(model, mode);
    ablator.apply(test_plan(model.info()));
    out.ablated_logits.push_back(model.next_token_logits(batch));
    out.ablated_responses.push_back(model.generate_greedy(batch, 6));
    ablator.clear();
  }
  out.parameter_bytes = model.weights().parameter_bytes();
  for (int64_t i = 0; i < model.info().num_layers; ++i) {
    out.held_layers.push_back(model.weights().holds(i));
    if (!model.weights().holds(i)) continue;
    const model::DecoderLayerWeights& layer = model.weights().layers[static_cast<size_t>(i)];
    const model::ExpertWeights& experts = layer.experts;
    for (const torch::Tensor* split : {&layer.q_proj.weight, &layer.k_proj.weight, &layer.v_proj.weight,
                                       &layer.o_proj.weight, &layer.gate_proj.weight, &layer.up_proj.weight,
                                       &layer.down_proj.weight, &experts.gate, &experts.up, &experts.down,
                                       &experts.shared_gate.weight, &experts.shared_up.weight,
                                       &experts.shared_down.weight})
      if (split->defined()) out.split_bytes += split->numel() * split->element_size();  // dense or MoE layer parts
  }
  return out;
}

inline double max_relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

// A rank of a split model computed what the whole model computed (`expected`): hidden states and
// logits to float32 rounding (1e-5 relative), the same greedy responses, with every ablation.
inline void expect_same_results(const Outputs& got, const Outputs& expected) {
  EXPECT_LT(max_relative_difference(got.hidden, expected.hidden), 1e-5);
  EXPECT_LT(max_relative_difference(got.logits, expected.logits), 1e-5);
  EXPECT_EQ(got.responses, expected.responses);
  for (size_t mode = 0; mode < 3; ++mode) {
    SCOPED_TRACE("row normalisation " + std::to_string(mode));
    // The ablation changes the model: the comparison is not between two unablated copies.
    EXPECT_GT(max_relative_difference(expected.ablated_logits[mode], expected.logits), 1e-3);
    EXPECT_LT(max_relative_difference(got.ablated_logits[mode], expected.ablated_logits[mode]), 1e-5);
    EXPECT_EQ(got.ablated_responses[mode], expected.ablated_responses[mode]);
  }
}

// The in-process ranks are threads of one process and share its BLAS library, and Debian's
// serial OpenBLAS (libopenblas0-serial, built without locking) returns wrong products when two
// threads call it at once. Real ranks are processes; here the ranks take turns: a rank computes
// only while it holds `turn`, and lets go of it while it waits inside a collective or a message.
template <typename Wait>
void wait_without_turn(std::mutex& turn, Wait wait) {
  turn.unlock();
  struct TakeItBack {
    std::mutex& turn;
    ~TakeItBack() { turn.lock(); }  // also when the collective throws (an aborted world)
  } take_it_back{turn};
  wait();
}

class TakingTurnsTensorGroup : public model::TensorParallelGroup {
 public:
  TakingTurnsTensorGroup(std::shared_ptr<dist::CommunicatorTensorGroup> group, std::mutex& turn)
      : group_(std::move(group)), turn_(turn) {}
  int rank() const override { return group_->rank(); }
  int size() const override { return group_->size(); }
  void all_reduce_sum(torch::Tensor& tensor) override {
    wait_without_turn(turn_, [&] { group_->all_reduce_sum(tensor); });
  }

 private:
  std::shared_ptr<dist::CommunicatorTensorGroup> group_;
  std::mutex& turn_;
};

class TakingTurnsPipeline : public model::PipelineGroup {
 public:
  TakingTurnsPipeline(std::shared_ptr<dist::CommunicatorPipelineGroup> pipeline, std::mutex& turn)
      : pipeline_(std::move(pipeline)), turn_(turn) {}
  int stage() const override { return pipeline_->stage(); }
  int stages() const override { return pipeline_->stages(); }
  int micro_batches() const override { return pipeline_->micro_batches(); }
  void send_to_next(const torch::Tensor& tensor) override {
    wait_without_turn(turn_, [&] { pipeline_->send_to_next(tensor); });
  }
  void receive_from_previous(torch::Tensor& tensor) override {
    wait_without_turn(turn_, [&] { pipeline_->receive_from_previous(tensor); });
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    wait_without_turn(turn_, [&] { pipeline_->broadcast(tensor, root); });
  }

 private:
  std::shared_ptr<dist::CommunicatorPipelineGroup> pipeline_;
  std::mutex& turn_;
};

}  // namespace heretic
