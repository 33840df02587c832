/*
 * test_transport.c - cmocka tests of the POSIX port (ports/posix).
 *
 * Run through run.sh, which builds this with sanitizers, generates the
 * test PKI and starts mosquitto. Environment:
 *   NIMBUS_TEST_CERTS       directory written by tools/certs.sh
 *   NIMBUS_TEST_TLS_PORT    mosquitto TLS listener on 127.0.0.1
 *   NIMBUS_TEST_TLS6_PORT   mosquitto TLS listener on ::1
 *   NIMBUS_TEST_PLAIN_PORT  mosquitto plain listener on 127.0.0.1
 * Every wait loop ends at a deadline; only 127.0.0.1 and ::1 are used.
 */
#define _DEFAULT_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nimbus_posix.h"

#include "mbedtls/entropy.h"
#include "mbedtls/net_sockets.h"

#define STEP_MS 20u       /* one nimbus_posix_wait() in a driving loop */
#define DEADLINE_MS 5000u /* no single step of a test may take longer */
#define DEV1 "nimbus-aws-demo"
#define DEV2 "nimbus-azure-demo"

static const uint8_t CONNACK_OK[4] = {0x20, 0x02, 0x00, 0x00};
static const uint8_t DISCONNECT[2] = {0xe0, 0x00};

/* ------------------------------------------------------------ fixture */

static struct {
    const char *certs;
    uint16_t tls_port;
    uint16_t tls6_port;
    uint16_t plain_port;
} env;

/* Log lines of the transport under test, for asserting on the reason. */
static char log_text[8192];
static size_t log_len;

static void capture_log(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "    [transport] %s\n", line);
    int n = snprintf(log_text + log_len, sizeof log_text - log_len, "%s\n", line);
    if (n > 0) {
        size_t add = (size_t)n;
        log_len += add < sizeof log_text - log_len ? add : sizeof log_text - log_len - 1u;
    }
}

static void log_reset(void)
{
    log_len = 0;
    log_text[0] = '\0';
}

static uint16_t env_port(const char *name)
{
    const char *v = getenv(name);
    long p = v != NULL ? strtol(v, NULL, 10) : 0;
    return p > 0 && p < 65536 ? (uint16_t)p : 0;
}

static int group_setup(void **state)
{
    (void)state;
    env.certs = getenv("NIMBUS_TEST_CERTS");
    env.tls_port = env_port("NIMBUS_TEST_TLS_PORT");
    env.tls6_port = env_port("NIMBUS_TEST_TLS6_PORT");
    env.plain_port = env_port("NIMBUS_TEST_PLAIN_PORT");
    if (env.certs == NULL || env.tls_port == 0 || env.tls6_port == 0 ||
        env.plain_port == 0) {
        fprintf(stderr, "run these tests through tests/posix/run.sh\n");
        return -1;
    }
    return 0;
}

/* File paths for one configuration; lives as long as the transport. */
typedef struct {
    char ca[512];
    char cert[512];
    char key[512];
} paths_t;

/* A TLS config for localhost:port trusting ca_name, with the device
 * certificate dev (NULL: none). */
static nimbus_posix_config_t tls_config(paths_t *p, const char *ca_name,
                                        const char *dev, uint16_t port)
{
    nimbus_posix_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(p->ca, sizeof p->ca, "%s/%s.crt", env.certs, ca_name);
    cfg.host = "localhost";
    cfg.port = port;
    cfg.ca_file = p->ca;
    if (dev != NULL) {
        snprintf(p->cert, sizeof p->cert, "%s/%s.crt", env.certs, dev);
        snprintf(p->key, sizeof p->key, "%s/%s.key", env.certs, dev);
        cfg.cert_file = p->cert;
        cfg.key_file = p->key;
    }
    cfg.connect_timeout_ms = DEADLINE_MS;
    cfg.log = capture_log;
    log_reset();
    return cfg;
}

static nimbus_posix_config_t plain_config(const char *address, uint16_t port)
{
    nimbus_posix_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = address;
    cfg.port = port;
    cfg.plain_tcp = true;
    cfg.connect_timeout_ms = DEADLINE_MS;
    cfg.log = capture_log;
    log_reset();
    return cfg;
}

/* ------------------------------------------------------------ helpers */

