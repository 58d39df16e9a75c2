// C shim for AF_PACKET capture.
//
// Glibc's Swift module exports nothing from linux/if_packet.h, linux/filter.h
// or sys/signalfd.h, and function-like macros (TPACKET_ALIGN, htons) and the
// unions inside tpacket_block_desc do not import usefully. Everything Swift
// needs from those headers goes through the small inline helpers below so the
// Swift side never does pointer arithmetic on kernel struct layouts itself.
#ifndef CPACKET_H
#define CPACKET_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/filter.h>

// Constants re-exported as typed values: several are shift expressions or
// live behind macros the Swift importer skips.
static const uint32_t CPACKET_TP_STATUS_KERNEL = TP_STATUS_KERNEL;
static const uint32_t CPACKET_TP_STATUS_USER = TP_STATUS_USER;
static const uint32_t CPACKET_TP_STATUS_COPY = TP_STATUS_COPY;
static const uint32_t CPACKET_TP_STATUS_LOSING = TP_STATUS_LOSING;
static const uint32_t CPACKET_TP_STATUS_VLAN_VALID = TP_STATUS_VLAN_VALID;
static const uint32_t CPACKET_TP_STATUS_VLAN_TPID_VALID = TP_STATUS_VLAN_TPID_VALID;
static const uint32_t CPACKET_TP_STATUS_BLK_TMO = TP_STATUS_BLK_TMO;
static const uint16_t CPACKET_ETH_P_ALL = ETH_P_ALL;
static const int CPACKET_SOL_PACKET = SOL_PACKET;
static const uint8_t CPACKET_PACKET_HOST = PACKET_HOST;
static const uint8_t CPACKET_PACKET_BROADCAST = PACKET_BROADCAST;
static const uint8_t CPACKET_PACKET_MULTICAST = PACKET_MULTICAST;
static const uint8_t CPACKET_PACKET_OTHERHOST = PACKET_OTHERHOST;
static const uint8_t CPACKET_PACKET_OUTGOING = PACKET_OUTGOING;

// MARK: ring setup and statistics (cpacket.c); each returns 0 or -1 with errno.

/// Opens AF_PACKET/SOCK_RAW with protocol 0, so nothing is queued until
/// cpacket_bind: the filter and ring are in place before the first frame.
int cpacket_open(void);
int cpacket_set_version_v3(int fd);
int cpacket_set_ignore_outgoing(int fd, int on);
int cpacket_set_rx_ring(int fd, uint32_t block_size, uint32_t block_count,
                        uint32_t frame_size, uint32_t retire_timeout_ms);
/// Binds to ETH_P_ALL on one interface, or on all when ifindex is 0.
int cpacket_bind(int fd, int ifindex);
int cpacket_attach_filter(int fd, const struct sock_filter *code, uint16_t count);
int cpacket_detach_filter(int fd);
/// PACKET_STATISTICS; the kernel resets its counters on every read.
int cpacket_read_stats(int fd, uint64_t *packets, uint64_t *drops, uint64_t *freeze_count);
/// An eventfd used to wake a poll(2) waiter from another thread.
int cpacket_eventfd(void);
/// Blocks SIGINT and SIGTERM in the calling thread and returns a signalfd
/// that becomes readable when either arrives.
int cpacket_signalfd_int_term(void);
/// 1 if the named interface has IFF_LOOPBACK, 0 if not, -1 with errno.
int cpacket_is_loopback(const char *name);
/// Size of the per-frame header the kernel writes before the sockaddr_ll.
uint32_t cpacket_tpacket3_hdrlen(void);

// MARK: block descriptor

/// The block status word is the handshake with the kernel: it publishes a
/// filled block with a release store, so user space must load it with
/// acquire before reading the frames; and user space must finish reading
/// before the release store that hands the block back.
static inline uint32_t cpacket_block_status_acquire(const void *block) {
    const struct tpacket_block_desc *b = (const struct tpacket_block_desc *)block;
    return __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
}

static inline void cpacket_block_return_to_kernel(void *block) {
    struct tpacket_block_desc *b = (struct tpacket_block_desc *)block;
    __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

static inline uint32_t cpacket_block_num_packets(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.num_pkts;
}

static inline uint32_t cpacket_block_first_offset(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.offset_to_first_pkt;
}

static inline uint32_t cpacket_block_length(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.blk_len;
}

static inline uint64_t cpacket_block_sequence(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.seq_num;
}

// MARK: frame header (struct tpacket3_hdr at a byte offset inside a block)

static inline const struct tpacket3_hdr *cpacket_frame_at(const void *block, uint32_t offset) {
    return (const struct tpacket3_hdr *)((const uint8_t *)block + offset);
}

static inline uint32_t cpacket_frame_next_offset(const struct tpacket3_hdr *h) { return h->tp_next_offset; }
static inline uint32_t cpacket_frame_sec(const struct tpacket3_hdr *h) { return h->tp_sec; }
static inline uint32_t cpacket_frame_nsec(const struct tpacket3_hdr *h) { return h->tp_nsec; }
static inline uint32_t cpacket_frame_snaplen(const struct tpacket3_hdr *h) { return h->tp_snaplen; }
static inline uint32_t cpacket_frame_len(const struct tpacket3_hdr *h) { return h->tp_len; }
static inline uint32_t cpacket_frame_status(const struct tpacket3_hdr *h) { return h->tp_status; }
static inline uint16_t cpacket_frame_mac_offset(const struct tpacket3_hdr *h) { return h->tp_mac; }
static inline uint16_t cpacket_frame_vlan_tci(const struct tpacket3_hdr *h) { return h->hv1.tp_vlan_tci; }
static inline uint16_t cpacket_frame_vlan_tpid(const struct tpacket3_hdr *h) { return h->hv1.tp_vlan_tpid; }

/// The kernel places a sockaddr_ll right after the aligned tpacket3_hdr.
static inline const struct sockaddr_ll *cpacket_frame_sll(const struct tpacket3_hdr *h) {
    return (const struct sockaddr_ll *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
}

static inline uint8_t cpacket_sll_pkttype(const struct sockaddr_ll *s) { return s->sll_pkttype; }
static inline int cpacket_sll_ifindex(const struct sockaddr_ll *s) { return s->sll_ifindex; }
static inline uint16_t cpacket_sll_hatype(const struct sockaddr_ll *s) { return s->sll_hatype; }
/// sll_protocol converted from network to host order.
static inline uint16_t cpacket_sll_protocol(const struct sockaddr_ll *s) {
    return (uint16_t)((s->sll_protocol >> 8) | (s->sll_protocol << 8));
}

// MARK: classic BPF

static inline struct sock_filter cpacket_bpf_insn(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
    struct sock_filter f = { code, jt, jf, k };
    return f;
}

#endif
