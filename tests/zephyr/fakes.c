/*
 * fakes.c - the behaviour behind the Zephyr stand-ins, scripted by tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/random/random.h>
#include <zephyr/sys/fdtable.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/fs/nvs.h>

#include "fakes.h"

struct fake_state fake;

const struct device fake_sensor_dev = {.name = "fake-sensor"};

void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
    fake.next_fd = 3;
    fake.gai_count = 1;
    fake.device_ready = true;
}

void fake_log(int level, const char *fmt, ...)
{
    va_list ap;
    char line[512];

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int n = snprintf(fake.log + fake.log_len, sizeof fake.log - fake.log_len, "<%d> %s\n",
                     level, line);
    if (n > 0 && (size_t)n < sizeof fake.log - fake.log_len) {
        fake.log_len += (size_t)n;
    }
}

bool fake_logged(const char *text)
{
    return strstr(fake.log, text) != NULL;
}

const struct fake_sockopt *fake_sockopt(int fd, int level, int optname)
{
    for (int i = 0; i < fake.nopts; i++) {
        if (fake.opts[i].fd == fd && fake.opts[i].level == level &&
            fake.opts[i].optname == optname) {
            return &fake.opts[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ kernel */

int64_t k_uptime_get(void)
{
    return fake.uptime_ms;
}

int32_t k_msleep(int32_t ms)
{
    fake.slept_ms += ms;
    fake.uptime_ms += ms;
    return 0;
}

void sys_rand_get(void *dst, size_t len)
{
    uint8_t *p = dst;
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(fake.rand_byte + i);
    }
}

/* ------------------------------------------------------------ sockets */

static struct zsock_addrinfo gai_results[4];

int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
                      struct zsock_addrinfo **res)
{
    (void)hints;
    fake.gai_calls++;
    (void)snprintf(fake.gai_host, sizeof fake.gai_host, "%s", host);
    (void)snprintf(fake.gai_service, sizeof fake.gai_service, "%s", service);
    if (fake.gai_ret != 0) {
        return fake.gai_ret;
    }
    memset(gai_results, 0, sizeof gai_results);
    int n = fake.gai_count < 4 ? fake.gai_count : 4;
    for (int i = 0; i < n; i++) {
        struct zsock_addrinfo *ai = &gai_results[i];
        struct sockaddr_in *sin = net_sin(&ai->_ai_addr);
        sin->sin_family = AF_INET;
        sin->sin_addr.s4_addr[0] = 127;
        sin->sin_addr.s4_addr[3] = (uint8_t)(i + 1);
        ai->ai_family = AF_INET;
        ai->ai_socktype = SOCK_STREAM;
        ai->ai_addr = &ai->_ai_addr;
        ai->ai_addrlen = sizeof(struct sockaddr_in);
        ai->ai_next = i + 1 < n ? &gai_results[i + 1] : NULL;
    }
    *res = n > 0 ? &gai_results[0] : NULL;
    return 0;
}

void zsock_freeaddrinfo(struct zsock_addrinfo *ai)
{
    (void)ai;
    fake.freeaddrinfo_calls++;
}

int zsock_socket(int family, int type, int proto)
{
    (void)type;
    if (fake.socket_err != 0) {
        errno = fake.socket_err;
        return -1;
    }
    if (fake.sockets < FAKE_MAX) {
        fake.socket_family[fake.sockets] = family;
        fake.socket_proto[fake.sockets] = proto;
    }
    fake.sockets++;
    fake.fcntl_flags = 0;
    return fake.next_fd++;
}

int zsock_close(int sock)
{
    if (fake.closes < FAKE_MAX) {
        fake.closed[fake.closes] = sock;
    }
    fake.closes++;
    return 0;
}

