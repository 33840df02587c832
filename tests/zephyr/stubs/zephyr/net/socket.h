/* Stand-in for <zephyr/net/socket.h>: the zsock_* calls, TLS socket
 * options and poll bits the port uses (v4.1 names and values). */
#ifndef STANDIN_ZEPHYR_NET_SOCKET_H
#define STANDIN_ZEPHYR_NET_SOCKET_H
#include <stddef.h>
#include <sys/types.h> /* ssize_t */
#include <zephyr/net/net_ip.h>

#define ZSOCK_POLLIN 1
#define ZSOCK_POLLPRI 2
#define ZSOCK_POLLOUT 4
#define ZSOCK_POLLERR 8
#define ZSOCK_POLLHUP 0x10
#define ZSOCK_POLLNVAL 0x20

#define SOL_TLS 282
#define TLS_SEC_TAG_LIST 1
#define TLS_HOSTNAME 2
#define TLS_CIPHERSUITE_LIST 3
#define TLS_CIPHERSUITE_USED 4
#define TLS_PEER_VERIFY 5
#define TLS_DTLS_ROLE 6
#define TLS_ALPN_LIST 7
#define TLS_PEER_VERIFY_NONE 0
#define TLS_PEER_VERIFY_OPTIONAL 1
#define TLS_PEER_VERIFY_REQUIRED 2

struct zsock_pollfd {
    int fd;
    short events;
    short revents;
};

struct zsock_addrinfo {
    struct zsock_addrinfo *ai_next;
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    int ai_eflags;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct sockaddr _ai_addr;
    char _ai_canonname[255 + 1];
};

int zsock_socket(int family, int type, int proto);
int zsock_close(int sock);
int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen);
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
int zsock_fcntl_wrapper(int sock, int cmd, ...);
#define zsock_fcntl zsock_fcntl_wrapper
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);
int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen);
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
                      struct zsock_addrinfo **res);
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);
#endif
