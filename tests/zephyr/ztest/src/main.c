/*
 * ztest suite of the Nimbus Zephyr port on a real kernel and IP stack:
 * the transport over loopback TCP (connect, refused, send/recv, wait,
 * peer close), TLS credentials in Zephyr's store, HMAC through Zephyr's
 * mbedTLS, sensor reads through the sensor API, and the network facts.
 */
#include <errno.h>
#include <string.h>

#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/kernel.h>
#include <zephyr/net/net_if.h>
#include <zephyr/net/socket.h>
#include <zephyr/ztest.h>

#include <nimbus_zephyr.h>

#define PORT 18830
#define REFUSED_PORT 18831

/* ------------------------------------------------------------ a test sensor */

struct test_sensor_data {
    int fetch_ret;
    struct sensor_value value;
};

static struct test_sensor_data sensor_data;

static int test_fetch(const struct device *dev, enum sensor_channel chan)
{
    ARG_UNUSED(chan);
    return ((struct test_sensor_data *)dev->data)->fetch_ret;
}

static int test_get(const struct device *dev, enum sensor_channel chan, struct sensor_value *val)
{
    if (chan != SENSOR_CHAN_HUMIDITY) {
        return -ENOTSUP;
    }
    *val = ((struct test_sensor_data *)dev->data)->value;
    return 0;
}

static DEVICE_API(sensor, test_api) = {
    .sample_fetch = test_fetch,
    .channel_get = test_get,
};

DEVICE_DEFINE(nimbus_test_sensor, "nimbus-test-sensor", NULL, NULL, &sensor_data, NULL,
              POST_KERNEL, 90, &test_api);

/* ------------------------------------------------------------ helpers */

static int listener(uint16_t port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1;
    int fd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

    zassert_true(fd >= 0, "socket: %d", errno);
    (void)zsock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    zsock_inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    zassert_ok(zsock_bind(fd, (struct sockaddr *)&addr, sizeof addr), "bind: %d", errno);
    zassert_ok(zsock_listen(fd, 1), "listen: %d", errno);
    return fd;
}

static nimbus_zephyr_config_t plain_cfg(uint16_t port)
{
    nimbus_zephyr_config_t c = {
        .host = "localhost",
        .connect_address = "127.0.0.1",
        .port = port,
        .plain_tcp = true,
    };
    return c;
}

/* ------------------------------------------------------------ transport */

ZTEST(nimbus_port, test_transport_round_trip)
{
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = plain_cfg(PORT);
    int server = listener(PORT);
    uint8_t buf[16];

    zassert_ok(nimbus_zephyr_transport_init(&t, &c));
    zassert_equal(nimbus_zephyr_transport_open(&t), 1);
    int peer = zsock_accept(server, NULL, NULL);
    zassert_true(peer >= 0, "accept: %d", errno);

    /* Device to server. */
    zassert_equal(nimbus_zephyr_transport_send(&t, (const uint8_t *)"\x10\x02\xab\xcd", 4), 4);
    ssize_t n = zsock_recv(peer, buf, sizeof buf, 0);
    zassert_equal(n, 4);
    zassert_mem_equal(buf, "\x10\x02\xab\xcd", 4);

    /* Nothing yet: recv says 0 without blocking; wait times out. */
    zassert_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), 0);
    int64_t before = k_uptime_get();
    zassert_equal(nimbus_zephyr_wait(&t, 50), 0);
    zassert_true(k_uptime_get() - before >= 40);

    /* Server to device: wait wakes, recv delivers. */
    zassert_equal(zsock_send(peer, "\x20\x02\x00\x00", 4, 0), 4);
    zassert_equal(nimbus_zephyr_wait(&t, 1000), 1);
    zassert_equal(nimbus_zephyr_transport_recv(&t, buf, sizeof buf), 4);
    zassert_mem_equal(buf, "\x20\x02\x00\x00", 4);

    /* The server closes: recv reports -21, and keeps doing so. */
    zsock_close(peer);
    int32_t r = 0;
    for (int i = 0; i < 50 && r == 0; i++) { /* bounded: 50 x 20 ms */
        (void)nimbus_zephyr_wait(&t, 20);
        r = nimbus_zephyr_transport_recv(&t, buf, sizeof buf);
    }
    zassert_equal(r, NIMBUS_ERR_CONNECTION_CLOSED);
    zassert_equal(nimbus_zephyr_transport_send(&t, buf, 1), NIMBUS_ERR_CONNECTION_CLOSED);
    nimbus_zephyr_transport_close(&t);
    zsock_close(server);
}

ZTEST(nimbus_port, test_transport_refused)
{
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = plain_cfg(REFUSED_PORT);

    zassert_ok(nimbus_zephyr_transport_init(&t, &c));
    zassert_equal(nimbus_zephyr_transport_open(&t), NIMBUS_ERR_TRANSPORT_FAILED);
    zassert_equal(t.fd, -1);
    zassert_equal(nimbus_zephyr_transport_send(&t, (const uint8_t *)"x", 1),
                  NIMBUS_ERR_NOT_CONNECTED);
}

