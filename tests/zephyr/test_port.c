/*
 * test_port.c - host tests of the Zephyr port (ports/zephyr) against the
 * Zephyr stand-ins in stubs/ and the scripted fakes in fakes.c: socket
 * and TLS option set-up, connect failures, partial sends, would-block,
 * peer close, credentials, HMAC, sensors and the network facts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <zephyr/sys/fdtable.h>

#include "fakes.h"
#include "nimbus_zephyr.h"

#define TAG 4242

static int setup(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

static nimbus_zephyr_config_t tls_cfg(void)
{
    nimbus_zephyr_config_t c;
    memset(&c, 0, sizeof c);
    c.host = "broker.example.com";
    c.port = 8883;
    c.sec_tags[0] = TAG;
    c.sec_tag_count = 1;
    return c;
}

/* A ready transport over fake socket 3. */
static void open_ready(nimbus_zephyr_transport_t *t, const nimbus_zephyr_config_t *c)
{
    assert_int_equal(nimbus_zephyr_transport_init(t, c), 0);
    assert_int_equal(nimbus_zephyr_transport_open(t), 1);
}

/* ------------------------------------------------------------ init */

static void init_rejects_bad_config(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();

    assert_int_equal(nimbus_zephyr_transport_init(NULL, &c), -1);
    assert_int_equal(nimbus_zephyr_transport_init(&t, NULL), -1);
    c.host = NULL;
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), -1);
    c = tls_cfg();
    c.port = 0;
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), -2);
    c = tls_cfg();
    c.host = "";
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), -2);
    c = tls_cfg();
    c.sec_tag_count = 0; /* TLS without credentials */
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), -2);
    c.sec_tag_count = NIMBUS_ZEPHYR_MAX_SEC_TAGS + 1;
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), -2);
    /* A failed init is refused by open. */
    assert_int_equal(nimbus_zephyr_transport_open(&t), -2);
    assert_int_equal(fake.sockets, 0);
    c = tls_cfg();
    c.plain_tcp = true;
    c.sec_tag_count = 0; /* fine without TLS */
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
}

/* ------------------------------------------------------------ open */

static void open_sets_tls_options(void **state)
{
    (void)state;
    static const char *const alpn[] = {"x-amzn-mqtt-ca", NULL};
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    c.sec_tags[1] = 7;
    c.sec_tag_count = 2;
    c.alpn = alpn;

    open_ready(&t, &c);
    assert_string_equal(fake.gai_host, "broker.example.com");
    assert_string_equal(fake.gai_service, "8883");
    assert_int_equal(fake.socket_proto[0], IPPROTO_TLS_1_2);
    assert_int_equal(fake.socket_family[0], AF_INET);

    const struct fake_sockopt *o = fake_sockopt(3, SOL_TLS, TLS_SEC_TAG_LIST);
    assert_non_null(o);
    assert_int_equal(o->len, 2 * sizeof(sec_tag_t));
    sec_tag_t tags[2];
    memcpy(tags, o->value, sizeof tags);
    assert_int_equal(tags[0], TAG);
    assert_int_equal(tags[1], 7);

    o = fake_sockopt(3, SOL_TLS, TLS_HOSTNAME);
    assert_non_null(o);
    assert_int_equal(o->len, strlen("broker.example.com") + 1);
    assert_string_equal((const char *)o->value, "broker.example.com");

    o = fake_sockopt(3, SOL_TLS, TLS_PEER_VERIFY);
    assert_non_null(o);
    int verify;
    memcpy(&verify, o->value, sizeof verify);
    assert_int_equal(verify, TLS_PEER_VERIFY_REQUIRED);

    o = fake_sockopt(3, SOL_TLS, TLS_ALPN_LIST);
    assert_non_null(o);
    assert_int_equal(o->len, sizeof(char *));
    const char *first;
    memcpy(&first, o->value, sizeof first);
    assert_string_equal(first, "x-amzn-mqtt-ca");

    /* Non-blocking once connected; the name list is freed. */
    assert_true((fake.fcntl_flags & ZVFS_O_NONBLOCK) != 0);
    assert_int_equal(fake.freeaddrinfo_calls, 1);
    /* Open again while ready: nothing new. */
    assert_int_equal(nimbus_zephyr_transport_open(&t), 1);
    assert_int_equal(fake.sockets, 1);
}

