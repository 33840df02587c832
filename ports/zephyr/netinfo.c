/*
 * netinfo.c - the network part of "general_information": addresses,
 * MAC, netmask and gateway of the default interface, and the DNS servers.
 */
#include <string.h>

#include <zephyr/net/net_if.h>
#include <zephyr/net/net_ip.h>
#include <zephyr/sys/util.h>
#if defined(CONFIG_DNS_RESOLVER)
#include <zephyr/net/dns_resolve.h>
#endif

#include "nimbus_zephyr.h"

#define NZ_ERR(name) ((int32_t)NIMBUS_ERR_##name)

static void v4(nimbus_ip_t *out, const struct in_addr *a)
{
    out->version = 4;
    memcpy(out->bytes, a->s4_addr, 4);
}

static void v6(nimbus_ip_t *out, const struct in6_addr *a)
{
    out->version = 6;
    memcpy(out->bytes, a->s6_addr, 16);
}

#if defined(CONFIG_DNS_RESOLVER)
static void dns_servers(nimbus_zephyr_net_info_t *info)
{
    struct dns_resolve_context *ctx = dns_resolve_get_default();
    nimbus_ip_t *slots[2] = {&info->dns_primary, &info->dns_secondary};
    size_t used = 0;

    if (ctx == NULL) {
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(ctx->servers) && used < ARRAY_SIZE(slots); i++) {
        const struct sockaddr *sa = &ctx->servers[i].dns_server;

        if (sa->sa_family == AF_INET) {
            v4(slots[used++], &net_sin(sa)->sin_addr);
        } else if (sa->sa_family == AF_INET6) {
            v6(slots[used++], &net_sin6(sa)->sin6_addr);
        }
    }
}
#endif

int32_t nimbus_zephyr_net_info(nimbus_zephyr_net_info_t *info)
{
    if (info == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    memset(info, 0, sizeof *info);
    struct net_if *iface = net_if_get_default();

    if (iface != NULL) {
#if defined(CONFIG_NET_IPV4)
        struct in_addr *addr4 = net_if_ipv4_get_global_addr(iface, NET_ADDR_PREFERRED);
        if (addr4 != NULL) {
            struct in_addr mask = net_if_ipv4_get_netmask_by_addr(iface, addr4);
            struct in_addr gw = net_if_ipv4_get_gw(iface);
            v4(&info->ipv4, addr4);
            if (mask.s_addr != 0) {
                v4(&info->netmask, &mask);
            }
            if (gw.s_addr != 0) {
                v4(&info->gateway, &gw);
            }
        }
#endif
#if defined(CONFIG_NET_IPV6)
        struct net_if *v6_iface = iface;
        struct in6_addr *addr6 = net_if_ipv6_get_global_addr(NET_ADDR_PREFERRED, &v6_iface);
        if (addr6 != NULL) {
            v6(&info->ipv6, addr6);
        }
#endif
        const struct net_linkaddr *ll = net_if_get_link_addr(iface);
        if (ll != NULL && ll->addr != NULL && ll->len == sizeof info->mac) {
            memcpy(info->mac, ll->addr, sizeof info->mac);
            info->has_mac = true;
        }
    }
#if defined(CONFIG_DNS_RESOLVER)
    dns_servers(info);
#endif
    return 0;
}
