/*
 * transport.c - the Zephyr transport: a socket per connection, TLS through
 * Zephyr's TLS sockets, non-blocking send/recv and a zsock_poll() helper.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#include <zephyr/sys/fdtable.h> /* ZVFS_F_GETFL, ZVFS_O_NONBLOCK */

#include "nimbus_zephyr.h"

LOG_MODULE_DECLARE(nimbus, CONFIG_NIMBUS_LOG_LEVEL);

#define NZ_ERR(name) ((int32_t)NIMBUS_ERR_##name)

/* ------------------------------------------------------------ init */

int32_t nimbus_zephyr_transport_init(nimbus_zephyr_transport_t *t,
                                     const nimbus_zephyr_config_t *cfg)
{
    if (t == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    memset(t, 0, sizeof *t);
    t->fd = -1;
    if (cfg == NULL || cfg->host == NULL) {
        LOG_ERR("config: host is required");
        return NZ_ERR(NULL_ARGUMENT);
    }
    if (cfg->host[0] == '\0' || cfg->port == 0 ||
        (cfg->connect_address != NULL && cfg->connect_address[0] == '\0')) {
        LOG_ERR("config: empty host/connect_address or port 0");
        return NZ_ERR(INVALID_ARGUMENT);
    }
    if (cfg->sec_tag_count > NIMBUS_ZEPHYR_MAX_SEC_TAGS ||
        (!cfg->plain_tcp && cfg->sec_tag_count == 0)) {
        LOG_ERR("config: TLS needs 1 to %d security tags, %u given",
                NIMBUS_ZEPHYR_MAX_SEC_TAGS, (unsigned)cfg->sec_tag_count);
        return NZ_ERR(INVALID_ARGUMENT);
    }
    t->cfg = *cfg;
    t->initialised = true;
    return 0;
}

/* ------------------------------------------------------------ connect */

static void close_socket(nimbus_zephyr_transport_t *t)
{
    if (t->fd >= 0) {
        (void)zsock_close(t->fd);
        t->fd = -1;
    }
}

/* Maps a failed connect()'s errno. */
static int32_t connect_errno(int err)
{
    /* Zephyr's TLS sockets report a failed handshake or a rejected
     * certificate as ECONNABORTED (the reason is in the net log). */
    if (err == ECONNABORTED || err == EACCES || err == EPROTO) {
        return NZ_ERR(TLS_FAILED);
    }
    return NZ_ERR(TRANSPORT_FAILED);
}

/* Applies the TLS socket options. 0 or -31 (logged). */
static int32_t tls_options(const nimbus_zephyr_transport_t *t, int fd)
{
    const nimbus_zephyr_config_t *c = &t->cfg;
    int verify = c->insecure_skip_verify ? TLS_PEER_VERIFY_NONE : TLS_PEER_VERIFY_REQUIRED;

    if (zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, c->sec_tags,
                         (socklen_t)(c->sec_tag_count * sizeof(sec_tag_t))) < 0) {
        LOG_ERR("TLS_SEC_TAG_LIST: errno %d", errno);
        return NZ_ERR(TLS_FAILED);
    }
    /* SNI and the name verified against the server certificate. */
    if (zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, c->host,
                         (socklen_t)(strlen(c->host) + 1u)) < 0) {
        LOG_ERR("TLS_HOSTNAME: errno %d", errno);
        return NZ_ERR(TLS_FAILED);
    }
    if (zsock_setsockopt(fd, SOL_TLS, TLS_PEER_VERIFY, &verify, sizeof verify) < 0) {
        LOG_ERR("TLS_PEER_VERIFY: errno %d", errno);
        return NZ_ERR(TLS_FAILED);
    }
    if (c->alpn != NULL && c->alpn[0] != NULL) {
        size_t n = 0;
        while (c->alpn[n] != NULL) {
            n++;
        }
        if (zsock_setsockopt(fd, SOL_TLS, TLS_ALPN_LIST, c->alpn,
                             (socklen_t)(n * sizeof(char *))) < 0) {
            LOG_ERR("TLS_ALPN_LIST: errno %d (CONFIG_MBEDTLS_SSL_ALPN?)", errno);
            return NZ_ERR(TLS_FAILED);
        }
    }
    return 0;
}

/* Connects to one resolved address. 0 (t->fd set) or < 0 (logged). */
static int32_t connect_one(nimbus_zephyr_transport_t *t, const struct zsock_addrinfo *ai)
{
    int proto = t->cfg.plain_tcp ? IPPROTO_TCP : IPPROTO_TLS_1_2;
    int fd = zsock_socket(ai->ai_family, SOCK_STREAM, proto);

    if (fd < 0) {
        LOG_ERR("socket: errno %d", errno);
        return NZ_ERR(TRANSPORT_FAILED);
    }
    int32_t r = t->cfg.plain_tcp ? 0 : tls_options(t, fd);
    if (r == 0 && zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int err = errno;
        r = connect_errno(err);
        LOG_ERR("connect to %s port %u: errno %d%s", t->cfg.host, (unsigned)t->cfg.port,
                err, r == NZ_ERR(TLS_FAILED) ? " (TLS handshake failed)" : "");
    }
    if (r == 0) {
        int flags = zsock_fcntl(fd, ZVFS_F_GETFL, 0);
        if (flags < 0 || zsock_fcntl(fd, ZVFS_F_SETFL, flags | ZVFS_O_NONBLOCK) < 0) {
            LOG_ERR("fcntl O_NONBLOCK: errno %d", errno);
            r = NZ_ERR(TRANSPORT_FAILED);
        }
    }
    if (r != 0) {
        (void)zsock_close(fd);
        return r;
    }
    t->fd = fd;
    return 0;
}