int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen)
{
    if (fake.nopts < FAKE_MAX) {
        struct fake_sockopt *o = &fake.opts[fake.nopts++];
        o->fd = sock;
        o->level = level;
        o->optname = optname;
        o->len = optlen;
        memcpy(o->value, optval, optlen < sizeof o->value ? optlen : sizeof o->value);
    }
    if (optname == fake.sockopt_fail) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* Next scripted result, or "success" when the script has ended. */
static struct fake_io next_io(struct fake_io *script, int n, int *calls, int dflt)
{
    struct fake_io r = {.ret = dflt, .err = 0, .data = NULL};
    if (*calls < n) {
        r = script[*calls];
    }
    (*calls)++;
    return r;
}

int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)sock;
    (void)addr;
    (void)addrlen;
    struct fake_io r = next_io(fake.connect_script, fake.nconnect, &fake.connect_calls, 0);
    if (r.ret < 0) {
        errno = r.err;
        return -1;
    }
    return 0;
}

int zsock_fcntl_wrapper(int sock, int cmd, ...)
{
    (void)sock;
    if (cmd == ZVFS_F_GETFL) {
        return fake.fcntl_flags;
    }
    if (cmd == ZVFS_F_SETFL) {
        va_list ap;
        va_start(ap, cmd);
        int flags = va_arg(ap, int);
        va_end(ap);
        if (fake.fcntl_fail != 0) {
            errno = fake.fcntl_fail;
            return -1;
        }
        fake.fcntl_flags = flags;
        return 0;
    }
    errno = EINVAL;
    return -1;
}

ssize_t zsock_send(int sock, const void *buf, size_t len, int flags)
{
    (void)sock;
    (void)flags;
    struct fake_io r = next_io(fake.send_script, fake.nsend, &fake.send_calls, (int)len);
    if (r.ret < 0) {
        errno = r.err;
        return -1;
    }
    size_t n = (size_t)r.ret < len ? (size_t)r.ret : len;
    if (fake.sent_len + n <= sizeof fake.sent) {
        memcpy(fake.sent + fake.sent_len, buf, n);
        fake.sent_len += n;
    }
    return (ssize_t)n;
}

ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags)
{
    (void)sock;
    (void)flags;
    struct fake_io r = next_io(fake.recv_script, fake.nrecv, &fake.recv_calls, -1);
    if (r.ret < 0) {
        errno = r.err != 0 ? r.err : EAGAIN;
        return -1;
    }
    size_t n = (size_t)r.ret < max_len ? (size_t)r.ret : max_len;
    if (r.data != NULL) {
        memcpy(buf, r.data, n);
    }
    return (ssize_t)n;
}

int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout)
{
    fake.poll_calls++;
    fake.poll_timeout = timeout;
    if (nfds > 0) {
        fake.poll_events = fds[0].events;
        fds[0].revents = fake.poll_revents;
    }
    if (fake.poll_ret < 0) {
        errno = fake.poll_err;
    }
    return fake.poll_ret;
}

/* ------------------------------------------------------------ credentials */

int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
                       size_t credlen)
{
    (void)cred;
    int call = fake.cred_add_calls++;
    int ret = call < FAKE_MAX ? fake.cred_add_ret[call] : 0;
    if (ret == 0 && fake.ncreds < FAKE_MAX) {
        fake.creds[fake.ncreds++] = (struct fake_cred){tag, type, credlen};
    }
    return ret;
}

int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type)
{
    (void)tag;
    (void)type;
    fake.cred_deletes++;
    return 0;
}

/* ------------------------------------------------------------ sensors */

bool device_is_ready(const struct device *dev)
{
    return (dev == &fake_sensor_dev || dev == &fake_flash_dev) && fake.device_ready;
}

/* ------------------------------------------------------------- flash, NVS */

const struct device fake_flash_dev = {.name = "flash"};

int flash_get_page_info_by_offs(const struct device *dev, off_t offset,
                                struct flash_pages_info *info)
{
    fake.page_offset = offset;
    if (dev != &fake_flash_dev || fake.page_size == 0) {
        return -EINVAL;
    }
    info->start_offset = offset;
    info->size = fake.page_size;
    info->index = 0;
    return 0;
}

int nvs_mount(struct nvs_fs *fs)
{
    (void)fs;
    fake.nvs_mounts++;
    return fake.nvs_mount_ret;
}

