// When console lines carry ANSI colours (issue: colour codes ended up in Slurm output files).
#include "io/logging.h"

#include <gtest/gtest.h>

using heretic::io::console_colors;

TEST(ConsoleColors, OnlyOnATerminalTheUserSees) {
  EXPECT_TRUE(console_colors(/*terminal=*/true, /*launcher=*/false, nullptr));
  EXPECT_FALSE(console_colors(false, false, nullptr));  // a file or a pipe
  // Open MPI hands its ranks a pseudo-terminal, so isatty() is true under mpirun: still no colours.
  EXPECT_FALSE(console_colors(true, true, nullptr));
}

TEST(ConsoleColors, NoColorWithAnyNonEmptyValueTurnsThemOff) {
  EXPECT_FALSE(console_colors(true, false, "1"));
  EXPECT_FALSE(console_colors(true, false, "0"));  // no-color.org: any value, not a boolean
  EXPECT_TRUE(console_colors(true, false, ""));    // set but empty: ignored
}
