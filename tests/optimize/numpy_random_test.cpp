#include "optimize/numpy_random.h"

#include <gtest/gtest.h>

namespace heretic::optimize {
namespace {

TEST(NumpyRandom, MatchesNumpyRandomStateDoubles) {
  // numpy.random.RandomState(0).random_sample(3)
  NumpyRandom rng(0);
  EXPECT_EQ(rng.next_double(), 0.5488135039273248);
  EXPECT_EQ(rng.next_double(), 0.7151893663724195);
  EXPECT_EQ(rng.next_double(), 0.6027633760716439);
}

TEST(NumpyRandom, UniformScalesTheSameDraw) {
  NumpyRandom a(7), b(7);
  const double u = a.next_double();
  EXPECT_EQ(b.uniform(-2.0, 3.0), -2.0 + 5.0 * u);
}

TEST(NumpyRandom, ChoiceFollowsCumulativeWeights) {
  NumpyRandom rng(3);
  const std::vector<double> cumulative = {0.1, 0.1, 0.8, 1.0};  // second entry has weight 0
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 20000; ++i) ++counts[rng.choice(cumulative)];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0] / 20000.0, 0.1, 0.01);
  EXPECT_NEAR(counts[2] / 20000.0, 0.7, 0.01);
  EXPECT_NEAR(counts[3] / 20000.0, 0.2, 0.01);
}

TEST(NumpyRandom, SeekContinuesTheStream) {
  NumpyRandom a(42);
  for (int i = 0; i < 1001; ++i) a.next_double();
  EXPECT_EQ(a.position(), 2002u);
  NumpyRandom b(42);
  b.next_double();
  b.seek(a.position());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.next_double(), b.next_double());
}

}  // namespace
}  // namespace heretic::optimize
