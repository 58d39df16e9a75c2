// glibc's allocator statistics, which Swift's Glibc module does not export
// (it does not include <malloc.h>).
#pragma once
#include <stddef.h>

/// Bytes handed out by malloc and not yet freed: mallinfo2's uordblks (heap
/// chunks, every arena) plus hblkhd (chunks large enough to be mmapped).
size_t rk_malloc_used_bytes(void);
