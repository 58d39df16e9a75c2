#include "cpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>

int cpacket_open(void) {
    return socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
}

int cpacket_set_version_v3(int fd) {
    int version = TPACKET_V3;
    return setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version);
}

int cpacket_set_ignore_outgoing(int fd, int on) {
    return setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on);
}

int cpacket_set_rx_ring(int fd, uint32_t block_size, uint32_t block_count,
                        uint32_t frame_size, uint32_t retire_timeout_ms) {
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_count;
    req.tp_frame_size = frame_size;
    // V3 packs variable-length frames into blocks; the kernel only checks
    // that this product matches the block geometry.
    req.tp_frame_nr = frame_size ? (uint32_t)(((uint64_t)block_size * block_count) / frame_size) : 0;
    req.tp_retire_blk_tov = retire_timeout_ms;
    req.tp_sizeof_priv = 0;
    req.tp_feature_req_word = 0;
    return setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req);
}

int cpacket_bind(int fd, int ifindex) {
    struct sockaddr_ll addr;
    memset(&addr, 0, sizeof addr);
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = ifindex;
    return bind(fd, (struct sockaddr *)&addr, sizeof addr);
}

int cpacket_attach_filter(int fd, const struct sock_filter *code, uint16_t count) {
    struct sock_fprog prog;
    prog.len = count;
    prog.filter = (struct sock_filter *)code;
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

int cpacket_detach_filter(int fd) {
    int unused = 0;
    return setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused);
}

int cpacket_read_stats(int fd, uint64_t *packets, uint64_t *drops, uint64_t *freeze_count) {
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return -1;
    *packets = st.tp_packets;
    *drops = st.tp_drops;
    *freeze_count = st.tp_freeze_q_cnt;
    return 0;
}

int cpacket_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int cpacket_signalfd_int_term(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

uint32_t cpacket_tpacket3_hdrlen(void) {
    return (uint32_t)TPACKET3_HDRLEN;
}

int cpacket_is_loopback(const char *name) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (strlen(name) >= sizeof ifr.ifr_name) { errno = ENODEV; return -1; }
    strcpy(ifr.ifr_name, name);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    int saved = errno;
    close(fd);
    if (rc != 0) { errno = saved; return -1; }
    return (ifr.ifr_flags & IFF_LOOPBACK) ? 1 : 0;
}