/* Calls open until it finishes, sleeping in nimbus_posix_wait(). */
static int32_t drive_open(nimbus_posix_transport_t *t)
{
    uint64_t deadline = nimbus_posix_now_ms() + DEADLINE_MS + 1000u;
    for (;;) {
        int32_t r = nimbus_posix_transport_open(t);
        if (r != 0) {
            return r;
        }
        if (nimbus_posix_now_ms() >= deadline) {
            fail_msg("open still in progress after %u ms", DEADLINE_MS + 1000u);
        }
        assert_true(nimbus_posix_wait(t, STEP_MS) >= 0);
    }
}

/* Sends all of buf; returns len or the first error. */
static int32_t send_all(nimbus_posix_transport_t *t, const uint8_t *buf, size_t len)
{
    uint64_t deadline = nimbus_posix_now_ms() + DEADLINE_MS;
    size_t done = 0;
    while (done < len) {
        int32_t r = nimbus_posix_transport_send(t, buf + done, len - done);
        if (r < 0) {
            return r;
        }
        done += (size_t)r;
        if (r == 0) {
            if (nimbus_posix_now_ms() >= deadline) {
                fail_msg("send stuck for %u ms", DEADLINE_MS);
            }
            assert_true(nimbus_posix_wait(t, STEP_MS) >= 0);
        }
    }
    return (int32_t)len;
}

/* Receives exactly len bytes; returns len or the first error. */
static int32_t recv_exact(nimbus_posix_transport_t *t, uint8_t *buf, size_t len)
{
    uint64_t deadline = nimbus_posix_now_ms() + DEADLINE_MS;
    size_t done = 0;
    while (done < len) {
        int32_t r = nimbus_posix_transport_recv(t, buf + done, len - done);
        if (r < 0) {
            return r;
        }
        done += (size_t)r;
        if (r == 0) {
            if (nimbus_posix_now_ms() >= deadline) {
                fail_msg("recv got %zu of %zu bytes in %u ms", done, len, DEADLINE_MS);
            }
            assert_true(nimbus_posix_wait(t, STEP_MS) >= 0);
        }
    }
    return (int32_t)len;
}

/* Waits for the next recv result that is not "nothing yet". */
static int32_t recv_next(nimbus_posix_transport_t *t, uint8_t *buf, size_t len)
{
    uint64_t deadline = nimbus_posix_now_ms() + DEADLINE_MS;
    for (;;) {
        int32_t r = nimbus_posix_transport_recv(t, buf, len);
        if (r != 0) {
            return r;
        }
        if (nimbus_posix_now_ms() >= deadline) {
            fail_msg("recv returned nothing for %u ms", DEADLINE_MS);
        }
        assert_true(nimbus_posix_wait(t, STEP_MS) >= 0);
    }
}

/* A minimal MQTT 3.1.1 CONNECT: clean session, keepalive 60 s. */
static size_t mqtt_connect(uint8_t *out, size_t cap, const char *client_id)
{
    size_t id_len = strlen(client_id);
    size_t rem = 10u + 2u + id_len;
    assert_true(rem < 128u && rem + 2u <= cap);
    const uint8_t head[12] = {0x10, (uint8_t)rem, 0x00, 0x04, 'M', 'Q', 'T', 'T',
                              0x04, 0x02, 0x00, 0x3c};
    memcpy(out, head, sizeof head);
    out[12] = 0x00;
    out[13] = (uint8_t)id_len;
    memcpy(out + 14, client_id, id_len);
    return rem + 2u;
}

/* CONNECT through the transport must be answered by CONNACK accepted. */
static void assert_connack(nimbus_posix_transport_t *t, const char *client_id)
{
    uint8_t pkt[64];
    uint8_t ack[4] = {0};
    size_t n = mqtt_connect(pkt, sizeof pkt, client_id);

    assert_int_equal(send_all(t, pkt, n), (int32_t)n);
    assert_int_equal(recv_exact(t, ack, sizeof ack), 4);
    assert_memory_equal(ack, CONNACK_OK, sizeof ack);
}

/* The server must refuse this client: the handshake fails, or (TLS 1.3,
 * where the server checks the client after the client's handshake ends)
 * the link fails before any CONNACK. Never "ready + working". */
static void assert_refused(nimbus_posix_transport_t *t)
{
    int32_t r = drive_open(t);
    if (r == 1) {
        uint8_t pkt[64];
        uint8_t ack[4];
        size_t n = mqtt_connect(pkt, sizeof pkt, DEV1);
        r = send_all(t, pkt, n);
        if (r >= 0) {
            r = recv_exact(t, ack, sizeof ack);
        }
        assert_true(r < 0);
    }
    if (r != NIMBUS_ERR_TLS_FAILED && r != NIMBUS_ERR_CONNECTION_CLOSED) {
        fail_msg("expected -31 or -21, got %d", (int)r);
    }
}

