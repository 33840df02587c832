/*
 * lwip/sockets.h - the project's stand-in for lwIP's socket API header,
 * for cross-compiling ports/common and ports/freertos with
 * NIMBUS_NET_LWIP (lwip_* names) without an lwIP tree. Only what the port
 * uses is declared, with lwIP 2.1's names, types and constant values;
 * nothing implements it (the cross build compiles and sizes, it does not
 * link a firmware).
 */
#ifndef LWIP_HDR_SOCKETS_H
#define LWIP_HDR_SOCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */
#include <sys/time.h>  /* struct timeval */

#ifdef __cplusplus
extern "C" {
#endif

typedef uint8_t sa_family_t;
typedef uint16_t in_port_t;
typedef uint32_t socklen_t;

struct in_addr {
    uint32_t s_addr;
};
struct in6_addr {
    uint32_t un32[4];
};

struct sockaddr {
    uint8_t sa_len;
    sa_family_t sa_family;
    char sa_data[14];
};
struct sockaddr_in {
    uint8_t sin_len;
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    char sin_zero[8];
};
struct sockaddr_in6 {
    uint8_t sin6_len;
    sa_family_t sin6_family;
    in_port_t sin6_port;
    uint32_t sin6_flowinfo;
    struct in6_addr sin6_addr;
    uint32_t sin6_scope_id;
};
struct sockaddr_storage {
    uint8_t s2_len;
    sa_family_t ss_family;
    char s2_data1[2];
    uint32_t s2_data2[3];
    uint32_t s2_data3[3];
};

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define SOL_SOCKET 0xfff
#define SO_ERROR 0x1007
#define TCP_NODELAY 0x01
#define MSG_NOSIGNAL 0x20
#ifndef F_GETFL
#define F_GETFL 3
#endif
#ifndef F_SETFL
#define F_SETFL 4
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK 1
#endif

#ifndef FD_SET
#define FD_SETSIZE 16
typedef struct fd_set {
    unsigned char fd_bits[(FD_SETSIZE + 7) / 8];
} fd_set;
#define FD_SET(n, p) ((p)->fd_bits[(n) / 8] = (unsigned char)((p)->fd_bits[(n) / 8] | (1u << ((n) & 7))))
#define FD_ISSET(n, p) (((p)->fd_bits[(n) / 8] & (1u << ((n) & 7))) != 0)
#define FD_ZERO(p) memset((void *)(p), 0, sizeof(*(p)))
#endif

int lwip_socket(int domain, int type, int protocol);
int lwip_connect(int s, const struct sockaddr *name, socklen_t namelen);
ssize_t lwip_send(int s, const void *dataptr, size_t size, int flags);
ssize_t lwip_recv(int s, void *mem, size_t len, int flags);
int lwip_close(int s);
int lwip_fcntl(int s, int cmd, int val);
int lwip_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
int lwip_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
int lwip_select(int maxfdp1, fd_set *readset, fd_set *writeset, fd_set *exceptset,
                struct timeval *timeout);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_HDR_SOCKETS_H */
