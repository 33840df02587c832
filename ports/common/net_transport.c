/*
 * net_transport.c - the shared transport: configuration, non-blocking TCP
 * connect over every resolved address, plain send/recv, readiness wait.
 * TLS is delegated to net_tls_mbedtls.c; OS specifics to nimbus_net_os.h.
 */
#if !defined(NIMBUS_NET_LWIP) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* glibc: POSIX 2008 plus BSD socket extras */
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net_internal.h"

/* ---------------------------------------------------------------- log */

void nimbus_net_log(const nimbus_net_transport_t *t, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t != NULL && t->cfg.log != NULL) {
        t->cfg.log(t->cfg.log_user, line);
    } else {
        nimbus_net_os_log(line);
    }
}

/* ------------------------------------------------------ init / deinit */

/* Validates and applies cfg; t is zeroed by the caller. */
static int32_t init_checked(nimbus_net_transport_t *t, const nimbus_net_config_t *cfg)
{
    t->fd = -1;
    t->cfg = *cfg;
    if (cfg->host == NULL) {
        nimbus_net_log(t, "config: host is required");
        return NN_ERR(NULL_ARGUMENT);
    }
    if (!cfg->plain_tcp && cfg->ca_file == NULL && cfg->ca_pem == NULL) {
        nimbus_net_log(t, "config: TLS needs ca_file or ca_pem (plain TCP needs plain_tcp)");
        return NN_ERR(NULL_ARGUMENT);
    }
    if (cfg->host[0] == '\0' || cfg->port == 0 ||
        (cfg->connect_address != NULL && cfg->connect_address[0] == '\0')) {
        nimbus_net_log(t, "config: empty host/connect_address or port 0");
        return NN_ERR(INVALID_ARGUMENT);
    }
    if ((cfg->ca_file != NULL && cfg->ca_pem != NULL) ||
        (cfg->cert_file != NULL && cfg->cert_pem != NULL) ||
        (cfg->key_file != NULL && cfg->key_pem != NULL)) {
        nimbus_net_log(t, "config: give each credential as a file or as PEM, not both");
        return NN_ERR(INVALID_ARGUMENT);
    }
    bool have_cert = cfg->cert_file != NULL || cfg->cert_pem != NULL;
    bool have_key = cfg->key_file != NULL || cfg->key_pem != NULL;
    if (have_cert != have_key) {
        nimbus_net_log(t, "config: the client certificate and its key go together");
        return NN_ERR(INVALID_ARGUMENT);
    }
    if (t->cfg.connect_timeout_ms == 0) {
        t->cfg.connect_timeout_ms = NIMBUS_NET_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (!cfg->plain_tcp) {
        return nimbus_net_tls_init(t);
    }
    return 0;
}

int32_t nimbus_net_init(nimbus_net_transport_t *t, const nimbus_net_config_t *cfg)
{
    if (t == NULL || cfg == NULL) {
        return NN_ERR(NULL_ARGUMENT);
    }
    memset(t, 0, sizeof *t);
    int32_t r = init_checked(t, cfg);
    if (r != 0) {
        /* Nothing is held; a later open is refused, deinit is harmless. */
        memset(t, 0, sizeof *t);
    }
    t->fd = -1;
    t->initialised = r == 0;
    return r;
}

void nimbus_net_deinit(nimbus_net_transport_t *t)
{
    if (t == NULL) {
        return;
    }
    nimbus_net_close(t);
    if (t->initialised && !t->cfg.plain_tcp) {
        nimbus_net_tls_free(t);
    }
    memset(t, 0, sizeof *t);
    t->fd = -1;
}

/* ---------------------------------------------------------- readiness */

/*
 * Waits up to timeout_ms for fd to become readable (want_read) or
 * writable (want_write); errors and hang-ups count as ready. fd < 0 only
 * sleeps. Returns > 0 ready, 0 timed out, < 0 failed (errno set).
 */
int nimbus_net_fd_wait(int fd, bool want_read, bool want_write, uint32_t timeout_ms)
{
#if defined(NIMBUS_NET_USE_SELECT)
    fd_set rd;
    fd_set wr;
    fd_set ex;
    struct timeval tv;

    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    tv.tv_sec = (long)(timeout_ms / 1000u);
    tv.tv_usec = (long)(timeout_ms % 1000u) * 1000L;
    if (fd < 0) {
        return NN_SELECT(0, NULL, NULL, NULL, &tv);
    }
    if (want_read) {
        FD_SET(fd, &rd);
    }
    if (want_write) {
        FD_SET(fd, &wr);
    }
    FD_SET(fd, &ex);
    return NN_SELECT(fd + 1, &rd, &wr, &ex, &tv);
#else
    int ms = timeout_ms > (uint32_t)INT_MAX ? INT_MAX : (int)timeout_ms;
    if (fd < 0) {
        return poll(NULL, 0, ms);
    }
    struct pollfd p = {.fd = fd, .events = 0, .revents = 0};
    if (want_read) {
        p.events = (short)(p.events | POLLIN);
    }
    if (want_write) {
        p.events = (short)(p.events | POLLOUT);
    }
    return poll(&p, 1, ms);
#endif
}

/* -------------------------------------------------------- TCP connect */

static void close_socket(nimbus_net_transport_t *t)
{
    if (t->fd >= 0) {
        (void)NN_CLOSE(t->fd);
        t->fd = -1;
    }
}

/* Text form of addrs[i] for log lines (IPv4 dotted, IPv6 full hex). */
static const char *addr_text(const nimbus_net_transport_t *t, size_t i, char *buf,
                             size_t cap)
{
    const struct sockaddr_storage *ss = &t->addrs[i];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
        const uint8_t *b = (const uint8_t *)&a->sin_addr;
        (void)snprintf(buf, cap, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
#if defined(AF_INET6)
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
        const uint8_t *b = (const uint8_t *)&a->sin6_addr;
        size_t n = 0;
        for (size_t k = 0; k < 16 && n < cap; k += 2) {
            int w = snprintf(buf + n, cap - n, k == 0 ? "%x" : ":%x",
                             (unsigned)((b[k] << 8) | b[k + 1]));
            n += w > 0 ? (size_t)w : 0u;
        }
#endif
    } else {
        (void)snprintf(buf, cap, "?");
    }
    return buf;
}

/* Resolves connect_address (or host) into t->addrs. 0 or -20. */
static int32_t resolve(nimbus_net_transport_t *t)
{
    const char *name = t->cfg.connect_address != NULL ? t->cfg.connect_address
                                                      : t->cfg.host;
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    char port[8];

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
#if defined(AI_NUMERICSERV)
    hints.ai_flags = AI_NUMERICSERV;
#endif
    (void)snprintf(port, sizeof port, "%u", (unsigned)t->cfg.port);

    int rc = NN_GETADDRINFO(name, port, &hints, &list);
    if (rc != 0) {
#if defined(NN_HAVE_GAI_STRERROR)
        nimbus_net_log(t, "cannot resolve %s: %s", name, gai_strerror(rc));
#else
        nimbus_net_log(t, "cannot resolve %s: error %d", name, rc);
#endif
        return NN_ERR(TRANSPORT_FAILED);
    }
    t->addr_count = 0;
    for (const struct addrinfo *ai = list;
         ai != NULL && t->addr_count < NIMBUS_NET_MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addr == NULL || (size_t)ai->ai_addrlen > sizeof t->addrs[0]) {
            continue;
        }
        memcpy(&t->addrs[t->addr_count], ai->ai_addr, (size_t)ai->ai_addrlen);
        t->addr_lens[t->addr_count] = (socklen_t)ai->ai_addrlen;
        t->addr_count++;
    }
    NN_FREEADDRINFO(list);
    t->addr_next = 0;
    if (t->addr_count == 0) {
        nimbus_net_log(t, "%s has no usable address", name);
        return NN_ERR(TRANSPORT_FAILED);
    }
    return 0;
}