static void open_plain_and_connect_address(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    c.plain_tcp = true;
    c.connect_address = "127.0.0.1";
    c.insecure_skip_verify = true;

    open_ready(&t, &c);
    assert_string_equal(fake.gai_host, "127.0.0.1");
    assert_int_equal(fake.socket_proto[0], IPPROTO_TCP);
    assert_int_equal(fake.nopts, 0); /* no TLS options on plain TCP */
}

static void open_skip_verify_sets_none(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    c.insecure_skip_verify = true;

    open_ready(&t, &c);
    const struct fake_sockopt *o = fake_sockopt(3, SOL_TLS, TLS_PEER_VERIFY);
    assert_non_null(o);
    int verify;
    memcpy(&verify, o->value, sizeof verify);
    assert_int_equal(verify, TLS_PEER_VERIFY_NONE);
}

static void open_resolution_failure(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    fake.gai_ret = -2; /* DNS_EAI_NONAME */

    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_transport_open(&t), -20);
    assert_int_equal(fake.sockets, 0);
    assert_true(fake_logged("cannot resolve broker.example.com"));
}

static void open_refused_tries_next_address(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    fake.gai_count = 2;
    fake.connect_script[0] = (struct fake_io){.ret = -1, .err = ECONNREFUSED};
    fake.nconnect = 1;

    open_ready(&t, &c);
    assert_int_equal(fake.sockets, 2);
    assert_int_equal(fake.closes, 1);
    assert_int_equal(fake.closed[0], 3); /* the refused socket */
    assert_int_equal(t.fd, 4);
}

static void open_all_refused(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    fake.gai_count = 3; /* only NIMBUS_ZEPHYR_MAX_ADDRS are tried */
    for (int i = 0; i < 3; i++) {
        fake.connect_script[i] = (struct fake_io){.ret = -1, .err = ETIMEDOUT};
    }
    fake.nconnect = 3;

    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_transport_open(&t), -20);
    assert_int_equal(fake.sockets, NIMBUS_ZEPHYR_MAX_ADDRS);
    assert_int_equal(fake.closes, NIMBUS_ZEPHYR_MAX_ADDRS);
    assert_int_equal(t.fd, -1);
    assert_int_equal(nimbus_zephyr_transport_send(&t, (const uint8_t *)"x", 1), -24);
}

static void open_handshake_failure_is_tls_failed(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    fake.gai_count = 2;
    fake.connect_script[0] = (struct fake_io){.ret = -1, .err = ECONNABORTED};
    fake.nconnect = 1;

    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_transport_open(&t), -31);
    /* The server answered: the second address is not tried. */
    assert_int_equal(fake.sockets, 1);
    assert_int_equal(fake.closes, 1);
    assert_true(fake_logged("TLS handshake failed"));
}

static void open_sockopt_failure(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    fake.sockopt_fail = TLS_HOSTNAME;

    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_transport_open(&t), -31);
    assert_int_equal(fake.connect_calls, 0); /* never connected */
    assert_int_equal(fake.closes, 1);
    assert_true(fake_logged("TLS_HOSTNAME"));
}

static void open_socket_and_fcntl_failures(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();

    fake.socket_err = ENOMEM;
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_transport_open(&t), -20);
    fake.socket_err = 0;
    fake.fcntl_fail = EINVAL;
    assert_int_equal(nimbus_zephyr_transport_open(&t), -20);
    assert_int_equal(fake.closes, 1);
    fake.fcntl_fail = 0;
    assert_int_equal(nimbus_zephyr_transport_open(&t), 1);
}

/* ------------------------------------------------------------ send */

