// Process-wide malloc settings for large-tensor work. glibc serves blocks above 32 MiB
// (its dynamic mmap threshold) with fresh mmap'ed pages and unmaps them on free, so every
// new 64 MB activation or gradient pays its page faults again; on this machine that
// first-touch cost was larger than the fake-quant arithmetic itself (16M floats: forward
// 13.7 ms by default, 6.2 ms with freed blocks kept). Keeping freed memory in the heap
// trades a higher resident size (the peak) for that speed, as jemalloc-based PyTorch
// deployments do. Programs opt in; the library never calls it on its own.
#pragma once
#include "mqb/error.h"

namespace mqb {

// Serves large blocks from the heap and keeps freed memory for reuse. Call once, early.
MQB_API void keep_freed_memory_for_large_tensors();

}  // namespace mqb
