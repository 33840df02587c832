/*
 * netinfo.c - the network part of "general_information": addresses,
 * MAC, netmask and gateway of the default interface, and the DNS servers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/net/net_if.h>
#include <zephyr/sys/util.h>
#include <zephyr/net/net_ip.h>
#if defined(CONFIG_DNS_RESOLVER)
#include <zephyr/net/dns_resolve.h>
#endif

#include "nimbus_zephyr.h"

#define NZ_ERR(name) (-(int32_t)NIMBUS_ZEPHYR_E_##name)

/* Appends to a bounded buffer; remembers overflow instead of failing at
 * each call. */
struct out {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
    bool first; /* no member written yet in the current object/array */
};

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;

    if (o->overflow) {
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = true;
        return;
    }
    o->len += (size_t)n;
}

/* "name":"value" with a comma before every member but the first. The
 * values are addresses printed by net_addr_ntop: nothing to escape. */
static void member(struct out *o, const char *name, const char *value)
{
    put(o, "%s\"%s\":\"%s\"", o->first ? "" : ",", name, value);
    o->first = false;
}

static void addr4(struct out *o, const char *name, const struct in_addr *a)
{
    char text[NET_IPV4_ADDR_LEN];

    if (a == NULL || a->s_addr == 0) {
        return;
    }
    if (net_addr_ntop(AF_INET, a, text, sizeof text) != NULL) {
        member(o, name, text);
    }
}

static void mac(struct out *o, const struct net_linkaddr *ll)
{
    char text[3 * 8];

    if (ll == NULL || ll->addr == NULL || ll->len == 0 || ll->len > 8) {
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < ll->len; i++) {
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%02x", i ? ":" : "",
                              ll->addr[i]);
    }
    member(o, "mac", text);
}

#if defined(CONFIG_DNS_RESOLVER)
static void dns_servers(struct out *o)
{
    struct dns_resolve_context *ctx = dns_resolve_get_default();
    bool any = false;

    if (ctx == NULL) {
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(ctx->servers); i++) {
        const struct sockaddr *sa = &ctx->servers[i].dns_server;
        char text[NET_IPV6_ADDR_LEN];
        const void *addr;

        if (sa->sa_family == AF_INET) {
            addr = &net_sin(sa)->sin_addr;
        } else if (sa->sa_family == AF_INET6) {
            addr = &net_sin6(sa)->sin6_addr;
        } else {
            continue;
        }
        if (net_addr_ntop(sa->sa_family, addr, text, sizeof text) == NULL) {
            continue;
        }
        put(o, "%s\"%s\"", any ? "," : (o->first ? "\"dns\":[" : ",\"dns\":["), text);
        any = true;
    }
    if (any) {
        put(o, "]");
        o->first = false;
    }
}
#endif

int32_t nimbus_zephyr_network_json(char *buf, size_t cap)
{
    if (buf == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    struct out o = {.buf = buf, .cap = cap, .len = 0, .overflow = cap == 0, .first = true};
    struct net_if *iface = net_if_get_default();

    put(&o, "{");
    if (iface != NULL) {
#if defined(CONFIG_NET_IPV4)
        struct in_addr *v4 = net_if_ipv4_get_global_addr(iface, NET_ADDR_PREFERRED);
        if (v4 != NULL) {
            struct in_addr mask = net_if_ipv4_get_netmask_by_addr(iface, v4);
            struct in_addr gw = net_if_ipv4_get_gw(iface);
            addr4(&o, "ipv4", v4);
            addr4(&o, "netmask", &mask);
            addr4(&o, "gateway", &gw);
        }
#endif
#if defined(CONFIG_NET_IPV6)
        struct net_if *v6_iface = iface;
        struct in6_addr *v6 = net_if_ipv6_get_global_addr(NET_ADDR_PREFERRED, &v6_iface);
        char text[NET_IPV6_ADDR_LEN];
        if (v6 != NULL && net_addr_ntop(AF_INET6, v6, text, sizeof text) != NULL) {
            member(&o, "ipv6", text);
        }
#endif
        mac(&o, net_if_get_link_addr(iface));
    }
#if defined(CONFIG_DNS_RESOLVER)
    dns_servers(&o);
#endif
    put(&o, "}");
    if (o.overflow) {
        if (cap > 0) {
            buf[0] = '\0';
        }
        return NZ_ERR(BUFFER_TOO_SMALL);
    }
    return (int32_t)o.len;
}