/* A TCP listener on loopback (IPv4 or IPv6) at an ephemeral port. */
static int listen_loopback(int family, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    int fd = socket(family, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    if (backlog >= 0) {
        assert_int_equal(listen(fd, backlog), 0);
    }
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* accept() with a deadline. */
static int accept_within(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN, .revents = 0};
    assert_int_equal(poll(&p, 1, (int)DEADLINE_MS), 1);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

/* --------------------------------------------------------- arguments */

static void null_arguments_are_refused(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    uint8_t byte = 0;
    uint8_t mac[32];
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(NULL, &cfg), -1);
    assert_int_equal(nimbus_posix_transport_init(&t, NULL), -1);
    cfg.host = NULL;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -1);
    cfg.host = "localhost";
    cfg.ca_file = NULL; /* TLS without a CA: refused, never unverified */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -1);

    assert_int_equal(nimbus_posix_transport_open(NULL), -1);
    assert_int_equal(nimbus_posix_transport_send(NULL, &byte, 1), -1);
    assert_int_equal(nimbus_posix_transport_recv(NULL, &byte, 1), -1);
    assert_int_equal(nimbus_posix_wait(NULL, 0), -1);
    nimbus_posix_transport_close(NULL);
    nimbus_posix_transport_deinit(NULL);
    assert_int_equal(nimbus_posix_hmac_sha256(NULL, 1, &byte, 1, mac), -1);
    assert_int_equal(nimbus_posix_hmac_sha256(&byte, 1, NULL, 1, mac), -1);
    assert_int_equal(nimbus_posix_hmac_sha256(&byte, 1, &byte, 1, NULL), -1);

    /* NULL buffers on a valid transport. */
    cfg = plain_config("127.0.0.1", env.plain_port);
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    assert_int_equal(nimbus_posix_transport_send(&t, NULL, 1), -1);
    assert_int_equal(nimbus_posix_transport_recv(&t, NULL, 1), -1);
    assert_int_equal(nimbus_posix_transport_send(&t, NULL, 0), 0);
    nimbus_posix_transport_deinit(&t);
}

static void invalid_configs_are_refused(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    cfg.port = 0;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.port = env.tls_port;
    cfg.host = "";
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.host = "localhost";
    cfg.key_file = NULL; /* certificate without key */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.key_file = p.key;
    cfg.ca_file = "/nonexistent/ca.crt";
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.ca_file = p.ca;
    cfg.key_file = p.ca; /* a certificate is not a key */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.key_file = p.key;
    cfg.cert_file = p.key; /* a key is not a certificate */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.cert_file = p.cert;
    const char *bad_alpn[] = {"", NULL}; /* empty protocol names are invalid */
    cfg.alpn = bad_alpn;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    /* A transport whose init failed is refused, not half-used. */
    assert_int_equal(nimbus_posix_transport_open(&t), -2);
    uint8_t byte = 0;
    assert_int_equal(nimbus_posix_transport_recv(&t, &byte, 1), NIMBUS_ERR_NOT_CONNECTED);
    nimbus_posix_transport_deinit(&t);
    cfg.alpn = NULL;
    /* The same config with everything fixed is accepted. */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    nimbus_posix_transport_deinit(&t);
}

static void send_recv_before_open_say_not_connected(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    uint8_t byte = 0;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(nimbus_posix_transport_send(&t, &byte, 1), NIMBUS_ERR_NOT_CONNECTED);
    assert_int_equal(nimbus_posix_transport_recv(&t, &byte, 1), NIMBUS_ERR_NOT_CONNECTED);
    assert_int_equal(nimbus_posix_wait(&t, 1), 0); /* nothing to watch: sleeps */
    nimbus_posix_transport_close(&t);              /* closing idle is harmless */
    nimbus_posix_transport_deinit(&t);
}

/* --------------------------------------------------------- TLS: good */

static void tls_good_client_gets_connack(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    uint8_t buf[16];
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    assert_int_equal(nimbus_posix_transport_open(&t), 1); /* stays ready */
    assert_connack(&t, DEV1);
    /* Nothing more is coming: recv and wait must not block. */
    assert_int_equal(nimbus_posix_transport_recv(&t, buf, sizeof buf), 0);
    assert_int_equal(nimbus_posix_wait(&t, 50), 0);
    assert_int_equal(nimbus_posix_transport_recv(&t, buf, sizeof buf), 0);
    nimbus_posix_transport_deinit(&t);
}