static void send_partial_and_would_block(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    open_ready(&t, &c);

    fake.send_script[0] = (struct fake_io){.ret = 3};                /* partial */
    fake.send_script[1] = (struct fake_io){.ret = -1, .err = EAGAIN}; /* full */
    fake.send_script[2] = (struct fake_io){.ret = 100};              /* the rest */
    fake.nsend = 3;
    const uint8_t msg[] = "0123456789";

    assert_int_equal(nimbus_zephyr_transport_send(&t, msg, 10), 3);
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg + 3, 7), 0);
    assert_true(t.want_write);
    /* While a send waits, poll watches for room too. */
    fake.poll_ret = 1;
    fake.poll_revents = ZSOCK_POLLOUT;
    assert_int_equal(nimbus_zephyr_wait(&t, 50), 1);
    assert_int_equal(fake.poll_events, ZSOCK_POLLIN | ZSOCK_POLLOUT);
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg + 3, 7), 7);
    assert_false(t.want_write);
    assert_int_equal(fake.sent_len, 10);
    assert_memory_equal(fake.sent, msg, 10);
    /* Zero bytes and bad arguments. */
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg, 0), 0);
    assert_int_equal(nimbus_zephyr_transport_send(&t, NULL, 1), -1);
    assert_int_equal(nimbus_zephyr_transport_send(NULL, msg, 1), -1);
}

static void send_errors_break_the_link(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    const uint8_t msg[] = "abc";

    open_ready(&t, &c);
    fake.send_script[0] = (struct fake_io){.ret = -1, .err = EPIPE};
    fake.nsend = 1;
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg, 3), -21);
    /* Broken: the error repeats without touching the socket. */
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg, 3), -21);
    assert_int_equal(nimbus_zephyr_transport_recv(&t, (uint8_t[4]){0}, 4), -21);
    assert_int_equal(fake.send_calls, 1);

    /* Open starts over with a new socket. */
    assert_int_equal(nimbus_zephyr_transport_open(&t), 1);
    assert_int_equal(fake.sockets, 2);
    fake.send_script[1] = (struct fake_io){.ret = -1, .err = ENOBUFS};
    fake.nsend = 2;
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg, 3), -20);
    assert_true(fake_logged("send: errno"));

    assert_int_equal(nimbus_zephyr_transport_open(&t), 1);
    fake.send_script[2] = (struct fake_io){.ret = -1, .err = ECONNABORTED};
    fake.nsend = 3;
    assert_int_equal(nimbus_zephyr_transport_send(&t, msg, 3), -31);
}

static void send_before_open(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_transport_send(&t, (const uint8_t *)"x", 1), -24);
    assert_int_equal(nimbus_zephyr_transport_recv(&t, (uint8_t[1]){0}, 1), -24);
    assert_int_equal(fake.send_calls + fake.recv_calls, 0);
}

/* ------------------------------------------------------------ recv */

static void recv_data_nothing_and_close(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    uint8_t buf[8];

    open_ready(&t, &c);
    fake.recv_script[0] = (struct fake_io){.ret = 4, .data = "\x20\x02\x00\x00"};
    fake.recv_script[1] = (struct fake_io){.ret = -1, .err = EAGAIN};
    fake.recv_script[2] = (struct fake_io){.ret = 0}; /* EOF */
    fake.nrecv = 3;
    assert_int_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), 4);
    assert_memory_equal(buf, "\x20\x02\x00\x00", 4);
    assert_int_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), 0);
    assert_int_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), -21);
    assert_int_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), -21);
    assert_int_equal(fake.recv_calls, 3);
}

static void recv_reset_and_failure(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();
    uint8_t buf[8];

    open_ready(&t, &c);
    fake.recv_script[0] = (struct fake_io){.ret = -1, .err = ECONNRESET};
    fake.recv_script[1] = (struct fake_io){.ret = -1, .err = EIO};
    fake.nrecv = 2;
    assert_int_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), -21);
    nimbus_zephyr_transport_close(&t);
    assert_int_equal(t.fd, -1);
    assert_int_equal(nimbus_zephyr_transport_open(&t), 1);
    assert_int_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), -20);
    assert_true(fake_logged("recv: errno 5"));
}

/* ------------------------------------------------------------ wait */

