/*
 * transport.c - the POSIX transport: configuration, non-blocking TCP
 * connect over every resolved address, plain send/recv, poll() helper.
 * TLS is delegated to tls_mbedtls.c.
 */
#define _DEFAULT_SOURCE /* glibc: POSIX 2008 plus BSD socket extras */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "posix_internal.h"

/* ---------------------------------------------------------------- log */

void nimbus_posix_log(const nimbus_posix_transport_t *t, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t != NULL && t->cfg.log != NULL) {
        t->cfg.log(t->cfg.log_user, line);
    } else {
        (void)fprintf(stderr, "nimbus-posix: %s\n", line);
    }
}

/* ------------------------------------------------------ init / deinit */

/* Validates and applies cfg; t is zeroed by the caller. */
static int32_t init_checked(nimbus_posix_transport_t *t,
                            const nimbus_posix_config_t *cfg)
{
    t->fd = -1;
    t->cfg = *cfg;
    if (cfg->host == NULL) {
        nimbus_posix_log(t, "config: host is required");
        return NP_ERR(NULL_ARGUMENT);
    }
    if (!cfg->plain_tcp && cfg->ca_file == NULL) {
        nimbus_posix_log(t, "config: TLS needs ca_file (plain TCP needs plain_tcp)");
        return NP_ERR(NULL_ARGUMENT);
    }
    if (cfg->host[0] == '\0' || cfg->port == 0 ||
        (cfg->connect_address != NULL && cfg->connect_address[0] == '\0')) {
        nimbus_posix_log(t, "config: empty host/connect_address or port 0");
        return NP_ERR(INVALID_ARGUMENT);
    }
    if ((cfg->cert_file == NULL) != (cfg->key_file == NULL)) {
        nimbus_posix_log(t, "config: cert_file and key_file go together");
        return NP_ERR(INVALID_ARGUMENT);
    }
    if (t->cfg.connect_timeout_ms == 0) {
        t->cfg.connect_timeout_ms = NIMBUS_POSIX_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (!cfg->plain_tcp) {
        return nimbus_posix_tls_init(t);
    }
    return 0;
}

int32_t nimbus_posix_transport_init(nimbus_posix_transport_t *t,
                                    const nimbus_posix_config_t *cfg)
{
    if (t == NULL || cfg == NULL) {
        return NP_ERR(NULL_ARGUMENT);
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

void nimbus_posix_transport_deinit(nimbus_posix_transport_t *t)
{
    if (t == NULL) {
        return;
    }
    nimbus_posix_transport_close(t);
    if (t->initialised && !t->cfg.plain_tcp) {
        nimbus_posix_tls_free(t);
    }
    memset(t, 0, sizeof *t);
    t->fd = -1;
}

/* -------------------------------------------------------- TCP connect */

static void close_socket(nimbus_posix_transport_t *t)
{
    if (t->fd >= 0) {
        (void)close(t->fd);
        t->fd = -1;
    }
}

/* Text form of addrs[i] for log lines. */
static const char *addr_text(const nimbus_posix_transport_t *t, size_t i,
                             char *buf, size_t cap)
{
    if (getnameinfo((const struct sockaddr *)&t->addrs[i], t->addr_lens[i],
                    buf, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0) {
        (void)snprintf(buf, cap, "?");
    }
    return buf;
}

/* Resolves connect_address (or host) into t->addrs. 0 or -20. */
static int32_t resolve(nimbus_posix_transport_t *t)
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
    hints.ai_flags = AI_NUMERICSERV;
    (void)snprintf(port, sizeof port, "%u", (unsigned)t->cfg.port);

    int rc = getaddrinfo(name, port, &hints, &list);
    if (rc != 0) {
        nimbus_posix_log(t, "cannot resolve %s: %s", name, gai_strerror(rc));
        return NP_ERR(TRANSPORT_FAILED);
    }
    t->addr_count = 0;
    for (const struct addrinfo *ai = list;
         ai != NULL && t->addr_count < NIMBUS_POSIX_MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof t->addrs[0]) {
            continue;
        }
        memcpy(&t->addrs[t->addr_count], ai->ai_addr, ai->ai_addrlen);
        t->addr_lens[t->addr_count] = ai->ai_addrlen;
        t->addr_count++;
    }
    freeaddrinfo(list);
    t->addr_next = 0;
    if (t->addr_count == 0) {
        nimbus_posix_log(t, "%s has no usable address", name);
        return NP_ERR(TRANSPORT_FAILED);
    }
    return 0;
}

/* Non-blocking, close-on-exec stream socket without SIGPIPE; -1 on error. */
static int make_socket(int family)
{
    int fd = socket(family, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        return -1;
    }
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        (void)close(fd);
        return -1;
    }
    int one = 1;
    /* MQTT packets are small and latency matters more than batching. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#if defined(SO_NOSIGPIPE)
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return fd;
}

/*
 * Starts connecting to the next untried address. Returns 1 connected,
 * 0 in progress, -20 when no address is left.
 */
static int32_t connect_next(nimbus_posix_transport_t *t)
{
    char text[INET6_ADDRSTRLEN + 8];

    while (t->addr_next < t->addr_count) {
        size_t i = t->addr_next++;
        t->fd = make_socket(t->addrs[i].ss_family);
        if (t->fd < 0) {
            nimbus_posix_log(t, "socket: %s", strerror(errno));
            continue;
        }
        if (connect(t->fd, (const struct sockaddr *)&t->addrs[i],
                    t->addr_lens[i]) == 0) {
            return 1;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            t->state = NIMBUS_POSIX_CONNECTING;
            return 0;
        }
        nimbus_posix_log(t, "connect to %s port %u: %s",
                         addr_text(t, i, text, sizeof text),
                         (unsigned)t->cfg.port, strerror(errno));
        close_socket(t);
    }
    return NP_ERR(TRANSPORT_FAILED);
}

/*
 * Checks an in-progress connect. Returns 1 connected, 0 still waiting,
 * or the result of trying the next address after a failure.
 */
static int32_t connect_check(nimbus_posix_transport_t *t)
{
    struct pollfd p = {.fd = t->fd, .events = POLLOUT, .revents = 0};
    char text[INET6_ADDRSTRLEN + 8];

    int n = poll(&p, 1, 0);
    if (n < 0 && errno != EINTR) {
        nimbus_posix_log(t, "poll: %s", strerror(errno));
        return NP_ERR(TRANSPORT_FAILED);
    }
    if (n <= 0) {
        return 0;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err == 0) {
        return 1;
    }
    nimbus_posix_log(t, "connect to %s port %u: %s",
                     addr_text(t, (size_t)t->addr_next - 1u, text, sizeof text),
                     (unsigned)t->cfg.port, strerror(err));
    close_socket(t);
    return connect_next(t);
}

/* Drops the connection after a failed open and returns err. */
static int32_t open_failed(nimbus_posix_transport_t *t, int32_t err)
{
    nimbus_posix_transport_close(t);
    return err;
}

int32_t nimbus_posix_transport_open(void *ctx)
{
    nimbus_posix_transport_t *t = ctx;
    int32_t r;

    if (t == NULL) {
        return NP_ERR(NULL_ARGUMENT);
    }
    if (!t->initialised) {
        nimbus_posix_log(t, "open: transport not initialised");
        return NP_ERR(INVALID_ARGUMENT);
    }
    if (t->state == NIMBUS_POSIX_BROKEN) {
        nimbus_posix_transport_close(t); /* start over */
    }
    switch (t->state) {
    case NIMBUS_POSIX_READY:
        return 1;
    case NIMBUS_POSIX_IDLE:
        t->deadline_ms = nimbus_posix_now_ms() + t->cfg.connect_timeout_ms;
        r = resolve(t);
        if (r < 0) {
            return r;
        }
        r = connect_next(t);
        break;
    case NIMBUS_POSIX_CONNECTING:
        r = connect_check(t);
        break;
    case NIMBUS_POSIX_HANDSHAKING:
        r = 1; /* TCP is up; continue the handshake below */
        break;
    default:
        return open_failed(t, NP_ERR(INVALID_ARGUMENT));
    }

    if (r < 0) {
        return open_failed(t, r);
    }
    if (r == 0) {
        if (nimbus_posix_now_ms() >= t->deadline_ms) {
            nimbus_posix_log(t, "connect to %s port %u timed out after %u ms",
                             t->cfg.host, (unsigned)t->cfg.port,
                             (unsigned)t->cfg.connect_timeout_ms);
            return open_failed(t, NP_ERR(TRANSPORT_FAILED));
        }
        return 0;
    }

    if (t->cfg.plain_tcp) {
        t->state = NIMBUS_POSIX_READY;
        return 1;
    }
    if (t->state != NIMBUS_POSIX_HANDSHAKING) {
        r = nimbus_posix_tls_start(t);
        if (r < 0) {
            return open_failed(t, r);
        }
        t->state = NIMBUS_POSIX_HANDSHAKING;
    }
    r = nimbus_posix_tls_handshake(t);
    if (r < 0) {
        return open_failed(t, r);
    }
    if (r == 1) {
        t->state = NIMBUS_POSIX_READY;
        return 1;
    }
    if (nimbus_posix_now_ms() >= t->deadline_ms) {
        nimbus_posix_log(t, "TLS handshake with %s port %u timed out after %u ms",
                         t->cfg.host, (unsigned)t->cfg.port,
                         (unsigned)t->cfg.connect_timeout_ms);
        return open_failed(t, NP_ERR(TLS_FAILED));
    }
    return 0;
}

void nimbus_posix_transport_close(void *ctx)
{
    nimbus_posix_transport_t *t = ctx;

    if (t == NULL) {
        return;
    }
    if (!t->cfg.plain_tcp && t->state != NIMBUS_POSIX_IDLE) {
        nimbus_posix_tls_close(t);
    }
    close_socket(t);
    t->state = NIMBUS_POSIX_IDLE;
    t->want_write = false;
    t->pending_write = 0;
    t->broken_error = 0;
}

/* ---------------------------------------------------------- send/recv */

/* Marks t broken so later calls repeat err instead of touching the link. */
static int32_t broken(nimbus_posix_transport_t *t, int32_t err)
{
    t->state = NIMBUS_POSIX_BROKEN;
    t->broken_error = err;
    return err;
}

/* Error for send/recv when t is not READY. */
static int32_t not_ready(const nimbus_posix_transport_t *t)
{
    return t->state == NIMBUS_POSIX_BROKEN ? t->broken_error
                                           : NP_ERR(NOT_CONNECTED);
}

/* Maps a failed plain send()/recv() errno. */
static int32_t plain_errno(nimbus_posix_transport_t *t, const char *what, int err)
{
    if (err == EPIPE || err == ECONNRESET) {
        return broken(t, NP_ERR(CONNECTION_CLOSED));
    }
    nimbus_posix_log(t, "%s: %s", what, strerror(err));
    return broken(t, NP_ERR(TRANSPORT_FAILED));
}

int32_t nimbus_posix_transport_send(void *ctx, const uint8_t *buf, size_t len)
{
    nimbus_posix_transport_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0)) {
        return NP_ERR(NULL_ARGUMENT);
    }
    if (t->state != NIMBUS_POSIX_READY) {
        return not_ready(t);
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    if (!t->cfg.plain_tcp) {
        return nimbus_posix_tls_send(t, buf, len);
    }
#if defined(MSG_NOSIGNAL)
    ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
#else
    ssize_t n = send(t->fd, buf, len, 0); /* SO_NOSIGPIPE is set instead */
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

int32_t nimbus_posix_transport_recv(void *ctx, uint8_t *buf, size_t len)
{
    nimbus_posix_transport_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0)) {
        return NP_ERR(NULL_ARGUMENT);
    }
    if (t->state != NIMBUS_POSIX_READY) {
        return not_ready(t);
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    if (!t->cfg.plain_tcp) {
        int32_t r = nimbus_posix_tls_recv(t, buf, len);
        return r < 0 ? broken(t, r) : r;
    }
    ssize_t n = recv(t->fd, buf, len, 0);
    if (n > 0) {
        return (int32_t)n;
    }
    if (n == 0) {
        return broken(t, NP_ERR(CONNECTION_CLOSED));
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return 0;
    }
    return plain_errno(t, "recv", errno);
}

/* --------------------------------------------------------------- wait */

int32_t nimbus_posix_wait(nimbus_posix_transport_t *t, uint32_t timeout_ms)
{
    if (t == NULL) {
        return NP_ERR(NULL_ARGUMENT);
    }
    if (t->state == NIMBUS_POSIX_READY && !t->cfg.plain_tcp &&
        nimbus_posix_tls_has_pending(t)) {
        return 1;
    }
    if (t->state == NIMBUS_POSIX_CONNECTING ||
        t->state == NIMBUS_POSIX_HANDSHAKING) {
        uint64_t now = nimbus_posix_now_ms();
        uint64_t left = t->deadline_ms > now ? t->deadline_ms - now : 0;
        if (left < timeout_ms) {
            timeout_ms = (uint32_t)left;
        }
    }
    int ms = timeout_ms > (uint32_t)INT_MAX ? INT_MAX : (int)timeout_ms;

    if (t->fd < 0 || t->state == NIMBUS_POSIX_IDLE ||
        t->state == NIMBUS_POSIX_BROKEN) {
        /* Nothing to watch: the caller only wants to sleep. */
        (void)poll(NULL, 0, ms);
        return 0;
    }
    struct pollfd p = {.fd = t->fd, .events = POLLIN, .revents = 0};
    if (t->state == NIMBUS_POSIX_CONNECTING || t->want_write) {
        p.events = (short)(p.events | POLLOUT);
    }
    int n = poll(&p, 1, ms);
    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        nimbus_posix_log(t, "poll: %s", strerror(errno));
        return NP_ERR(TRANSPORT_FAILED);
    }
    return n > 0 ? 1 : 0;
}