/* Reads a whole (small) file into a NUL-terminated buffer. */
static void read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1u, f);
    assert_true(n > 0 && n < cap - 1u);
    buf[n] = '\0';
    fclose(f);
}

static void tls_pem_credentials_from_memory(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    static char ca[8192], cert[8192], key[4096];
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    read_text(p.ca, ca, sizeof ca);
    read_text(p.cert, cert, sizeof cert);
    read_text(p.key, key, sizeof key);
    /* A credential given both ways is refused. */
    cfg.ca_pem = ca;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.ca_file = NULL;
    cfg.cert_pem = cert;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.cert_file = NULL;
    /* PEM certificate with a key file is fine; PEM without a key is not. */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    nimbus_posix_transport_deinit(&t);
    cfg.key_file = NULL;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.key_pem = cert; /* a certificate is not a key */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), -2);
    cfg.key_pem = key;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    assert_connack(&t, DEV1);
    nimbus_posix_transport_deinit(&t);
    /* A wrong CA in memory fails verification like a wrong CA file. */
    snprintf(p.ca, sizeof p.ca, "%s/other-ca.crt", env.certs);
    read_text(p.ca, ca, sizeof ca);
    log_reset();
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), -31);
    assert_non_null(strstr(log_text, "rejected"));
    nimbus_posix_transport_deinit(&t);
}

static void tls_second_device_with_alpn_over_ipv6(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    const char *alpn[] = {"x-amzn-mqtt-ca", "mqtt", NULL};
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV2, env.tls6_port);

    cfg.connect_address = "::1";
    cfg.alpn = alpn; /* mosquitto ignores ALPN; the handshake must still work */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    assert_connack(&t, DEV2);
    nimbus_posix_transport_deinit(&t);
}

static void tls_peer_close_is_21_and_reopen_works(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    uint8_t buf[16];
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    assert_connack(&t, DEV1);
    /* DISCONNECT makes the broker close the connection. */
    assert_int_equal(send_all(&t, DISCONNECT, sizeof DISCONNECT), 2);
    assert_int_equal(recv_next(&t, buf, sizeof buf), NIMBUS_ERR_CONNECTION_CLOSED);
    /* A dead link keeps saying so. */
    assert_int_equal(nimbus_posix_transport_recv(&t, buf, sizeof buf),
                     NIMBUS_ERR_CONNECTION_CLOSED);
    assert_int_equal(nimbus_posix_transport_send(&t, buf, 1),
                     NIMBUS_ERR_CONNECTION_CLOSED);
    /* close, then open again: a fresh session on the same transport. */
    nimbus_posix_transport_close(&t);
    assert_int_equal(drive_open(&t), 1);
    assert_connack(&t, DEV1);
    nimbus_posix_transport_deinit(&t);
}

static void tls_host_as_ip_address(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    cfg.host = "127.0.0.1"; /* in the server certificate as IP SAN only */
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
#if MBEDTLS_VERSION_MAJOR >= 3
    /* 3.x matches IP address SANs. */
    assert_int_equal(drive_open(&t), 1);
    assert_connack(&t, DEV1);
#else
    /* 2.x compares names with DNS SANs and the CN only: documented. */
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TLS_FAILED);
    assert_non_null(strstr(log_text, "Common Name"));
#endif
    nimbus_posix_transport_deinit(&t);
}

/* ---------------------------------------------------------- TLS: bad */

static void tls_wrong_ca_fails_31(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "other-ca", DEV1, env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TLS_FAILED);
    /* The log says why, in words. */
    assert_non_null(strstr(log_text, "not correctly signed by the trusted CA"));
    /* After a failure, the next open starts over (and fails the same way). */
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TLS_FAILED);
    nimbus_posix_transport_deinit(&t);
}

static void tls_server_name_mismatch_fails_31(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.tls_port);

    cfg.host = "example.invalid"; /* SNI + verified name */
    cfg.connect_address = "127.0.0.1";
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TLS_FAILED);
    assert_non_null(strstr(log_text, "Common Name (CN) does not match"));
    nimbus_posix_transport_deinit(&t);
}

static void tls_expired_client_is_refused(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", "expired", env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_refused(&t);
    nimbus_posix_transport_deinit(&t);
}

static void tls_unknown_client_is_refused(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", "unknown", env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_refused(&t);
    nimbus_posix_transport_deinit(&t);
}

static void tls_without_client_cert_is_refused(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    nimbus_posix_config_t cfg = tls_config(&p, "ca", NULL, env.tls_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_refused(&t);
    nimbus_posix_transport_deinit(&t);
}

static void tls_against_plain_listener_fails_31(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    /* TLS is the default: a config that does not ask for plain TCP
     * must not talk in the clear to a plain listener. */
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, env.plain_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TLS_FAILED);
    nimbus_posix_transport_deinit(&t);
}

