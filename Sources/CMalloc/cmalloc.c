#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmalloc.h"

// ---- Per-thread allocation counters ----

#define RK_MEM_SLOTS 256

typedef struct {
    _Alignas(64) _Atomic long long bytes;
} rk_mem_slot;

static rk_mem_slot slots[RK_MEM_SLOTS];
static rk_mem_slot credits[RK_MEM_SLOTS];
static _Atomic int next_slot = 1;
static _Atomic int counting = 0;
// -1: not claimed yet. Initial-exec TLS: no allocation on first access.
static __thread int my_slot __attribute__((tls_model("initial-exec"))) = -1;

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static inline int slot_index(void) {
    int s = my_slot;
    if (__builtin_expect(s < 0, 0)) {
        s = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
        if (s >= RK_MEM_SLOTS) s = 0;
        my_slot = s;
        atomic_store_explicit(&counting, 1, memory_order_relaxed);
    }
    return s;
}

static inline void account(long long delta) {
    int s = slot_index();
    if (__builtin_expect(s == 0, 0)) {
        atomic_fetch_add_explicit(&slots[0].bytes, delta, memory_order_relaxed);
    } else {
        // Only this thread writes this counter: load and store, no RMW.
        long long v = atomic_load_explicit(&slots[s].bytes, memory_order_relaxed);
        atomic_store_explicit(&slots[s].bytes, v + delta, memory_order_relaxed);
    }
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RK_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RK_SANITIZED 1
#endif

#ifdef RK_SANITIZED
// Under ASan/TSan (make sanitize) the sanitizer owns malloc: interposing it
// here would hand out glibc blocks the sanitizer never sees (no checks, and a
// crash when its free meets them). Its allocation hooks feed the same
// counters, so used_memory and maxmemory still work in those builds.
#include <sanitizer/allocator_interface.h>

static void rk_malloc_hook(const volatile void *p, size_t n) {
    (void)p;
    account((long long)n);
}

static void rk_free_hook(const volatile void *p) {
    // Called before the block is released, so its size is still known.
    account(-(long long)__sanitizer_get_allocated_size((const void *)p));
}

__attribute__((constructor)) static void rk_install_hooks(void) {
    __sanitizer_install_malloc_and_free_hooks(rk_malloc_hook, rk_free_hook);
}

#if (defined(__has_feature) && __has_feature(thread_sanitizer)) || defined(__SANITIZE_THREAD__)
// TSan runs the free hook for every block but the allocation hook only for
// malloc, calloc and realloc: an aligned block (the Swift runtime allocates
// through posix_memalign and aligned_alloc) was subtracted and never added,
// so used_memory stayed flat and maxmemory never evicted under TSan. Its
// public names are weak aliases of these, so the definitions below take
// their place and count the block.
extern int ___interceptor_posix_memalign(void **, size_t, size_t);
extern void *___interceptor_aligned_alloc(size_t, size_t);
extern void *___interceptor_memalign(size_t, size_t);

static void *rk_counted(void *p) {
    if (p) account((long long)__sanitizer_get_allocated_size(p));
    return p;
}

int posix_memalign(void **out, size_t align, size_t n) {
    int rc = ___interceptor_posix_memalign(out, align, n);
    if (rc == 0) rk_counted(*out);
    return rc;
}

void *aligned_alloc(size_t align, size_t n) { return rk_counted(___interceptor_aligned_alloc(align, n)); }

void *memalign(size_t align, size_t n) { return rk_counted(___interceptor_memalign(align, n)); }
#endif
#else
void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    if (p) account((long long)malloc_usable_size(p));
    return p;
}

void free(void *p) {
    if (!p) return;
    account(-(long long)malloc_usable_size(p));
    __libc_free(p);
}

void *calloc(size_t n, size_t size) {
    void *p = __libc_calloc(n, size);
    if (p) account((long long)malloc_usable_size(p));
    return p;
}

void *realloc(void *old, size_t n) {
    size_t before = old ? malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p) {
        account((long long)malloc_usable_size(p) - (long long)before);
    } else if (old && n == 0) {
        account(-(long long)before);
    }
    return p;
}

void *memalign(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    if (p) account((long long)malloc_usable_size(p));
    return p;
}

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0 || align == 0) return EINVAL;
    void *p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n) { return memalign(4096, n); }

void *pvalloc(size_t n) { return memalign(4096, (n + 4095) & ~(size_t)4095); }
#endif

int rk_mem_thread_slot(void) { return slot_index(); }

long long rk_mem_slot_bytes(int slot) {
    if (slot < 0 || slot >= RK_MEM_SLOTS) return 0;
    return atomic_load_explicit(&slots[slot].bytes, memory_order_relaxed);
}

void rk_mem_credit(int slot, long long delta) {
    if (slot <= 0 || slot >= RK_MEM_SLOTS) return;
    atomic_fetch_add_explicit(&credits[slot].bytes, delta, memory_order_relaxed);
}

long long rk_mem_slot_owned(int slot) {
    if (slot < 0 || slot >= RK_MEM_SLOTS) return 0;
    return atomic_load_explicit(&slots[slot].bytes, memory_order_relaxed)
        + atomic_load_explicit(&credits[slot].bytes, memory_order_relaxed);
}

long long rk_mem_total_bytes(void) {
    int n = atomic_load_explicit(&next_slot, memory_order_relaxed);
    if (n > RK_MEM_SLOTS) n = RK_MEM_SLOTS;
    long long sum = 0;
    for (int i = 0; i < n; i++) sum += atomic_load_explicit(&slots[i].bytes, memory_order_relaxed);
    return sum;
}

int rk_mem_counting(void) { return atomic_load_explicit(&counting, memory_order_relaxed); }

// ---- glibc statistics ----

size_t rk_malloc_used_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

size_t rk_malloc_held_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return m.arena + m.hblkhd;
}

int rk_malloc_trim(void) {
    return malloc_trim(0);
}

char *rk_malloc_info(size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL) return NULL;
    int rc = malloc_info(0, f);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

size_t rk_malloc_usable_size(void *p) {
    return malloc_usable_size(p);
}

#ifndef RK_SANITIZED
void *reallocarray(void *old, size_t n, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, bytes);
}
#endif