static void wait_sleeps_without_socket(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();

    assert_int_equal(nimbus_zephyr_transport_init(&t, &c), 0);
    assert_int_equal(nimbus_zephyr_wait(&t, 250), 0);
    assert_int_equal(fake.slept_ms, 250);
    assert_int_equal(fake.poll_calls, 0);
    assert_int_equal(nimbus_zephyr_wait(NULL, 1), -1);
}

static void wait_polls_socket(void **state)
{
    (void)state;
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = tls_cfg();

    open_ready(&t, &c);
    fake.poll_ret = 0;
    assert_int_equal(nimbus_zephyr_wait(&t, 1234), 0);
    assert_int_equal(fake.poll_timeout, 1234);
    assert_int_equal(fake.poll_events, ZSOCK_POLLIN);
    fake.poll_ret = 1;
    fake.poll_revents = ZSOCK_POLLIN;
    assert_int_equal(nimbus_zephyr_wait(&t, 10), 1);
    fake.poll_ret = -1;
    fake.poll_err = EINTR;
    assert_int_equal(nimbus_zephyr_wait(&t, 10), 0);
    fake.poll_err = ENOMEM;
    assert_int_equal(nimbus_zephyr_wait(&t, 10), -20);
    /* A very long timeout is clamped, not wrapped to negative. */
    fake.poll_ret = 0;
    assert_int_equal(nimbus_zephyr_wait(&t, UINT32_MAX), 0);
    assert_true(fake.poll_timeout > 0);
}

/* ------------------------------------------------------------ credentials */

static void credentials_are_added(void **state)
{
    (void)state;
    static const char ca[] = "-----BEGIN CERTIFICATE-----\nCA\n";
    static const char crt[] = "-----BEGIN CERTIFICATE-----\nDEV\n";
    static const char key[] = "-----BEGIN PRIVATE KEY-----\nK\n";

    assert_int_equal(nimbus_zephyr_credentials_add(TAG, ca, sizeof ca, crt, sizeof crt, key,
                                                   sizeof key),
                     0);
    assert_int_equal(fake.ncreds, 3);
    assert_int_equal(fake.creds[0].tag, TAG);
    assert_int_equal(fake.creds[0].type, TLS_CREDENTIAL_CA_CERTIFICATE);
    assert_int_equal(fake.creds[0].len, sizeof ca); /* NUL included */
    assert_int_equal(fake.creds[1].type, TLS_CREDENTIAL_SERVER_CERTIFICATE);
    assert_int_equal(fake.creds[2].type, TLS_CREDENTIAL_PRIVATE_KEY);

    /* CA only (server authentication). */
    fake_reset();
    assert_int_equal(nimbus_zephyr_credentials_add(TAG, ca, sizeof ca, NULL, 0, NULL, 0), 0);
    assert_int_equal(fake.ncreds, 1);
}

static void credentials_replace_and_refusals(void **state)
{
    (void)state;
    static const char ca[] = "CA";
    static const char crt[] = "DEV";

    /* An existing CA under the tag is deleted and added again. */
    fake.cred_add_ret[0] = -EEXIST;
    assert_int_equal(nimbus_zephyr_credentials_add(TAG, ca, sizeof ca, NULL, 0, NULL, 0), 0);
    assert_int_equal(fake.cred_deletes, 1);
    assert_int_equal(fake.cred_add_calls, 2);

    /* The store is full. */
    fake_reset();
    fake.cred_add_ret[1] = -ENOMEM;
    assert_int_equal(nimbus_zephyr_credentials_add(TAG, ca, sizeof ca, crt, sizeof crt, crt,
                                                   sizeof crt),
                     -31);
    assert_true(fake_logged("tls_credential_add(4242, certificate): -12"));
    assert_int_equal(fake.cred_add_calls, 2); /* the key is not tried */

    /* Bad arguments. */
    fake_reset();
    assert_int_equal(nimbus_zephyr_credentials_add(TAG, NULL, 0, NULL, 0, NULL, 0), -1);
    assert_int_equal(nimbus_zephyr_credentials_add(TAG, ca, sizeof ca, crt, sizeof crt, NULL, 0),
                     -2);
    assert_int_equal(nimbus_zephyr_credentials_add(TAG, ca, 0, NULL, 0, NULL, 0), -2);
    assert_int_equal(fake.cred_add_calls, 0);
}