static void tls_handshake_timeout_fails_31(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    paths_t p;
    uint16_t port;
    /* Accepts TCP (in the kernel backlog) but never answers. */
    int lfd = listen_loopback(AF_INET, 4, &port);
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, port);

    cfg.connect_address = "127.0.0.1";
    cfg.connect_timeout_ms = 300;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TLS_FAILED);
    assert_non_null(strstr(log_text, "timed out"));
    nimbus_posix_transport_deinit(&t);
    close(lfd);
}

/* ---------------------------------------------------------- plain TCP */

static void plain_tcp_gets_connack(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    uint8_t buf[16];
    nimbus_posix_config_t cfg = plain_config("127.0.0.1", env.plain_port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    assert_connack(&t, DEV1);
    assert_int_equal(nimbus_posix_transport_recv(&t, buf, sizeof buf), 0);
    assert_int_equal(send_all(&t, DISCONNECT, sizeof DISCONNECT), 2);
    assert_int_equal(recv_next(&t, buf, sizeof buf), NIMBUS_ERR_CONNECTION_CLOSED);
    nimbus_posix_transport_deinit(&t);
}

static void plain_tcp_ipv6_data_then_eof(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    uint16_t port;
    uint8_t buf[16];
    int lfd = listen_loopback(AF_INET6, 4, &port);
    nimbus_posix_config_t cfg = plain_config("::1", port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    int peer = accept_within(lfd);
    assert_int_equal(send_all(&t, (const uint8_t *)"ping", 4), 4);
    assert_int_equal(read(peer, buf, 4), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write(peer, "pong", 4), 4);
    close(peer);
    assert_int_equal(recv_exact(&t, buf, 4), 4);
    assert_memory_equal(buf, "pong", 4);
    assert_int_equal(recv_next(&t, buf, sizeof buf), NIMBUS_ERR_CONNECTION_CLOSED);
    nimbus_posix_transport_deinit(&t);
    close(lfd);
}

static void plain_send_would_block_returns_0(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    uint16_t port;
    static uint8_t chunk[65536];
    int lfd = listen_loopback(AF_INET, 4, &port);
    nimbus_posix_config_t cfg = plain_config("127.0.0.1", port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), 1);
    /* Nobody reads: the socket buffers fill and send must say 0. */
    size_t total = 0;
    int32_t r = 1;
    while (r > 0 && total < (size_t)256 << 20) {
        r = nimbus_posix_transport_send(&t, chunk, sizeof chunk);
        assert_true(r >= 0);
        total += (size_t)r;
    }
    assert_int_equal(r, 0);
    assert_int_equal(nimbus_posix_wait(&t, 10), 0); /* still no room */
    /* Once the peer reads, there is room again. */
    int peer = accept_within(lfd);
    uint64_t deadline = nimbus_posix_now_ms() + DEADLINE_MS;
    r = 0;
    while (r == 0) {
        ssize_t n = recv(peer, chunk, sizeof chunk, MSG_DONTWAIT);
        assert_true(n > 0 || (n < 0 && errno == EAGAIN));
        if (nimbus_posix_wait(&t, 1) == 1) {
            r = nimbus_posix_transport_send(&t, chunk, sizeof chunk);
        }
        assert_true(nimbus_posix_now_ms() < deadline);
    }
    assert_true(r > 0);
    nimbus_posix_transport_deinit(&t);
    close(peer);
    close(lfd);
}

/* A TLS server inside the test (mbedTLS), so the test decides when the
 * server reads: needed to make a TLS send block. */
typedef struct {
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} test_server_t;

static void test_server_init(test_server_t *s, int fd)
{
    char path[512];
    mbedtls_net_init(&s->net);
    mbedtls_ssl_init(&s->ssl);
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_x509_crt_init(&s->cert);
    mbedtls_pk_init(&s->key);
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);
    s->net.fd = fd;
    assert_int_equal(mbedtls_net_set_nonblock(&s->net), 0);
    assert_int_equal(mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                                           NULL, 0),
                     0);
    snprintf(path, sizeof path, "%s/server.crt", env.certs);
    assert_int_equal(mbedtls_x509_crt_parse_file(&s->cert, path), 0);
    snprintf(path, sizeof path, "%s/server.key", env.certs);
#if MBEDTLS_VERSION_MAJOR >= 3
    assert_int_equal(mbedtls_pk_parse_keyfile(&s->key, path, NULL, mbedtls_ctr_drbg_random,
                                              &s->drbg),
                     0);
