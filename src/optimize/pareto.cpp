#include "optimize/pareto.h"

#include <cstddef>

namespace heretic::optimize {

bool dominates(const ObjectivePoint& a, const ObjectivePoint& b) {
  bool strictly_better_somewhere = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly_better_somewhere = true;
  }
  return strictly_better_somewhere;
}

std::vector<int> non_dominated_ranks(const std::vector<ObjectivePoint>& points) {
  const std::size_t n = points.size();
  // dominated_by[i] lists the points that dominate i.
  std::vector<std::vector<int>> dominated_by(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (i != j && dominates(points[j], points[i])) dominated_by[i].push_back(static_cast<int>(j));
    }
  }
  std::vector<int> rank(n, -1);
  std::size_t ranked = 0;
  for (int layer = 0; ranked < n; ++layer) {
    std::vector<std::size_t> this_layer;
    for (std::size_t i = 0; i < n; ++i) {
      if (rank[i] != -1) continue;
      bool undominated = true;
      for (int j : dominated_by[i]) undominated &= rank[j] != -1 && rank[j] < layer;
      if (undominated) this_layer.push_back(i);
    }
    for (std::size_t i : this_layer) rank[i] = layer;
    ranked += this_layer.size();
  }
  return rank;
}

std::vector<int> pareto_front(const std::vector<ObjectivePoint>& points) {
  std::vector<int> front;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && dominates(points[j], points[i]);
    }
    if (!dominated) front.push_back(static_cast<int>(i));
  }
  return front;
}

}  // namespace heretic::optimize