ssize_t nvs_write(struct nvs_fs *fs, uint16_t id, const void *data, size_t len)
{
    (void)fs;
    if (fake.nvs_io_err != 0) {
        return -fake.nvs_io_err;
    }
    if (id >= FAKE_MAX || len > sizeof fake.nvs_data[0]) {
        return -ENOSPC;
    }
    /* NVS writes nothing for the same bytes again, and says 0. */
    if (fake.nvs_have[id] && fake.nvs_len[id] == len && memcmp(fake.nvs_data[id], data, len) == 0) {
        return 0;
    }
    memcpy(fake.nvs_data[id], data, len);
    fake.nvs_len[id] = len;
    fake.nvs_have[id] = true;
    fake.nvs_writes++;
    return (ssize_t)len;
}

ssize_t nvs_read(struct nvs_fs *fs, uint16_t id, void *data, size_t len)
{
    (void)fs;
    if (fake.nvs_io_err != 0) {
        return -fake.nvs_io_err;
    }
    if (id >= FAKE_MAX || !fake.nvs_have[id]) {
        return -ENOENT;
    }
    /* Like NVS: copies what fits, returns the entry's whole length. */
    memcpy(data, fake.nvs_data[id], len < fake.nvs_len[id] ? len : fake.nvs_len[id]);
    return (ssize_t)fake.nvs_len[id];
}

int nvs_delete(struct nvs_fs *fs, uint16_t id)
{
    (void)fs;
    if (fake.nvs_io_err != 0) {
        return -fake.nvs_io_err;
    }
    if (id < FAKE_MAX) {
        fake.nvs_have[id] = false;
    }
    return 0;
}

int sensor_sample_fetch(const struct device *dev)
{
    (void)dev;
    fake.fetches++;
    return fake.fetch_ret;
}

int sensor_channel_get(const struct device *dev, enum sensor_channel chan,
                       struct sensor_value *val)
{
    (void)dev;
    fake.asked_chan = chan;
    if (fake.get_ret == 0) {
        *val = fake.value;
    }
    return fake.get_ret;
}

/* ------------------------------------------------------------ network */

static struct net_if *const fake_iface = (struct net_if *)&fake;

struct net_if *net_if_get_default(void)
{
    return fake.have_iface ? fake_iface : NULL;
}

struct net_linkaddr *net_if_get_link_addr(struct net_if *iface)
{
    static struct net_linkaddr ll;
    if (iface != fake_iface) {
        return NULL;
    }
    ll.addr = fake.mac;
    ll.len = fake.mac_len;
    return &ll;
}

struct in_addr *net_if_ipv4_get_global_addr(struct net_if *iface, enum net_addr_state addr_state)
{
    (void)addr_state;
    return iface == fake_iface && fake.have_v4 ? &fake.v4 : NULL;
}

struct in_addr net_if_ipv4_get_netmask_by_addr(struct net_if *iface, const struct in_addr *addr)
{
    (void)iface;
    (void)addr;
    return fake.mask;
}

struct in_addr net_if_ipv4_get_gw(struct net_if *iface)
{
    (void)iface;
    return fake.gw;
}

struct in6_addr *net_if_ipv6_get_global_addr(enum net_addr_state state, struct net_if **iface)
{
    (void)state;
    return iface != NULL && *iface == fake_iface && fake.have_v6 ? &fake.v6 : NULL;
}

struct dns_resolve_context *dns_resolve_get_default(void)
{
    return fake.have_dns ? &fake.dns : NULL;
}

/* Zephyr's net_addr_ntop, for the tests: IPv4 dotted quads; IPv6 as eight
 * hex groups without "::" compression (the tests only compare those). */
char *net_addr_ntop(sa_family_t family, const void *src, char *dst, size_t size)
{
    int n;
    if (family == AF_INET) {
        const uint8_t *a = ((const struct in_addr *)src)->s4_addr;
        n = snprintf(dst, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    } else if (family == AF_INET6) {
        const uint8_t *a = ((const struct in6_addr *)src)->s6_addr;
        n = snprintf(dst, size, "%x:%x:%x:%x:%x:%x:%x:%x", a[0] << 8 | a[1], a[2] << 8 | a[3],
                     a[4] << 8 | a[5], a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
                     a[12] << 8 | a[13], a[14] << 8 | a[15]);
    } else {
        return NULL;
    }
    return n > 0 && (size_t)n < size ? dst : NULL;
}
