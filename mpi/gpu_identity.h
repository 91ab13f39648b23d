// Which physical GPU a device index is, independent of how the launcher numbered the visible
// GPUs: with Slurm's --gpus-per-task and device cgroups every task may see its GPU as index 0,
// so only the UUID tells whether two ranks share one.
#pragma once

#include <string>

namespace heretic::dist {

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (as nvidia-smi -L prints it) for CUDA device
// `index`; "" when this build has no CUDA runtime or the device cannot be queried.
std::string gpu_uuid(int index);

}  // namespace heretic::dist