/* ------------------------------------------------------------ platform */

static void clock_random_and_wall_time(void **state)
{
    (void)state;
    fake.uptime_ms = 123456;
    assert_int_equal(nimbus_zephyr_now_ms(), 123456);
    fake.uptime_ms = -5;
    assert_int_equal(nimbus_zephyr_now_ms(), 0);

    fake.rand_byte = 0x10;
    uint32_t r = nimbus_zephyr_random_u32(NULL);
    uint8_t b[4];
    memcpy(b, &r, 4);
    assert_int_equal(b[0], 0x10);
    assert_int_equal(b[3], 0x13);

    fake.uptime_ms = 1000;
    assert_int_equal(nimbus_zephyr_unix_time_s(NULL), -1); /* never set */
    nimbus_zephyr_set_unix_time(1700000000u);
    assert_int_equal(nimbus_zephyr_unix_time_s(NULL), 1700000000u);
    fake.uptime_ms = 61000;
    assert_int_equal(nimbus_zephyr_unix_time_s(NULL), 1700000060u);
}

static void hmac_rfc4231_case2(void **state)
{
    (void)state;
    /* RFC 4231, test case 2. */
    static const uint8_t expect[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    const char *key = "Jefe";
    const char *msg = "what do ya want for nothing?";
    uint8_t out[32];

    assert_int_equal(nimbus_zephyr_hmac_sha256(NULL, (const uint8_t *)key, 4,
                                               (const uint8_t *)msg, strlen(msg), out),
                     0);
    assert_memory_equal(out, expect, 32);
    assert_int_equal(nimbus_zephyr_hmac_sha256(NULL, NULL, 0, NULL, 0, out), 0);
    assert_int_equal(nimbus_zephyr_hmac_sha256(NULL, NULL, 1, NULL, 0, out), -1);
    assert_int_equal(nimbus_zephyr_hmac_sha256(NULL, (const uint8_t *)key, 4, NULL, 0, NULL),
                     -1);
}

/* ------------------------------------------------------------ sensors */

static const nimbus_zephyr_sensor_t temp = {
    .dev = &fake_sensor_dev,
    .chan = SENSOR_CHAN_DIE_TEMP,
    .id = 12,
    .decimals = 2,
    .type = "temperature",
    .unit = "C",
};

static void sensor_read_converts(void **state)
{
    (void)state;
    int64_t m = 0;
    uint8_t d = 9;

    fake.value = (struct sensor_value){23, 456789};
    assert_int_equal(nimbus_zephyr_sensor_read(&temp, &m, &d), 0);
    assert_int_equal(m, 2345); /* 23.45, toward zero */
    assert_int_equal(d, 2);
    assert_int_equal(fake.asked_chan, SENSOR_CHAN_DIE_TEMP);
    assert_int_equal(fake.fetches, 1);

    fake.value = (struct sensor_value){-1, -500000};
    assert_int_equal(nimbus_zephyr_sensor_read(&temp, &m, &d), 0);
    assert_int_equal(m, -150);
    fake.value = (struct sensor_value){0, -250000};
    assert_int_equal(nimbus_zephyr_sensor_read(&temp, &m, &d), 0);
    assert_int_equal(m, -25);
}

static void sensor_value_extremes(void **state)
{
    (void)state;
    int64_t m = 0;
    struct sensor_value v = {INT32_MAX, 999999};

    assert_int_equal(nimbus_zephyr_sensor_value_to_fixed(&v, 6, &m), 0);
    assert_int_equal(m, (int64_t)INT32_MAX * 1000000 + 999999);
    v = (struct sensor_value){INT32_MIN, -999999};
    assert_int_equal(nimbus_zephyr_sensor_value_to_fixed(&v, 6, &m), 0);
    assert_int_equal(m, (int64_t)INT32_MIN * 1000000 - 999999);
    assert_int_equal(nimbus_zephyr_sensor_value_to_fixed(&v, 0, &m), 0);
    assert_int_equal(m, INT32_MIN);
    assert_int_equal(nimbus_zephyr_sensor_value_to_fixed(&v, 7, &m), -2);
    assert_int_equal(nimbus_zephyr_sensor_value_to_fixed(NULL, 2, &m), -1);
}

static void sensor_read_failures(void **state)
{
    (void)state;
    int64_t m = 77;
    uint8_t d = 9;

    fake.fetch_ret = -EIO;
    assert_int_equal(nimbus_zephyr_sensor_read(&temp, &m, &d), -20);
    assert_true(fake_logged("sensor 12 (fake-sensor): read failed: -5"));
    fake.fetch_ret = 0;
    fake.get_ret = -ENOTSUP;
    assert_int_equal(nimbus_zephyr_sensor_read(&temp, &m, &d), -20);
    fake.get_ret = 0;
    fake.device_ready = false;
    assert_int_equal(nimbus_zephyr_sensor_read(&temp, &m, &d), -2);
    assert_int_equal(m, 77); /* untouched on failure */
    assert_int_equal(d, 9);
    nimbus_zephyr_sensor_t bad = temp;
    bad.decimals = 7;
    fake.device_ready = true;
    assert_int_equal(nimbus_zephyr_sensor_read(&bad, &m, &d), -2);
    assert_int_equal(nimbus_zephyr_sensor_read(NULL, &m, &d), -1);
}

/* ------------------------------------------------------------ network */

/* An address as nimbus_ip_t carries it. */
static void assert_ip(const nimbus_ip_t *ip, uint8_t version, const char *bytes)
{
    assert_int_equal(ip->version, version);
    assert_memory_equal(ip->bytes, bytes, version == 4 ? 4u : 16u);
}

static void net_info_full(void **state)
{
    (void)state;
    nimbus_zephyr_net_info_t info;

    fake.have_iface = true;
    fake.have_v4 = true;
    fake.v4 = (struct in_addr){.s4_addr = {192, 168, 1, 20}};
    fake.mask = (struct in_addr){.s4_addr = {255, 255, 255, 0}};
    fake.gw = (struct in_addr){.s4_addr = {192, 168, 1, 1}};
    fake.have_v6 = true;
    fake.v6.s6_addr[0] = 0x20;
    fake.v6.s6_addr[1] = 0x01;
    fake.v6.s6_addr[15] = 0x05;
    memcpy(fake.mac, "\xf4\xce\x36\x00\x12\xab", 6);
    fake.mac_len = 6;
    fake.have_dns = true;
    /* Slot 0 unused, then two IPv4 servers and nothing else. */
    struct sockaddr_in *dns = net_sin(&fake.dns.servers[1].dns_server);
    dns->sin_family = AF_INET;
    dns->sin_addr = (struct in_addr){.s4_addr = {9, 9, 9, 9}};
    struct sockaddr_in6 *dns6 = net_sin6(&fake.dns.servers[2].dns_server);
    dns6->sin6_family = AF_INET6;
    dns6->sin6_addr.s6_addr[15] = 1;

    assert_int_equal(nimbus_zephyr_net_info(&info), 0);
    assert_ip(&info.ipv4, 4, "\xc0\xa8\x01\x14");
    assert_ip(&info.netmask, 4, "\xff\xff\xff\x00");
    assert_ip(&info.gateway, 4, "\xc0\xa8\x01\x01");
    assert_ip(&info.ipv6, 6, "\x20\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x05");
    assert_true(info.has_mac);
    assert_memory_equal(info.mac, "\xf4\xce\x36\x00\x12\xab", 6);
    assert_ip(&info.dns_primary, 4, "\x09\x09\x09\x09");
    assert_ip(&info.dns_secondary, 6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01");
}

static void net_info_without_interface(void **state)
{
    (void)state;
    nimbus_zephyr_net_info_t info;

    memset(&info, 'x', sizeof info); /* everything is overwritten */
    assert_int_equal(nimbus_zephyr_net_info(&info), 0);
    assert_int_equal(info.ipv4.version, 0);
    assert_int_equal(info.gateway.version, 0);
    assert_int_equal(info.dns_primary.version, 0);
    assert_false(info.has_mac);
    assert_int_equal(nimbus_zephyr_net_info(NULL), -1);
}

static void net_info_partial(void **state)
{
    (void)state;
    nimbus_zephyr_net_info_t info;

    /* An address without gateway or mask; a link address that is not a
     * 6-byte MAC (e.g. 802.15.4) is left out. */
    fake.have_iface = true;
    fake.have_v4 = true;
    fake.v4 = (struct in_addr){.s4_addr = {10, 0, 0, 2}};
    fake.mac_len = 8;
    assert_int_equal(nimbus_zephyr_net_info(&info), 0);
    assert_ip(&info.ipv4, 4, "\x0a\x00\x00\x02");
    assert_int_equal(info.netmask.version, 0);
    assert_int_equal(info.gateway.version, 0);
    assert_int_equal(info.ipv6.version, 0);
    assert_false(info.has_mac);
}

/* --------------------------------------------------------------- log */

static void trace_lines_go_to_the_log_at_their_level(void **state)
{
    (void)state;
    static const char line[] = "link down: transport failed, next attempt in 700 ms!!";
    nimbus_zephyr_log(NULL, 2, line, sizeof line - 3); /* len counts, not the NUL */
    assert_true(fake_logged("link down: transport failed, next attempt in 700 ms"));
    assert_false(fake_logged("!!"));
    nimbus_zephyr_log(NULL, 1, "subscription refused", 20);
    assert_true(fake_logged("subscription refused"));
}

/* ------------------------------------------------------------- store */

static void store_init_takes_whole_pages_of_the_area(void **state)
{
    (void)state;
    nimbus_zephyr_store_t st;
    fake.page_size = 4096;
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0x7a000, 5 * 4096 + 100), 0);
    assert_int_equal(fake.nvs_mounts, 1);
    assert_int_equal(fake.page_offset, 0x7a000);
    assert_int_equal(st.fs.offset, 0x7a000);
    assert_int_equal(st.fs.sector_size, 4096);
    assert_int_equal(st.fs.sector_count, 5);
    assert_ptr_equal(st.fs.flash_device, &fake_flash_dev);
}

