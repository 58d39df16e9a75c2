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

// ---- Allocation accounting (INFO used_memory, maxmemory) ----
//
// malloc, free and their relatives are interposed (cmalloc.c): each call
// goes to glibc's own (__libc_malloc ...) and adds or subtracts the block's
// malloc_usable_size to a counter owned by the calling thread. A counter is
// written only by its thread (a plain load and store, no lock prefix), on a
// cache line of its own; readers sum them with relaxed loads. A block freed
// by another thread than the one that allocated it moves bytes between two
// counters: the sum stays exact.

/// The calling thread's counter index (claimed on its first allocation).
/// 0 means the shared counter, used once the per-thread ones run out.
int rk_mem_thread_slot(void);

/// Net bytes allocated by the threads of counter `slot`.
long long rk_mem_slot_bytes(int slot);

/// Bytes another thread freed on behalf of counter `slot`'s thread (the
/// lazy-free thread releasing a shard's big values): added with an atomic
/// add by that thread, so a shard's own figure is slot bytes + credit while
/// the sum of the counters stays exact.
void rk_mem_credit(int slot, long long delta);

/// rk_mem_slot_bytes(slot) plus the credit other threads gave it.
long long rk_mem_slot_owned(int slot);

/// Sum of every counter: bytes malloc handed out and not taken back.
long long rk_mem_total_bytes(void);

/// 1 when the allocator is interposed (the counters are live), else 0.
int rk_mem_counting(void);
