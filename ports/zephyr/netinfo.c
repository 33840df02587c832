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

#define NZ_ERR(name) (-(int32_t)NIMBUS_ZEPHYR_E_##name)

/* Address text into out (NIMBUS_ZEPHYR_ADDR_TEXT_LEN), "" if unknown. */
static void text(char *out, sa_family_t family, const void *addr)
{
    if (net_addr_ntop(family, addr, out, NIMBUS_ZEPHYR_ADDR_TEXT_LEN) == NULL) {
        out[0] = '\0';
    }
}

#if defined(CONFIG_DNS_RESOLVER)
static void dns_servers(nimbus_zephyr_net_info_t *info)
{
    struct dns_resolve_context *ctx = dns_resolve_get_default();
    char *slots[2] = {info->dns_primary, info->dns_secondary};
    size_t used = 0;

    if (ctx == NULL) {
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(ctx->servers) && used < ARRAY_SIZE(slots); i++) {
        const struct sockaddr *sa = &ctx->servers[i].dns_server;

        if (sa->sa_family == AF_INET) {
            text(slots[used], AF_INET, &net_sin(sa)->sin_addr);
        } else if (sa->sa_family == AF_INET6) {
            text(slots[used], AF_INET6, &net_sin6(sa)->sin6_addr);
        } else {
            continue;
        }
        if (slots[used][0] != '\0') {
            used++;
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
        struct in_addr *v4 = net_if_ipv4_get_global_addr(iface, NET_ADDR_PREFERRED);
        if (v4 != NULL) {
            struct in_addr mask = net_if_ipv4_get_netmask_by_addr(iface, v4);
            struct in_addr gw = net_if_ipv4_get_gw(iface);
            text(info->ipv4, AF_INET, v4);
            if (mask.s_addr != 0) {
                text(info->netmask, AF_INET, &mask);
            }
            if (gw.s_addr != 0) {
                text(info->gateway, AF_INET, &gw);
            }
        }
#endif
#if defined(CONFIG_NET_IPV6)
        struct net_if *v6_iface = iface;
        struct in6_addr *v6 = net_if_ipv6_get_global_addr(NET_ADDR_PREFERRED, &v6_iface);
        if (v6 != NULL) {
            text(info->ipv6, AF_INET6, v6);
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
