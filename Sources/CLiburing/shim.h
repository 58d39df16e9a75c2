// Only what Swift cannot import from liburing.h directly: flag macros built
// from shifts, CQE iteration (a macro), and fields that live in anonymous
// unions. liburing's static inline functions import as they are.
#ifndef RINGKV_CLIBURING_SHIM_H
#define RINGKV_CLIBURING_SHIM_H

// liburing.h defines _XOPEN_SOURCE, which renames fd_set's field; include
// the system headers first, as Swift's Glibc module sees them, so both agree.
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <inttypes.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <liburing.h>

// Swift has no prefetch intrinsic; the router uses this to start the cache
// misses of a pipelined batch's key lookups before it runs the batch.
static inline void rk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
static inline int rk_accept4(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }
static inline void rk_name_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

static const unsigned RK_IOSQE_FIXED_FILE = IOSQE_FIXED_FILE;
static const unsigned RK_IOSQE_IO_LINK = IOSQE_IO_LINK;
static const unsigned RK_IOSQE_BUFFER_SELECT = IOSQE_BUFFER_SELECT;
static const unsigned RK_IOSQE_CQE_SKIP_SUCCESS = IOSQE_CQE_SKIP_SUCCESS;
static const unsigned RK_SETUP_SINGLE_ISSUER = IORING_SETUP_SINGLE_ISSUER;
static const unsigned RK_SETUP_DEFER_TASKRUN = IORING_SETUP_DEFER_TASKRUN;
static const unsigned RK_SETUP_COOP_TASKRUN = IORING_SETUP_COOP_TASKRUN;
static const unsigned RK_SETUP_SUBMIT_ALL = IORING_SETUP_SUBMIT_ALL;
static const unsigned RK_CQE_F_BUFFER = IORING_CQE_F_BUFFER;
static const unsigned RK_CQE_F_MORE = IORING_CQE_F_MORE;
static const unsigned RK_CQE_BUFFER_SHIFT = IORING_CQE_BUFFER_SHIFT;
static const unsigned RK_EPOLLIN = EPOLLIN;
static const unsigned RK_EPOLLOUT = EPOLLOUT;
static const unsigned RK_EPOLLRDHUP = EPOLLRDHUP;
static const unsigned RK_EPOLLET = EPOLLET;

static inline void rk_sqe_set_buf_group(struct io_uring_sqe *sqe, unsigned short bgid) {
    sqe->buf_group = bgid;
}

// Walks ready CQEs without the io_uring_for_each_cqe macro: returns how many
// are ready and stores the first head index; rk_cqe_at indexes from there.
static inline unsigned rk_cq_ready(struct io_uring *ring, unsigned *head) {
    *head = *ring->cq.khead;
    return io_uring_cq_ready(ring);
}

static inline struct io_uring_cqe *rk_cqe_at(struct io_uring *ring, unsigned head, unsigned i) {
    unsigned shift = (ring->flags & IORING_SETUP_CQE32) ? 1 : 0;
    return &ring->cq.cqes[((head + i) & ring->cq.ring_mask) << shift];
}

// liburing 2.3 has no io_uring_setup_buf_ring: map the ring memory ourselves
// and register it, so multishot recv can pick buffers from it.
static inline struct io_uring_buf_ring *rk_setup_buf_ring(struct io_uring *ring, unsigned entries,
                                                          unsigned short bgid, int *err) {
    size_t size = entries * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) { *err = -errno; return NULL; }
    struct io_uring_buf_reg reg = {0};
    reg.ring_addr = (unsigned long)(uintptr_t)mem;
    reg.ring_entries = entries;
    reg.bgid = bgid;
    int ret = io_uring_register_buf_ring(ring, &reg, 0);
    if (ret) { munmap(mem, size); *err = ret; return NULL; }
    struct io_uring_buf_ring *br = (struct io_uring_buf_ring *)mem;
    io_uring_buf_ring_init(br);
    *err = 0;
    return br;
}

static inline void rk_free_buf_ring(struct io_uring_buf_ring *br, unsigned entries) {
    munmap(br, entries * sizeof(struct io_uring_buf));
}

static inline void rk_buf_ring_add(struct io_uring_buf_ring *br, void *addr, unsigned len,
                                   unsigned short bid, unsigned mask, int offset) {
    io_uring_buf_ring_add(br, addr, len, bid, (int)mask, offset);
}

static inline void rk_buf_ring_advance(struct io_uring_buf_ring *br, int count) {
    io_uring_buf_ring_advance(br, count);
}

// Full barrier around the "worker is about to sleep" flag handshake is done in
// Swift atomics; these give plain C atomics for the preallocated MPSC cells.
static inline long rk_atomic_load_acquire(const long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void rk_atomic_store_release(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int rk_atomic_cas(long *p, long expected, long desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
static inline long rk_atomic_exchange(long *p, long v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline long rk_atomic_load_seqcst(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void rk_atomic_store_seqcst(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline long rk_atomic_add(long *p, long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline void rk_fence_seqcst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
// The time-stamp counter, for INFO commandstats' per-call timing (Server/CommandClock.swift).
#if defined(__x86_64__)
static inline uint64_t rk_rdtsc(void) { return __builtin_ia32_rdtsc(); }
#else
static inline uint64_t rk_rdtsc(void) { return 0; }
#endif

#endif