int32_t nimbus_zephyr_transport_open(void *ctx)
{
    nimbus_zephyr_transport_t *t = ctx;

    if (t == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    if (!t->initialised) {
        LOG_ERR("open: transport not initialised");
        return NZ_ERR(INVALID_ARGUMENT);
    }
    if (t->state == NIMBUS_ZEPHYR_READY) {
        return 1;
    }
    nimbus_zephyr_transport_close(t); /* BROKEN: start over */

    const char *name = t->cfg.connect_address != NULL ? t->cfg.connect_address
                                                      : t->cfg.host;
    struct zsock_addrinfo hints;
    struct zsock_addrinfo *list = NULL;
    char port[8];

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    (void)snprintf(port, sizeof port, "%u", (unsigned)t->cfg.port);
    int rc = zsock_getaddrinfo(name, port, &hints, &list);
    if (rc != 0 || list == NULL) {
        LOG_ERR("cannot resolve %s: %d", name, rc);
        return NZ_ERR(TRANSPORT_FAILED);
    }
    int32_t r = NZ_ERR(TRANSPORT_FAILED);
    unsigned tried = 0;
    for (const struct zsock_addrinfo *ai = list;
         ai != NULL && tried < NIMBUS_ZEPHYR_MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
            continue;
        }
        tried++;
        r = connect_one(t, ai);
        /* A TLS failure is the server's answer: another address of the
         * same name would give the same one. */
        if (r == 0 || r == NZ_ERR(TLS_FAILED)) {
            break;
        }
    }
    zsock_freeaddrinfo(list);
    if (r != 0) {
        return r;
    }
    t->state = NIMBUS_ZEPHYR_READY;
    LOG_INF("connected to %s port %u%s", t->cfg.host, (unsigned)t->cfg.port,
            t->cfg.plain_tcp ? " (plain TCP)" : " (TLS)");
    return 1;
}

void nimbus_zephyr_transport_close(void *ctx)
{
    nimbus_zephyr_transport_t *t = ctx;

    if (t == NULL) {
        return;
    }
    close_socket(t); /* a TLS socket sends close-notify itself */
    t->state = NIMBUS_ZEPHYR_IDLE;
    t->want_write = false;
    t->broken_error = 0;
}

/* ------------------------------------------------------------ send/recv */

/* Marks t broken so later calls repeat err instead of touching the link. */
static int32_t broken(nimbus_zephyr_transport_t *t, int32_t err)
{
    t->state = NIMBUS_ZEPHYR_BROKEN;
    t->broken_error = err;
    return err;
}

/* Error for send/recv when t is not READY. */
static int32_t not_ready(const nimbus_zephyr_transport_t *t)
{
    return t->state == NIMBUS_ZEPHYR_BROKEN ? t->broken_error : NZ_ERR(NOT_CONNECTED);
}

/* Maps a failed send/recv errno; EAGAIN is handled by the caller. */
static int32_t io_errno(nimbus_zephyr_transport_t *t, const char *what, int err)
{
    if (err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ESHUTDOWN) {
        LOG_INF("%s: connection closed (errno %d)", what, err);
        return broken(t, NZ_ERR(CONNECTION_CLOSED));
    }
    LOG_ERR("%s: errno %d", what, err);
    return broken(t, err == ECONNABORTED ? NZ_ERR(TLS_FAILED) : NZ_ERR(TRANSPORT_FAILED));
}

static bool would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

int32_t nimbus_zephyr_transport_send(void *ctx, const uint8_t *buf, size_t len)
{
    nimbus_zephyr_transport_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0)) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    if (t->state != NIMBUS_ZEPHYR_READY) {
        return not_ready(t);
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    ssize_t n = zsock_send(t->fd, buf, len, 0);
    if (n >= 0) {
        t->want_write = false;
        return (int32_t)(n > (ssize_t)len ? (ssize_t)len : n);
    }
    if (would_block(errno)) {
        t->want_write = true;
        return 0;
    }
    return io_errno(t, "send", errno);
}

int32_t nimbus_zephyr_transport_recv(void *ctx, uint8_t *buf, size_t len)
{
    nimbus_zephyr_transport_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0)) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    if (t->state != NIMBUS_ZEPHYR_READY) {
        return not_ready(t);
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    ssize_t n = zsock_recv(t->fd, buf, len, 0);
    if (n > 0) {
        return (int32_t)(n > (ssize_t)len ? (ssize_t)len : n);
    }
    if (n == 0) {
        LOG_INF("recv: the server closed the connection");
        return broken(t, NZ_ERR(CONNECTION_CLOSED));
    }
    if (would_block(errno)) {
        return 0;
    }
    return io_errno(t, "recv", errno);
}

/* ------------------------------------------------------------ wait */

int32_t nimbus_zephyr_wait(nimbus_zephyr_transport_t *t, uint32_t timeout_ms)
{
    if (t == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    int ms = timeout_ms > (uint32_t)INT_MAX ? INT_MAX : (int)timeout_ms;

    if (t->fd < 0 || t->state != NIMBUS_ZEPHYR_READY) {
        /* Nothing to watch: the caller only wants to sleep. */
        k_msleep(ms);
        return 0;
    }
    struct zsock_pollfd p = {.fd = t->fd, .events = ZSOCK_POLLIN, .revents = 0};
    if (t->want_write) {
        p.events = (short)(p.events | ZSOCK_POLLOUT);
    }
    int n = zsock_poll(&p, 1, ms);
    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        LOG_ERR("poll: errno %d", errno);
        return NZ_ERR(TRANSPORT_FAILED);
    }
    return n > 0 ? 1 : 0;
}
