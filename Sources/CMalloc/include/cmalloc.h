// glibc's allocator statistics, which Swift's Glibc module does not export
// (it does not include <malloc.h>).
#pragma once
#include <stddef.h>

/// Bytes handed out by malloc and not yet freed: mallinfo2's uordblks (heap
/// chunks, every arena) plus hblkhd (chunks large enough to be mmapped).
size_t rk_malloc_used_bytes(void);

/// Bytes malloc holds from the system: mallinfo2's arena (heap, used and
/// free chunks) plus hblkhd. MEMORY STATS's allocator.active.
size_t rk_malloc_held_bytes(void);

/// malloc_trim(0): gives free heap memory back to the system (MEMORY PURGE).
/// Returns 1 when some memory was released.
int rk_malloc_trim(void);

/// malloc_info(0)'s XML report in a malloc'd buffer the caller frees; its
/// length goes to *len. NULL when it could not be produced.
char *rk_malloc_info(size_t *len);

/// malloc_usable_size of a block malloc handed out (a Swift object, a buffer).
size_t rk_malloc_usable_size(void *p);
