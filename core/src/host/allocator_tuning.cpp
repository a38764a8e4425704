// Process-wide malloc settings (see mqb/host/allocator_tuning.h).
#include "mqb/host/allocator_tuning.h"

#include <malloc.h>

namespace mqb {

void keep_freed_memory_for_large_tensors() {
  // 1 GiB: tensors up to 256M floats come from the heap instead of their own mmap.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  // Never shrink the heap top on free; pad growth so repeated allocations reuse pages.
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_TOP_PAD, 256 << 20);
}

}  // namespace mqb