#else
    assert_int_equal(mbedtls_pk_parse_keyfile(&s->key, path, NULL), 0);
#endif
    assert_int_equal(mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER,
                                                 MBEDTLS_SSL_TRANSPORT_STREAM,
                                                 MBEDTLS_SSL_PRESET_DEFAULT),
                     0);
    mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
    assert_int_equal(mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key), 0);
    assert_int_equal(mbedtls_ssl_setup(&s->ssl, &s->conf), 0);
    mbedtls_ssl_set_bio(&s->ssl, &s->net, mbedtls_net_send, mbedtls_net_recv, NULL);
}

static void test_server_free(test_server_t *s)
{
    mbedtls_ssl_free(&s->ssl);
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_x509_crt_free(&s->cert);
    mbedtls_pk_free(&s->key);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->entropy);
    mbedtls_net_free(&s->net);
}

static void tls_send_would_block_keeps_the_stream_intact(void **state)
{
    (void)state;
    enum { CHUNK = 16384, PERIOD = 251 };
    static uint8_t pattern[CHUNK + PERIOD];
    static uint8_t rx[CHUNK];
    nimbus_posix_transport_t t;
    test_server_t server;
    paths_t p;
    uint16_t port;

    for (size_t i = 0; i < sizeof pattern; i++) {
        pattern[i] = (uint8_t)(i % PERIOD);
    }
    int lfd = listen_loopback(AF_INET, 4, &port);
    nimbus_posix_config_t cfg = tls_config(&p, "ca", DEV1, port);
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);

    /* Both ends of the handshake, step by step. */
    assert_int_equal(nimbus_posix_transport_open(&t), 0);
    test_server_init(&server, accept_within(lfd));
    uint64_t deadline = nimbus_posix_now_ms() + DEADLINE_MS;
    int32_t client = 0;
    int srv = MBEDTLS_ERR_SSL_WANT_READ;
    while (client == 0 || srv != 0) {
        if (client == 0) {
            client = nimbus_posix_transport_open(&t);
        }
        if (srv != 0) {
            srv = mbedtls_ssl_handshake(&server.ssl);
            assert_true(srv == 0 || srv == MBEDTLS_ERR_SSL_WANT_READ ||
                        srv == MBEDTLS_ERR_SSL_WANT_WRITE);
        }
        assert_true(client >= 0);
        assert_true(nimbus_posix_now_ms() < deadline);
        (void)nimbus_posix_wait(&t, 1);
    }

    /* The server does not read: TLS records pile up until send says 0. */
    size_t sent = 0;
    int32_t r = 1;
    while (r > 0 && sent < (size_t)512 << 20) {
        r = nimbus_posix_transport_send(&t, pattern + sent % PERIOD, CHUNK);
        assert_true(r >= 0);
        sent += (size_t)r;
    }
    assert_int_equal(r, 0);
    /* mbedTLS needs the same data again: a shorter retry is refused... */
    assert_int_equal(nimbus_posix_transport_send(&t, pattern + sent % PERIOD, 1),
                     NIMBUS_ERR_INVALID_ARGUMENT);

    /* ...and proper retries deliver every byte once, in order. */
    size_t target = sent + 4u * CHUNK;
    size_t received = 0;
    deadline = nimbus_posix_now_ms() + DEADLINE_MS;
    while (received < target) {
        if (sent < target) {
            size_t want = target - sent < CHUNK ? target - sent : CHUNK;
            r = nimbus_posix_transport_send(&t, pattern + sent % PERIOD, want);
            assert_true(r >= 0);
            sent += (size_t)r;
        }
        int n = mbedtls_ssl_read(&server.ssl, rx, sizeof rx);
        if (n > 0) {
            for (int i = 0; i < n; i++) {
                if (rx[i] != (uint8_t)((received + (size_t)i) % PERIOD)) {
                    fail_msg("byte %zu of the stream is wrong", received + (size_t)i);
                }
            }
            received += (size_t)n;
        } else {
            assert_true(n == MBEDTLS_ERR_SSL_WANT_READ);
        }
        assert_true(received <= sent);
        assert_true(nimbus_posix_now_ms() < deadline);
    }
    assert_int_equal(received, target);
    nimbus_posix_transport_deinit(&t);
    test_server_free(&server);
    close(lfd);
}

/* ------------------------------------------------------------ failures */