ZTEST(nimbus_port, test_transport_config_checks)
{
    nimbus_zephyr_transport_t t;
    nimbus_zephyr_config_t c = plain_cfg(PORT);

    c.plain_tcp = false; /* TLS without a security tag */
    zassert_equal(nimbus_zephyr_transport_init(&t, &c), NIMBUS_ERR_INVALID_ARGUMENT);
    zassert_equal(nimbus_zephyr_transport_open(&t), NIMBUS_ERR_INVALID_ARGUMENT);
    c.sec_tags[0] = 1;
    c.sec_tag_count = 1;
    zassert_ok(nimbus_zephyr_transport_init(&t, &c));
}

/* ------------------------------------------------------------ credentials, HMAC */

ZTEST(nimbus_port, test_credentials_store)
{
    static const char ca[] = "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n";
    char back[sizeof ca];
    size_t len = sizeof back;

    zassert_ok(nimbus_zephyr_credentials_add(77, ca, sizeof ca, NULL, 0, NULL, 0));
    zassert_ok(tls_credential_get(77, TLS_CREDENTIAL_CA_CERTIFICATE, back, &len));
    zassert_equal(len, sizeof ca);
    zassert_mem_equal(back, ca, sizeof ca);
    /* Adding again replaces it instead of failing with -EEXIST. */
    zassert_ok(nimbus_zephyr_credentials_add(77, ca, sizeof ca, NULL, 0, NULL, 0));
    zassert_equal(nimbus_zephyr_credentials_add(77, ca, sizeof ca, ca, sizeof ca, NULL, 0),
                  NIMBUS_ERR_INVALID_ARGUMENT);
}

ZTEST(nimbus_port, test_hmac_rfc4231)
{
    static const uint8_t expect[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    static const char msg[] = "what do ya want for nothing?";
    uint8_t out[32];

    zassert_ok(nimbus_zephyr_hmac_sha256(NULL, (const uint8_t *)"Jefe", 4,
                                         (const uint8_t *)msg, sizeof msg - 1, out));
    zassert_mem_equal(out, expect, sizeof expect);
}

ZTEST(nimbus_port, test_clock_and_random)
{
    uint64_t a = nimbus_zephyr_now_ms();
    k_msleep(20);
    zassert_true(nimbus_zephyr_now_ms() >= a + 20);
    /* 8 draws all equal would mean no randomness at all. */
    uint32_t first = nimbus_zephyr_random_u32(NULL);
    bool differ = false;
    for (int i = 0; i < 8; i++) {
        differ |= nimbus_zephyr_random_u32(NULL) != first;
    }
    zassert_true(differ);
    zassert_equal(nimbus_zephyr_unix_time_s(NULL), -1);
    nimbus_zephyr_set_unix_time(1700000000u);
    zassert_within(nimbus_zephyr_unix_time_s(NULL), 1700000000u, 1);
}

/* ------------------------------------------------------------ sensors, network */

ZTEST(nimbus_port, test_sensor_read)
{
    const nimbus_zephyr_sensor_t s = {
        .dev = DEVICE_GET(nimbus_test_sensor),
        .chan = SENSOR_CHAN_HUMIDITY,
        .id = 3,
        .decimals = 1,
        .type = "humidity",
        .unit = "%RH",
    };
    int64_t m = 0;
    uint8_t d = 0;

    sensor_data.value = (struct sensor_value){41, 570000};
    sensor_data.fetch_ret = 0;
    zassert_ok(nimbus_zephyr_sensor_read(&s, &m, &d));
    zassert_equal(m, 415);
    zassert_equal(d, 1);
    sensor_data.fetch_ret = -EIO;
    zassert_equal(nimbus_zephyr_sensor_read(&s, &m, &d), NIMBUS_ERR_TRANSPORT_FAILED);
    zassert_equal(nimbus_zephyr_dt_sensor_count, 0);
}

ZTEST(nimbus_port, test_net_info)
{
    nimbus_zephyr_net_info_t info;

    /* The loopback interface: every address is unset or of its version,
     * the IPv4 one is 127.0.0.1, and the MAC must be its link address. */
    memset(&info, 'x', sizeof info);
    zassert_ok(nimbus_zephyr_net_info(&info));
    zassert_true(info.ipv4.version == 0 || info.ipv4.version == 4);
    if (info.ipv4.version == 4) {
        zassert_mem_equal(info.ipv4.bytes, "\x7f\x00\x00\x01", 4);
    }
    zassert_true(info.gateway.version == 0 || info.gateway.version == 4);
    zassert_true(info.dns_primary.version == 0 || info.dns_primary.version == 4 ||
                 info.dns_primary.version == 6);
    struct net_linkaddr *ll = net_if_get_link_addr(net_if_get_default());
    zassert_equal(info.has_mac, ll != NULL && ll->addr != NULL && ll->len == 6);
    if (info.has_mac) {
        zassert_mem_equal(info.mac, ll->addr, 6);
    }
    zassert_equal(nimbus_zephyr_net_info(NULL), NIMBUS_ERR_NULL_ARGUMENT);
}

/* 127.0.0.1 on the loopback interface, which is the only one. */
static void *suite_setup(void)
{
    struct in_addr lo;

    zsock_inet_pton(AF_INET, "127.0.0.1", &lo);
    zassert_not_null(net_if_ipv4_addr_add(net_if_get_default(), &lo, NET_ADDR_MANUAL, 0));
    return NULL;
}

ZTEST_SUITE(nimbus_port, NULL, suite_setup, NULL, NULL, NULL);
