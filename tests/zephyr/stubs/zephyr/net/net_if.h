/* Stand-in for <zephyr/net/net_if.h>: the default interface's addresses
 * (v4.1 signatures; net_if_get_link_addr is a static inline in Zephyr). */
#ifndef STANDIN_ZEPHYR_NET_NET_IF_H
#define STANDIN_ZEPHYR_NET_NET_IF_H
#include <stdint.h>
#include <zephyr/net/net_ip.h>

struct net_if;

struct net_linkaddr {
    uint8_t *addr;
    uint8_t len;
    uint8_t type;
};

enum net_addr_state {
    NET_ADDR_ANY_STATE = -1,
    NET_ADDR_TENTATIVE = 0,
    NET_ADDR_PREFERRED,
    NET_ADDR_DEPRECATED,
};

struct net_if *net_if_get_default(void);
struct net_linkaddr *net_if_get_link_addr(struct net_if *iface);
struct in_addr *net_if_ipv4_get_global_addr(struct net_if *iface, enum net_addr_state addr_state);
struct in_addr net_if_ipv4_get_netmask_by_addr(struct net_if *iface, const struct in_addr *addr);
struct in_addr net_if_ipv4_get_gw(struct net_if *iface);
struct in6_addr *net_if_ipv6_get_global_addr(enum net_addr_state state, struct net_if **iface);
#endif
