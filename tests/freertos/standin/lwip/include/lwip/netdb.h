/*
 * lwip/netdb.h - stand-in for lwIP's name resolution header (see
 * lwip/sockets.h in this directory).
 */
#ifndef LWIP_HDR_NETDB_H
#define LWIP_HDR_NETDB_H

#include "lwip/sockets.h"

#ifdef __cplusplus
extern "C" {
#endif

struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct addrinfo *ai_next;
};

int lwip_getaddrinfo(const char *nodename, const char *servname, const struct addrinfo *hints,
                     struct addrinfo **res);
void lwip_freeaddrinfo(struct addrinfo *ai);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_HDR_NETDB_H */