static void store_init_refuses_what_cannot_hold_it(void **state)
{
    (void)state;
    nimbus_zephyr_store_t st;
    fake.page_size = 4096;
    assert_int_equal(nimbus_zephyr_store_init(NULL, &fake_flash_dev, 0, 8192),
                     NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_zephyr_store_init(&st, NULL, 0, 8192), NIMBUS_ERR_NULL_ARGUMENT);
    /* One page leaves none for garbage collection. */
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0, 8191),
                     NIMBUS_ERR_INVALID_ARGUMENT);
    /* NVS sectors are at most 64 KiB. */
    fake.page_size = 128 * 1024;
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0, 1024 * 1024),
                     NIMBUS_ERR_INVALID_ARGUMENT);
    fake.page_size = 0;
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0, 8192),
                     NIMBUS_ERR_INVALID_ARGUMENT);
    fake.page_size = 4096;
    fake.device_ready = false;
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0, 8192),
                     NIMBUS_ERR_TRANSPORT_FAILED);
    fake.device_ready = true;
    fake.nvs_mount_ret = -EIO;
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0, 8192),
                     NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(fake.nvs_mounts, 1);
}

static void store_reads_writes_and_deletes_records(void **state)
{
    (void)state;
    nimbus_zephyr_store_t st;
    fake.page_size = 4096;
    assert_int_equal(nimbus_zephyr_store_init(&st, &fake_flash_dev, 0, 8192), 0);
    uint8_t buf[32];
    /* None yet. */
    assert_int_equal(nimbus_zephyr_store_read(&st, 3, buf, sizeof buf), 0);
    static const uint8_t rec[] = {0x82, 1, 2, 0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(nimbus_zephyr_store_write(&st, 3, rec, sizeof rec), 0);
    assert_int_equal(nimbus_zephyr_store_read(&st, 3, buf, sizeof buf), (int)sizeof rec);
    assert_memory_equal(buf, rec, sizeof rec);
    /* The same bytes again: NVS writes nothing, still a success. */
    assert_int_equal(nimbus_zephyr_store_write(&st, 3, rec, sizeof rec), 0);
    assert_int_equal(fake.nvs_writes, 1);
    /* Longer than the caller's buffer: refused, not cut. */
    assert_int_equal(nimbus_zephyr_store_read(&st, 3, buf, 4), NIMBUS_ERR_BUFFER_TOO_SMALL);
    /* Length 0 deletes, also a record that is not there. */
    assert_int_equal(nimbus_zephyr_store_write(&st, 3, NULL, 0), 0);
    assert_int_equal(nimbus_zephyr_store_read(&st, 3, buf, sizeof buf), 0);
    assert_int_equal(nimbus_zephyr_store_write(&st, 3, NULL, 0), 0);
    /* Full, and flash errors. */
    uint8_t big[200] = {0};
    assert_int_equal(nimbus_zephyr_store_write(&st, 4, big, sizeof big),
                     NIMBUS_ERR_STORAGE_TOO_SMALL);
    fake.nvs_io_err = EIO;
    assert_int_equal(nimbus_zephyr_store_write(&st, 4, rec, sizeof rec),
                     NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(nimbus_zephyr_store_read(&st, 4, buf, sizeof buf),
                     NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(nimbus_zephyr_store_write(&st, 4, NULL, 0), NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(nimbus_zephyr_store_read(NULL, 4, buf, sizeof buf),
                     NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_zephyr_store_write(&st, 4, NULL, 3), NIMBUS_ERR_NULL_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(trace_lines_go_to_the_log_at_their_level, setup),
        cmocka_unit_test_setup(store_init_takes_whole_pages_of_the_area, setup),
        cmocka_unit_test_setup(store_init_refuses_what_cannot_hold_it, setup),
        cmocka_unit_test_setup(store_reads_writes_and_deletes_records, setup),
        cmocka_unit_test_setup(init_rejects_bad_config, setup),
        cmocka_unit_test_setup(open_sets_tls_options, setup),
        cmocka_unit_test_setup(open_plain_and_connect_address, setup),
        cmocka_unit_test_setup(open_skip_verify_sets_none, setup),
        cmocka_unit_test_setup(open_resolution_failure, setup),
        cmocka_unit_test_setup(open_refused_tries_next_address, setup),
        cmocka_unit_test_setup(open_all_refused, setup),
        cmocka_unit_test_setup(open_handshake_failure_is_tls_failed, setup),
        cmocka_unit_test_setup(open_sockopt_failure, setup),
        cmocka_unit_test_setup(open_socket_and_fcntl_failures, setup),
        cmocka_unit_test_setup(send_partial_and_would_block, setup),
        cmocka_unit_test_setup(send_errors_break_the_link, setup),
        cmocka_unit_test_setup(send_before_open, setup),
        cmocka_unit_test_setup(recv_data_nothing_and_close, setup),
        cmocka_unit_test_setup(recv_reset_and_failure, setup),
        cmocka_unit_test_setup(wait_sleeps_without_socket, setup),
        cmocka_unit_test_setup(wait_polls_socket, setup),
        cmocka_unit_test_setup(credentials_are_added, setup),
        cmocka_unit_test_setup(credentials_replace_and_refusals, setup),
        cmocka_unit_test_setup(clock_random_and_wall_time, setup),
        cmocka_unit_test_setup(hmac_rfc4231_case2, setup),
        cmocka_unit_test_setup(sensor_read_converts, setup),
        cmocka_unit_test_setup(sensor_value_extremes, setup),
        cmocka_unit_test_setup(sensor_read_failures, setup),
        cmocka_unit_test_setup(net_info_full, setup),
        cmocka_unit_test_setup(net_info_without_interface, setup),
        cmocka_unit_test_setup(net_info_partial, setup),
    };
    return cmocka_run_group_tests_name("zephyr port (stand-ins)", tests, NULL, NULL);
}
