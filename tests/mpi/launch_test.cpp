// Launch checks: the usual ways a job is started wrongly are recognised and explained.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "mpi/communicator.h"
#include "mpi/launch.h"

namespace heretic::dist {
namespace {

TEST(LaunchCheck, PlainProcessWithoutLauncherIsFine) {
  EXPECT_EQ(check_launch(LaunchEnvironment({}), 0, 1), "");
}

TEST(LaunchCheck, SrunWithPmixIsFine) {
  const LaunchEnvironment env({{"SLURM_NTASKS", "4"}, {"SLURM_PROCID", "2"}, {"SLURM_STEP_ID", "0"}});
  EXPECT_EQ(check_launch(env, 2, 4), "");
}

TEST(LaunchCheck, SrunWithoutPmiStartsSingletons) {
  // Every task sees a world of one and believes it is rank 0.
  const LaunchEnvironment env({{"SLURM_NTASKS", "4"}, {"SLURM_PROCID", "2"}, {"SLURM_STEP_ID", "0"}});
  const std::string problem = check_launch(env, 0, 1);
  EXPECT_NE(problem.find("srun started 4 tasks"), std::string::npos) << problem;
  EXPECT_NE(problem.find("singletons"), std::string::npos);
  EXPECT_NE(problem.find("srun --mpi=pmix"), std::string::npos);
  // Only Slurm task 0 speaks for the singletons.
  EXPECT_FALSE(is_launch_leader(env, 0));
  EXPECT_TRUE(is_launch_leader(LaunchEnvironment(std::map<std::string, std::string>{{"SLURM_PROCID", "0"}}), 0));
}

TEST(LaunchCheck, MpirunInsideAnAllocationIsFine) {
  // mpirun starts its daemons with srun, so the ranks inherit the daemons' Slurm variables;
  // the launcher's own size is what counts.
  const LaunchEnvironment env({{"SLURM_NTASKS", "1"}, {"SLURM_PROCID", "0"}, {"SLURM_STEP_ID", "1"},
                               {"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_EQ(check_launch(env, 1, 2), "");
  EXPECT_TRUE(is_launch_leader(env, 0));
}

TEST(LaunchCheck, MismatchedMpiLibraryIsExplained) {
  const LaunchEnvironment env(std::map<std::string, std::string>{{"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_NE(check_launch(env, 0, 1).find("does not match the mpirun"), std::string::npos);
}

TEST(LaunchCheck, SrunWithoutAnyPmiPluginIsExplainedBeforeMpiInit) {
  // srun --mpi=none: Slurm variables of a step, nothing from a PMI plugin or mpirun.
  const LaunchEnvironment none({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_STEP_ID", "0"}});
  const std::string problem = check_before_mpi_init(none);
  EXPECT_NE(problem.find("srun started 2 tasks without a PMI plugin"), std::string::npos) << problem;
  EXPECT_NE(problem.find("srun --mpi=pmix"), std::string::npos) << problem;
  // With PMIx, PMI-2, mpirun, a single task or outside a step there is nothing to say.
  EXPECT_EQ(check_before_mpi_init(LaunchEnvironment({{"SLURM_NTASKS", "2"}, {"SLURM_STEP_ID", "0"},
                                                     {"PMIX_RANK", "1"}})), "");
  EXPECT_EQ(check_before_mpi_init(LaunchEnvironment({{"SLURM_NTASKS", "2"}, {"SLURM_STEP_ID", "0"},
                                                     {"PMI_RANK", "1"}})), "");
  EXPECT_EQ(check_before_mpi_init(LaunchEnvironment({{"SLURM_NTASKS", "2"}, {"SLURM_STEP_ID", "0"},
                                                     {"OMPI_COMM_WORLD_SIZE", "2"}})), "");
  EXPECT_EQ(check_before_mpi_init(LaunchEnvironment({{"SLURM_NTASKS", "1"}, {"SLURM_STEP_ID", "0"}})), "");
  EXPECT_EQ(check_before_mpi_init(LaunchEnvironment(std::map<std::string, std::string>{{"SLURM_NTASKS", "4"}})),
            "");  // the batch script itself
}

RankPlacement on_gpu(int rank, const std::string& host, const std::string& uuid) {
  return RankPlacement{rank, rank % 4, host, "cuda:0", "", uuid};
}

TEST(GpuSharing, OneRankPerGpuIsFineAlsoWhenEachTaskSeesOnlyItsOwn) {
  // --gpus-per-task=1: every task sees one GPU as cuda:0, but they are different GPUs.
  EXPECT_EQ(check_gpu_sharing({on_gpu(0, "n1", "GPU-a"), on_gpu(1, "n1", "GPU-b"), on_gpu(2, "n2", "GPU-a")}), "");
  EXPECT_EQ(check_gpu_sharing({RankPlacement{0, 0, "n1", "cpu", "", ""}, RankPlacement{1, 1, "n1", "cpu", "", ""}}),
            "");
}

TEST(GpuSharing, TwoRanksOnOneGpuAreExplained) {
  const std::string problem =
      check_gpu_sharing({on_gpu(0, "n1", "GPU-a"), on_gpu(1, "n1", "GPU-b"), on_gpu(2, "n1", "GPU-a")});
  EXPECT_NE(problem.find("ranks 0, 2 on n1 all use GPU GPU-a"), std::string::npos) << problem;
  EXPECT_NE(problem.find("one rank per GPU"), std::string::npos) << problem;
}

TEST(SharedDirectory, OneRankCreatesTheFolderAndLeavesNothingBehind) {
  auto comm = make_single_rank_communicator();
  const auto dir = std::filesystem::temp_directory_path() / ("heretic-shared-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(check_shared_directory(*comm, (dir / "out").string(), "output.dir"), "");
  EXPECT_TRUE(std::filesystem::is_directory(dir / "out"));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "out"));
  std::filesystem::remove_all(dir);
}

TEST(SharedDirectory, AFolderThatCannotBeCreatedIsNamed) {
  auto comm = make_single_rank_communicator();
  const std::string problem = check_shared_directory(*comm, "/proc/heretic-cannot-be-here", "output.dir");
  EXPECT_NE(problem.find("output.dir '/proc/heretic-cannot-be-here': cannot create"), std::string::npos) << problem;
}

TEST(SingleRank, CollectivesAreIdentities) {
  auto comm = make_single_rank_communicator();
  double values[2] = {1.5, 2.5};
  comm->allreduce_sum(values, 2);
  EXPECT_EQ(values[1], 2.5);
  EXPECT_EQ(comm->allgather("x"), std::vector<std::string>{"x"});
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
}

TEST(LaunchCheck, EveryLauncherThatForwardsOutputIsRecognised) {
  using Env = std::map<std::string, std::string>;
  EXPECT_FALSE(started_by_launcher(LaunchEnvironment(Env{})));
  EXPECT_FALSE(started_by_launcher(LaunchEnvironment(Env{{"SLURM_JOB_ID", "7"}})));  // a batch script's own shell
  EXPECT_TRUE(started_by_launcher(LaunchEnvironment(Env{{"OMPI_COMM_WORLD_SIZE", "2"}})));  // Open MPI mpirun
  EXPECT_TRUE(started_by_launcher(LaunchEnvironment(Env{{"PMI_RANK", "0"}})));              // MPICH Hydra, srun pmi2
  EXPECT_TRUE(started_by_launcher(LaunchEnvironment(Env{{"PMIX_RANK", "0"}})));             // srun --mpi=pmix
  EXPECT_TRUE(started_by_launcher(LaunchEnvironment(Env{{"SLURM_STEP_ID", "0"}})));         // srun --mpi=none
}

}  // namespace
}  // namespace heretic::dist