static void connection_refused_fails_20_quickly(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    uint16_t port;
    /* Bound but not listening: the port is ours and refuses connections. */
    int fd = listen_loopback(AF_INET, -1, &port);
    nimbus_posix_config_t cfg = plain_config("127.0.0.1", port);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    uint64_t start = nimbus_posix_now_ms();
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TRANSPORT_FAILED);
    /* Refusal is immediate, not the connect timeout. */
    assert_true(nimbus_posix_now_ms() - start < DEADLINE_MS / 2u);
    assert_non_null(strstr(log_text, "refused"));
    nimbus_posix_transport_deinit(&t);

    /* The same through TLS. */
    paths_t p;
    cfg = tls_config(&p, "ca", DEV1, port);
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TRANSPORT_FAILED);
    nimbus_posix_transport_deinit(&t);
    close(fd);
}

static void connect_timeout_fails_20(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    uint16_t port;
    int fill[16];
    size_t filled = 0;
    /* Backlog 0 and nobody accepts: once the queue is full the kernel
     * drops further SYNs, so a connect stays pending. */
    int lfd = listen_loopback(AF_INET, 0, &port);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool pending = false;
    while (!pending && filled < 16u) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
        fill[filled++] = fd;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            continue;
        }
        assert_int_equal(errno, EINPROGRESS);
        struct pollfd pf = {.fd = fd, .events = POLLOUT, .revents = 0};
        pending = poll(&pf, 1, 200) == 0;
    }
    assert_true(pending);

    nimbus_posix_config_t cfg = plain_config("127.0.0.1", port);
    cfg.connect_timeout_ms = 300;
    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TRANSPORT_FAILED);
    assert_non_null(strstr(log_text, "timed out"));
    nimbus_posix_transport_deinit(&t);
    for (size_t i = 0; i < filled; i++) {
        close(fill[i]);
    }
    close(lfd);
}

static void unresolvable_host_fails_20(void **state)
{
    (void)state;
    nimbus_posix_transport_t t;
    /* A 64-byte label cannot be encoded in a DNS query (labels are at
     * most 63 bytes), so resolution fails locally without any traffic. */
    static const char name[] =
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.invalid";
    nimbus_posix_config_t cfg = plain_config(name, 1883);

    assert_int_equal(nimbus_posix_transport_init(&t, &cfg), 0);
    assert_int_equal(drive_open(&t), NIMBUS_ERR_TRANSPORT_FAILED);
    assert_non_null(strstr(log_text, "cannot resolve"));
    nimbus_posix_transport_deinit(&t);
}

/* ------------------------------------------------------------ platform */

