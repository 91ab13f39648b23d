#include "mpi/gpu_identity.h"

#if defined(HERETIC_HAVE_NCCL)
#include <cuda_runtime_api.h>

#include <cstdio>
#endif

namespace heretic::dist {

std::string gpu_uuid(int index) {
#if defined(HERETIC_HAVE_NCCL)
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, index) != cudaSuccess) return "";
  const auto* b = reinterpret_cast<const unsigned char*>(properties.uuid.bytes);
  char text[64];
  std::snprintf(text, sizeof text, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
#else
  (void)index;
  return "";
#endif
}

}  // namespace heretic::dist
