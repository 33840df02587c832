/* Stand-in for <zephyr/net/net_ip.h>: Zephyr's address types (not the
 * host's), with v4.1's names and layout. */
#ifndef STANDIN_ZEPHYR_NET_NET_IP_H
#define STANDIN_ZEPHYR_NET_NET_IP_H
#include <stddef.h>
#include <stdint.h>

#define PF_UNSPEC 0
#define PF_INET 1
#define PF_INET6 2
#define AF_UNSPEC PF_UNSPEC
#define AF_INET PF_INET
#define AF_INET6 PF_INET6

enum net_sock_type { SOCK_STREAM = 1, SOCK_DGRAM, SOCK_RAW };
enum net_ip_protocol { IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_UDP = 17 };
enum net_ip_protocol_secure { IPPROTO_TLS_1_0 = 256, IPPROTO_TLS_1_1 = 257, IPPROTO_TLS_1_2 = 258 };

typedef unsigned short int sa_family_t;
typedef size_t socklen_t;

struct in_addr {
    union {
        uint8_t s4_addr[4];
        uint16_t s4_addr16[2];
        uint32_t s4_addr32[1];
        uint32_t s_addr;
    };
};

struct in6_addr {
    union {
        uint8_t s6_addr[16];
        uint16_t s6_addr16[8];
        uint32_t s6_addr32[4];
    };
};

struct sockaddr_in6 {
    sa_family_t sin6_family;
    uint16_t sin6_port;
    struct in6_addr sin6_addr;
    uint8_t sin6_scope_id;
};

struct sockaddr_in {
    sa_family_t sin_family;
    uint16_t sin_port;
    struct in_addr sin_addr;
};

/* As with IPv6 enabled: large enough for a sockaddr_in6. */
struct sockaddr {
    sa_family_t sa_family;
    char data[sizeof(struct sockaddr_in6) - sizeof(sa_family_t)];
};

#define NET_IPV6_ADDR_LEN sizeof("xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx")
#define NET_IPV4_ADDR_LEN sizeof("xxx.xxx.xxx.xxx")

static inline struct sockaddr_in *net_sin(const struct sockaddr *addr)
{
    return (struct sockaddr_in *)(uintptr_t)addr; /* Zephyr casts const away too */
}

static inline struct sockaddr_in6 *net_sin6(const struct sockaddr *addr)
{
    return (struct sockaddr_in6 *)(uintptr_t)addr;
}

char *net_addr_ntop(sa_family_t family, const void *src, char *dst, size_t size);
#endif