static void hmac_sha256_rfc4231(void **state)
{
    (void)state;
    uint8_t mac[32];
    /* RFC 4231 test case 2. */
    static const uint8_t tc2[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    const char *msg2 = "what do ya want for nothing?";
    assert_int_equal(nimbus_posix_hmac_sha256((const uint8_t *)"Jefe", 4,
                                              (const uint8_t *)msg2, strlen(msg2), mac),
                     0);
    assert_memory_equal(mac, tc2, 32);

    /* RFC 4231 test case 6: a 131-byte key is hashed first. */
    static const uint8_t tc6[32] = {
        0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26,
        0xaa, 0xcb, 0xf5, 0xb7, 0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28,
        0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54};
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(nimbus_posix_hmac_sha256(key6, sizeof key6, (const uint8_t *)msg6,
                                              strlen(msg6), mac),
                     0);
    assert_memory_equal(mac, tc6, 32);

    /* Empty key and message may be NULL. */
    static const uint8_t empty[32] = {
        0xb6, 0x13, 0x67, 0x9a, 0x08, 0x14, 0xd9, 0xec, 0x77, 0x2f, 0x95,
        0xd7, 0x78, 0xc3, 0x5f, 0xc5, 0xff, 0x16, 0x97, 0xc4, 0x93, 0x71,
        0x56, 0x53, 0xc6, 0xc7, 0x12, 0x14, 0x42, 0x92, 0xc5, 0xad};
    assert_int_equal(nimbus_posix_hmac_sha256(NULL, 0, NULL, 0, mac), 0);
    assert_memory_equal(mac, empty, 32);
}

static void clock_and_random(void **state)
{
    (void)state;
    uint64_t a = nimbus_posix_now_ms();
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    uint64_t b = nimbus_posix_now_ms();
    assert_true(b >= a + 19u);
    assert_true(b < a + DEADLINE_MS);

    /* 16 draws that are all equal would mean a broken source. */
    uint32_t first = nimbus_posix_random_u32();
    bool differs = false;
    for (int i = 0; i < 16; i++) {
        differs = differs || nimbus_posix_random_u32() != first;
    }
    assert_true(differs);
}

static void transport_stays_small(void **state)
{
    (void)state;
    /* The transport is embedded in caller memory; a few KiB is the
     * budget (an mbedtls_entropy_context alone can be 38 KB). */
    assert_true(sizeof(nimbus_posix_transport_t) <= 8192u);
}

/* The store: records written whole and read back, replaced atomically,
 * absent ones read as 0 bytes, and bad arguments refused. */
static void store_keeps_records_in_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/nimbus-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[sizeof dir + 8];
    snprintf(sub, sizeof sub, "%s/s", dir);
    nimbus_posix_store_t s;
    assert_int_equal(nimbus_posix_store_init(&s, sub), 0);
    assert_int_equal(nimbus_posix_store_init(NULL, sub), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_posix_store_init(&s, ""), NIMBUS_ERR_INVALID_ARGUMENT);
    uint8_t buf[32];
    assert_int_equal(nimbus_posix_store_read(&s, 1, buf, sizeof buf), 0);
    assert_int_equal(nimbus_posix_store_write(&s, 1, (const uint8_t *)"first", 5), 0);
    assert_int_equal(nimbus_posix_store_write(&s, 2, (const uint8_t *)"other", 5), 0);
    assert_int_equal(nimbus_posix_store_write(&s, 1, (const uint8_t *)"second!", 7), 0);
    assert_int_equal(nimbus_posix_store_read(&s, 1, buf, sizeof buf), 7);
    assert_memory_equal(buf, "second!", 7);
    assert_int_equal(nimbus_posix_store_read(&s, 2, buf, sizeof buf), 5);
    assert_memory_equal(buf, "other", 5);
    /* A record longer than the buffer is refused, not cut. */
    assert_int_equal(nimbus_posix_store_read(&s, 1, buf, 3), NIMBUS_ERR_INVALID_ARGUMENT);
    assert_int_equal(nimbus_posix_store_read(&s, 1, buf, 7), 7);
    assert_int_equal(nimbus_posix_store_write(NULL, 1, buf, 1), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_posix_store_write(&s, 1, NULL, 1), NIMBUS_ERR_NULL_ARGUMENT);
    /* No temporary file is left behind. */
    char tmp[sizeof sub + 16];
    snprintf(tmp, sizeof tmp, "%s/1.rec.new", sub);
    assert_int_equal(access(tmp, F_OK), -1);
    snprintf(tmp, sizeof tmp, "rm -rf '%s'", dir);
    assert_int_equal(system(tmp), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_arguments_are_refused),
        cmocka_unit_test(invalid_configs_are_refused),
        cmocka_unit_test(send_recv_before_open_say_not_connected),
        cmocka_unit_test(tls_good_client_gets_connack),
        cmocka_unit_test(tls_pem_credentials_from_memory),
        cmocka_unit_test(tls_second_device_with_alpn_over_ipv6),
        cmocka_unit_test(tls_peer_close_is_21_and_reopen_works),
        cmocka_unit_test(tls_host_as_ip_address),
        cmocka_unit_test(tls_wrong_ca_fails_31),
        cmocka_unit_test(tls_server_name_mismatch_fails_31),
        cmocka_unit_test(tls_expired_client_is_refused),
        cmocka_unit_test(tls_unknown_client_is_refused),
        cmocka_unit_test(tls_without_client_cert_is_refused),
        cmocka_unit_test(tls_against_plain_listener_fails_31),
        cmocka_unit_test(tls_handshake_timeout_fails_31),
        cmocka_unit_test(plain_tcp_gets_connack),
        cmocka_unit_test(plain_tcp_ipv6_data_then_eof),
        cmocka_unit_test(plain_send_would_block_returns_0),
        cmocka_unit_test(tls_send_would_block_keeps_the_stream_intact),
        cmocka_unit_test(connection_refused_fails_20_quickly),
        cmocka_unit_test(connect_timeout_fails_20),
        cmocka_unit_test(unresolvable_host_fails_20),
        cmocka_unit_test(hmac_sha256_rfc4231),
        cmocka_unit_test(clock_and_random),
        cmocka_unit_test(transport_stays_small),
        cmocka_unit_test(store_keeps_records_in_files),
    };
    fprintf(stderr, "nimbus_posix_transport_t: %zu bytes, %s\n",
            sizeof(nimbus_posix_transport_t), MBEDTLS_VERSION_STRING_FULL);
    return cmocka_run_group_tests_name("posix transport", tests, group_setup, NULL);
}
