#ifndef PORTSTORM_CLIBURING_SHIM_H
#define PORTSTORM_CLIBURING_SHIM_H
// glibc headers first: liburing.h sets _XOPEN_SOURCE/_GNU_SOURCE, which in a debug build otherwise
// breaks fd_set ("'__fds_bits' is not present").
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
// The kernel's uapi header first: swift-system's CSystem includes it too, and liburing's bundled
// copy (same include guard, older layout) would otherwise define io_uring_sqe a second time.
#include <linux/io_uring.h>
#include <liburing.h>

// IOSQE_* are `(1U << bit)` macros that Swift cannot import: re-exported as constants.
static const unsigned char PS_IOSQE_CQE_SKIP_SUCCESS = IOSQE_CQE_SKIP_SUCCESS;
static const unsigned PS_IORING_SETUP_SINGLE_ISSUER = IORING_SETUP_SINGLE_ISSUER;
static const unsigned PS_IORING_SETUP_DEFER_TASKRUN = IORING_SETUP_DEFER_TASKRUN;
static const unsigned PS_IORING_SETUP_COOP_TASKRUN = IORING_SETUP_COOP_TASKRUN;
static const unsigned PS_IORING_SETUP_SUBMIT_ALL = IORING_SETUP_SUBMIT_ALL;
static const unsigned PS_IORING_SETUP_CQSIZE = IORING_SETUP_CQSIZE;
static const unsigned PS_IORING_ASYNC_CANCEL_ANY = IORING_ASYNC_CANCEL_ANY;

// Linux 6.3: per-socket ephemeral port range (level IPPROTO_IP); absent from older headers.
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
static const int PS_IP_LOCAL_PORT_RANGE = IP_LOCAL_PORT_RANGE;
static const int PS_IP_BIND_ADDRESS_NO_PORT = IP_BIND_ADDRESS_NO_PORT;

static const unsigned char PS_IOSQE_IO_LINK = IOSQE_IO_LINK;

// SOCKET_URING_OP_GETSOCKOPT (Linux 6.7, enum io_uring_socket_op): getsockopt through the ring.
// Debian's uapi header (6.1) and liburing 2.3 lack it and the SQE's level/optname/optlen/optval
// names, so the fields are filled by their 6.1 names at the same offsets: cmd_op is the low half of
// `off`, level and optname the two halves of `addr`, optlen is `splice_fd_in`, optval is `addr3`.
// The completion's res is the option's length on success (4 for SO_ERROR), or -errno.
#define PS_SOCKET_URING_OP_GETSOCKOPT 2
static inline void ps_prep_getsockopt(struct io_uring_sqe *sqe, int fd, int level, int optname,
                                      void *optval, int optlen) {
    io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
    sqe->off = PS_SOCKET_URING_OP_GETSOCKOPT;
    sqe->addr = (__u64)(__u32)level | ((__u64)(__u32)optname << 32);
    sqe->splice_fd_in = optlen;
    sqe->addr3 = (__u64)(uintptr_t)optval;
}

// SOCKET_URING_OP_SETSOCKOPT (Linux 6.7): setsockopt through the ring, same field layout as above.
// The completion's res is 0 or -errno.
#define PS_SOCKET_URING_OP_SETSOCKOPT 3
static inline void ps_prep_setsockopt(struct io_uring_sqe *sqe, int fd, int level, int optname,
                                      const void *optval, int optlen) {
    io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
    sqe->off = PS_SOCKET_URING_OP_SETSOCKOPT;
    sqe->addr = (__u64)(__u32)level | ((__u64)(__u32)optname << 32);
    sqe->splice_fd_in = optlen;
    sqe->addr3 = (__u64)(uintptr_t)optval;
}

// IORING_OP_BIND (Linux 6.11; liburing 2.7's io_uring_prep_bind): the address in `addr`, its length
// in `off` (addr2). Absent from Debian's 6.1 uapi enum, so the opcode is given by number.
#define PS_IORING_OP_BIND 56
static inline void ps_prep_bind(struct io_uring_sqe *sqe, int fd, const struct sockaddr *addr,
                                socklen_t addrlen) {
    io_uring_prep_rw(PS_IORING_OP_BIND, sqe, fd, addr, 0, addrlen);
}

// IORING_OP_SOCKET into the fixed-file table at `index` (Linux 5.19): the socket gets no descriptor
// in the process's table; later requests name it by index with IOSQE_FIXED_FILE.
static inline void ps_prep_socket_direct(struct io_uring_sqe *sqe, int domain, int type, unsigned index) {
    io_uring_prep_socket_direct(sqe, domain, type, 0, index, 0);
}

static const unsigned char PS_IOSQE_FIXED_FILE = IOSQE_FIXED_FILE;
static const int PS_IORING_OP_SOCKET = IORING_OP_SOCKET;

#endif