/* Non-blocking stream socket without SIGPIPE (close-on-exec where the
 * OS has it); -1 on error. */
static int make_socket(int family)
{
    int fd = NN_SOCKET(family, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        return -1;
    }
    int flags = NN_FCNTL(fd, F_GETFL, 0);
    if (flags < 0 || NN_FCNTL(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        (void)NN_CLOSE(fd);
        return -1;
    }
#if defined(FD_CLOEXEC) && !defined(NIMBUS_NET_LWIP)
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        (void)NN_CLOSE(fd);
        return -1;
    }
#endif
    int one = 1;
#if defined(TCP_NODELAY)
    /* MQTT packets are small and latency matters more than batching. */
    (void)NN_SETSOCKOPT(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#endif
#if defined(SO_NOSIGPIPE)
    (void)NN_SETSOCKOPT(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    (void)one;
    return fd;
}

/*
 * Starts connecting to the next untried address. Returns 1 connected,
 * 0 in progress, -20 when no address is left.
 */
static int32_t connect_next(nimbus_net_transport_t *t)
{
    char text[48];

    while (t->addr_next < t->addr_count) {
        size_t i = t->addr_next++;
        t->fd = make_socket(t->addrs[i].ss_family);
        if (t->fd < 0) {
            nimbus_net_log(t, "socket: %s", strerror(errno));
            continue;
        }
        if (NN_CONNECT(t->fd, (const struct sockaddr *)&t->addrs[i], t->addr_lens[i]) ==
            0) {
            return 1;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            t->state = NIMBUS_NET_CONNECTING;
            return 0;
        }
        nimbus_net_log(t, "connect to %s port %u: %s", addr_text(t, i, text, sizeof text),
                       (unsigned)t->cfg.port, strerror(errno));
        close_socket(t);
    }
    return NN_ERR(TRANSPORT_FAILED);
}

/*
 * Checks an in-progress connect. Returns 1 connected, 0 still waiting,
 * or the result of trying the next address after a failure.
 */
static int32_t connect_check(nimbus_net_transport_t *t)
{
    char text[48];

    int n = nimbus_net_fd_wait(t->fd, false, true, 0);
    if (n < 0 && errno != EINTR) {
        nimbus_net_log(t, "poll: %s", strerror(errno));
        return NN_ERR(TRANSPORT_FAILED);
    }
    if (n <= 0) {
        return 0;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (NN_GETSOCKOPT(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err == 0) {
        return 1;
    }
    nimbus_net_log(t, "connect to %s port %u: %s",
                   addr_text(t, (size_t)t->addr_next - 1u, text, sizeof text),
                   (unsigned)t->cfg.port, strerror(err));
    close_socket(t);
    return connect_next(t);
}

/* Drops the connection after a failed open and returns err. */
static int32_t open_failed(nimbus_net_transport_t *t, int32_t err)
{
    nimbus_net_close(t);
    return err;
}

int32_t nimbus_net_open(void *ctx)
{
    nimbus_net_transport_t *t = ctx;
    int32_t r;

    if (t == NULL) {
        return NN_ERR(NULL_ARGUMENT);
    }
    if (!t->initialised) {
        nimbus_net_log(t, "open: transport not initialised");
        return NN_ERR(INVALID_ARGUMENT);
    }
    if (t->state == NIMBUS_NET_BROKEN) {
        nimbus_net_close(t); /* start over */
    }
    switch (t->state) {
    case NIMBUS_NET_READY:
        return 1;
    case NIMBUS_NET_IDLE:
        t->deadline_ms = nimbus_net_os_now_ms() + t->cfg.connect_timeout_ms;
        r = resolve(t);
        if (r < 0) {
            return r;
        }
        r = connect_next(t);
        break;
    case NIMBUS_NET_CONNECTING:
        r = connect_check(t);
        break;
    case NIMBUS_NET_HANDSHAKING:
        r = 1; /* TCP is up; continue the handshake below */
        break;
    default:
        return open_failed(t, NN_ERR(INVALID_ARGUMENT));
    }

    if (r < 0) {
        return open_failed(t, r);
    }
    if (r == 0) {
        if (nimbus_net_os_now_ms() >= t->deadline_ms) {
            nimbus_net_log(t, "connect to %s port %u timed out after %u ms", t->cfg.host,
                           (unsigned)t->cfg.port, (unsigned)t->cfg.connect_timeout_ms);
            return open_failed(t, NN_ERR(TRANSPORT_FAILED));
        }
        return 0;
    }

    if (t->cfg.plain_tcp) {
        t->state = NIMBUS_NET_READY;
        return 1;
    }
    if (t->state != NIMBUS_NET_HANDSHAKING) {
        r = nimbus_net_tls_start(t);
        if (r < 0) {
            return open_failed(t, r);
        }
        t->state = NIMBUS_NET_HANDSHAKING;
    }
    r = nimbus_net_tls_handshake(t);
    if (r < 0) {
        return open_failed(t, r);
    }
    if (r == 1) {
        t->state = NIMBUS_NET_READY;
        return 1;
    }
    if (nimbus_net_os_now_ms() >= t->deadline_ms) {
        nimbus_net_log(t, "TLS handshake with %s port %u timed out after %u ms", t->cfg.host,
                       (unsigned)t->cfg.port, (unsigned)t->cfg.connect_timeout_ms);
        return open_failed(t, NN_ERR(TLS_FAILED));
    }
    return 0;
}

void nimbus_net_close(void *ctx)
{
    nimbus_net_transport_t *t = ctx;

    if (t == NULL) {
        return;
    }
    if (!t->cfg.plain_tcp && t->state != NIMBUS_NET_IDLE) {
        nimbus_net_tls_close(t);
    }
    close_socket(t);
    t->state = NIMBUS_NET_IDLE;
    t->want_write = false;
    t->pending_write = 0;
    t->broken_error = 0;
}

/* ---------------------------------------------------------- send/recv */

/* Marks t broken so later calls repeat err instead of touching the link. */
static int32_t broken(nimbus_net_transport_t *t, int32_t err)
{
    t->state = NIMBUS_NET_BROKEN;
    t->broken_error = err;
    return err;
}

/* Error for send/recv when t is not READY. */
static int32_t not_ready(const nimbus_net_transport_t *t)
{
    return t->state == NIMBUS_NET_BROKEN ? t->broken_error : NN_ERR(NOT_CONNECTED);
}

/* Maps a failed plain send()/recv() errno. */
static int32_t plain_errno(nimbus_net_transport_t *t, const char *what, int err)
{
    if (err == EPIPE || err == ECONNRESET) {
        return broken(t, NN_ERR(CONNECTION_CLOSED));
    }
    nimbus_net_log(t, "%s: %s", what, strerror(err));
    return broken(t, NN_ERR(TRANSPORT_FAILED));
}

int32_t nimbus_net_send(void *ctx, const uint8_t *buf, size_t len)
{
    nimbus_net_transport_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0)) {
        return NN_ERR(NULL_ARGUMENT);
    }
    if (t->state != NIMBUS_NET_READY) {
        return not_ready(t);
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    if (!t->cfg.plain_tcp) {
        return nimbus_net_tls_send(t, buf, len);
    }
#if defined(MSG_NOSIGNAL)
    ssize_t n = NN_SEND(t->fd, buf, len, MSG_NOSIGNAL);
#else
    ssize_t n = NN_SEND(t->fd, buf, len, 0); /* SO_NOSIGPIPE, or no signals */
#endif
    if (n >= 0) {
        t->want_write = false;
        return (int32_t)n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        t->want_write = true;
        return 0;
    }
    return plain_errno(t, "send", errno);
}

int32_t nimbus_net_recv(void *ctx, uint8_t *buf, size_t len)
{
    nimbus_net_transport_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0)) {
        return NN_ERR(NULL_ARGUMENT);
    }
    if (t->state != NIMBUS_NET_READY) {
        return not_ready(t);
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    if (!t->cfg.plain_tcp) {
        int32_t r = nimbus_net_tls_recv(t, buf, len);
        return r < 0 ? broken(t, r) : r;
    }
    ssize_t n = NN_RECV(t->fd, buf, len, 0);
    if (n > 0) {
        return (int32_t)n;
    }
    if (n == 0) {
        return broken(t, NN_ERR(CONNECTION_CLOSED));
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return 0;
    }
    return plain_errno(t, "recv", errno);
}

/* --------------------------------------------------------------- wait */

bool nimbus_net_has_socket(const nimbus_net_transport_t *t)
{
    return t != NULL && t->fd >= 0 && t->state != NIMBUS_NET_IDLE &&
           t->state != NIMBUS_NET_BROKEN;
}

int32_t nimbus_net_wait(nimbus_net_transport_t *t, uint32_t timeout_ms)
{
    if (t == NULL) {
        return NN_ERR(NULL_ARGUMENT);
    }
    if (t->state == NIMBUS_NET_READY && !t->cfg.plain_tcp && nimbus_net_tls_has_pending(t)) {
        return 1;
    }
    if (t->state == NIMBUS_NET_CONNECTING || t->state == NIMBUS_NET_HANDSHAKING) {
        uint64_t now = nimbus_net_os_now_ms();
        uint64_t left = t->deadline_ms > now ? t->deadline_ms - now : 0;
        if (left < timeout_ms) {
            timeout_ms = (uint32_t)left;
        }
    }
    if (!nimbus_net_has_socket(t)) {
        /* Nothing to watch: the caller only wants to sleep. */
        (void)nimbus_net_fd_wait(-1, false, false, timeout_ms);
        return 0;
    }
    bool want_write = t->state == NIMBUS_NET_CONNECTING || t->want_write;
    int n = nimbus_net_fd_wait(t->fd, true, want_write, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        nimbus_net_log(t, "poll: %s", strerror(errno));
        return NN_ERR(TRANSPORT_FAILED);
    }
    return n > 0 ? 1 : 0;
}
