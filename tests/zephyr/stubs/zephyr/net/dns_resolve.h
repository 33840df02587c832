/* Stand-in for <zephyr/net/dns_resolve.h>: the servers of the default
 * resolver context (the other members of Zephyr's struct are left out). */
#ifndef STANDIN_ZEPHYR_NET_DNS_RESOLVE_H
#define STANDIN_ZEPHYR_NET_DNS_RESOLVE_H
#include <zephyr/net/net_ip.h>

#define DNS_RESOLVER_MAX_POLL 3

struct dns_resolve_context {
    struct dns_server {
        struct sockaddr dns_server;
        int sock;
        int if_index;
    } servers[DNS_RESOLVER_MAX_POLL];
};

struct dns_resolve_context *dns_resolve_get_default(void);
#endif
