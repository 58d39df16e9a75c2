// The fuzz build's CMalloc: the server's counters without its malloc
// interposition, so AddressSanitizer's allocator sees every allocation.
#include <malloc.h>
#include <stdlib.h>
#include "cmalloc.h"

size_t rk_malloc_used_bytes(void) { return 0; }
size_t rk_malloc_held_bytes(void) { return 0; }
int rk_malloc_trim(void) { return 0; }
char *rk_malloc_info(size_t *len) { *len = 0; return NULL; }
size_t rk_malloc_usable_size(void *p) { return malloc_usable_size(p); }
int rk_mem_thread_slot(void) { return 0; }
long long rk_mem_slot_bytes(int slot) { (void)slot; return 0; }
void rk_mem_credit(int slot, long long delta) { (void)slot; (void)delta; }
long long rk_mem_slot_owned(int slot) { (void)slot; return 0; }
long long rk_mem_total_bytes(void) { return 0; }
int rk_mem_counting(void) { return 0; }
