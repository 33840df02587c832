/*
 * The C API through cmocka, built with -fsanitize=address,undefined:
 * every entry point with NULL, zero-length and oversized arguments,
 * wrong-state calls, storage too small, and one client driven end to end
 * over a fake transport (request -> handler -> answer; desired -> report
 * from inside the callback), and the provisioning record read in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nimbus.h"

/* ---- a fake transport: what the broker sends, what the client wrote ---- */

typedef struct {
    uint8_t in[4096];
    size_t in_len, in_pos;
    uint8_t out[16384];
    size_t out_len;
    int open_result;
} fake_link_t;

static int32_t fake_open(void *ctx) { return ((fake_link_t *)ctx)->open_result; }

static int32_t fake_send(void *ctx, const uint8_t *buf, size_t len) {
    fake_link_t *l = ctx;
    if (len > sizeof l->out - l->out_len) len = sizeof l->out - l->out_len;
    memcpy(l->out + l->out_len, buf, len);
    l->out_len += len;
    return (int32_t)len;
}

static int32_t fake_recv(void *ctx, uint8_t *buf, size_t len) {
    fake_link_t *l = ctx;
    size_t n = l->in_len - l->in_pos;
    if (n > len) n = len;
    memcpy(buf, l->in + l->in_pos, n);
    l->in_pos += n;
    return (int32_t)n;
}

static void fake_close(void *ctx) { (void)ctx; }

static void feed(fake_link_t *l, const uint8_t *bytes, size_t len) {
    assert_true(l->in_len + len <= sizeof l->in);
    memcpy(l->in + l->in_len, bytes, len);
    l->in_len += len;
}

/* A PUBLISH (QoS 0) from the broker. */
static void feed_publish(fake_link_t *l, const char *topic, const char *payload) {
    size_t tl = strlen(topic), pl = strlen(payload), rem = 2 + tl + pl;
    uint8_t head[5] = {0x30, 0, 0, (uint8_t)(tl >> 8), (uint8_t)tl};
    size_t hl;
    if (rem < 128) {
        head[1] = (uint8_t)rem;
        memmove(head + 2, head + 3, 2);
        hl = 4;
    } else {
        head[1] = (uint8_t)(0x80 | (rem & 0x7f));
        head[2] = (uint8_t)(rem >> 7);
        hl = 5;
    }
    feed(l, head, hl);
    feed(l, (const uint8_t *)topic, tl);
    feed(l, (const uint8_t *)payload, pl);
}

static int sent_contains(const fake_link_t *l, const char *text) {
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= l->out_len; i++)
        if (memcmp(l->out + i, text, n) == 0) return 1;
    return 0;
}

/* ---- fixtures ---- */

static _Alignas(8) nimbus_client_t client;
static uint8_t memory[16384];
static fake_link_t link;

static nimbus_transport_t transport(void) {
    nimbus_transport_t t = {&link, fake_open, fake_send, fake_recv, fake_close};
    return t;
}

static nimbus_config_t aws_config(void) {
    nimbus_config_t c;
    memset(&c, 0, sizeof c);
    c.cloud = NIMBUS_CLOUD_AWS;
    c.device_id = "dev1";
    c.telemetry_qos = 1;
    c.memory.buffer = memory;
    c.memory.len = sizeof memory;
    return c;
}

static int setup(void **state) {
    (void)state;
    memset(&client, 0, sizeof client);
    memset(&link, 0, sizeof link);
    link.open_result = 1;
    return 0;
}

/* ---- argument checks ---- */

static void init_checks_its_arguments(void **state) {
    (void)state;
    nimbus_config_t c = aws_config();
    nimbus_transport_t t = transport();
    assert_int_equal(nimbus_init(NULL, &c, &t), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_init(&client, NULL, &t), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_init(&client, &c, NULL), NIMBUS_ERR_NULL_ARGUMENT);

    t.send = NULL;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_NULL_ARGUMENT);
    t = transport();

    c.device_id = NULL;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_NULL_ARGUMENT);
    c.device_id = "bad id";
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_INVALID_NAME);
    c = aws_config();
    c.cloud = 7;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_INVALID_ARGUMENT);
    c = aws_config();
    c.telemetry_qos = 2;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_QOS_NOT_SUPPORTED);
    c = aws_config();
    c.cloud = NIMBUS_CLOUD_AZURE; /* without a hub */
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_INVALID_ARGUMENT);
    c = aws_config();
    c.backoff_min_ms = 5000;
    c.backoff_max_ms = 10;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_INVALID_ARGUMENT);
}

static void a_string_without_nul_within_its_bound_is_refused(void **state) {
    (void)state;
    static char long_id[400];
    memset(long_id, 'a', sizeof long_id - 1);
    nimbus_config_t c = aws_config();
    nimbus_transport_t t = transport();
    c.device_id = long_id;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_INVALID_STRING);
    static const char not_utf8[] = {'d', (char)0xff, 0};
    c.device_id = not_utf8;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_INVALID_STRING);
}

static void storage_too_small_is_refused(void **state) {
    (void)state;
    nimbus_config_t c = aws_config();
    nimbus_transport_t t = transport();
    size_t need = nimbus_buffer_len(&c);
    assert_true(need > 0 && need <= sizeof memory);
    c.memory.len = need - 1;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_STORAGE_TOO_SMALL);
    c.memory.len = need;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_OK);
    c.memory.buffer = NULL;
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_buffer_len(NULL), 0);
    /* Azure needs room for its credentials too. */
    nimbus_config_t az = aws_config();
    az.cloud = NIMBUS_CLOUD_AZURE;
    assert_int_equal(nimbus_buffer_len(&az), need + NIMBUS_AZURE_CREDENTIALS_LEN);
}

static void calls_before_init_are_wrong_state_and_null_is_null(void **state) {
    (void)state;
    uint64_t wake;
    nimbus_state_t st;
    uint32_t id;
    assert_int_equal(nimbus_poll(&client, 0, &wake), NIMBUS_ERR_INVALID_STATE);
    assert_int_equal(nimbus_connect(&client, 0), NIMBUS_ERR_INVALID_STATE);
    assert_int_equal(nimbus_report(&client, "{}", 2, &id), NIMBUS_ERR_INVALID_STATE);
    assert_int_equal(nimbus_poll(NULL, 0, &wake), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_state(NULL, &st), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_respond(NULL, 1, 200, NULL, 0), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_publish_event(NULL, NULL, 0, 0, NULL), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_deinit(NULL), NIMBUS_ERR_NULL_ARGUMENT);
}

static int32_t read_temp(void *user, uint16_t id, int64_t *mantissa, uint8_t *decimals) {
    (void)user;
    (void)id;
    *mantissa = 215;
    *decimals = 1;
    return 0;
}

static void calls_on_an_initialised_client_check_their_arguments(void **state) {
    (void)state;
    nimbus_config_t c = aws_config();
    nimbus_transport_t t = transport();
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_OK);
    nimbus_state_t st;
    assert_int_equal(nimbus_state(&client, NULL), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_state(&client, &st), NIMBUS_OK);
    assert_int_equal(st, NIMBUS_STATE_STOPPED);

    assert_int_equal(nimbus_register_handler(&client, NULL, NULL, NULL), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_register_handler(&client, "a//b", (nimbus_request_fn)1, NULL),
                     NIMBUS_ERR_INVALID_ARGUMENT);
    assert_int_equal(nimbus_register_sensor(&client, 1, "temperature", NULL, read_temp, NULL),
                     NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_register_sensor(&client, 1, "", "Cel", read_temp, NULL),
                     NIMBUS_ERR_INVALID_ARGUMENT);
    assert_int_equal(nimbus_register_sensor(&client, 1, "temperature", "Cel", read_temp, NULL), NIMBUS_OK);
    assert_int_equal(nimbus_register_sensor(&client, 1, "temperature", "Cel", read_temp, NULL),
                     NIMBUS_ERR_INVALID_ARGUMENT);

    /* Payload pointers: NULL is fine only with a zero length. */
    assert_int_equal(nimbus_publish_event(&client, NULL, 5, 1, NULL), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_publish_event(&client, (const uint8_t *)"x", 1, 2, NULL),
                     NIMBUS_ERR_QOS_NOT_SUPPORTED);
    assert_int_equal(nimbus_publish_event(&client, (const uint8_t *)"x", 1, 9, NULL),
                     NIMBUS_ERR_INVALID_ARGUMENT);
    assert_int_equal(nimbus_publish_event(&client, (const uint8_t *)"x", 1, 0, NULL),
                     NIMBUS_ERR_NOT_CONNECTED);
    uint16_t pid = 0;
    assert_int_equal(nimbus_publish_event(&client, (const uint8_t *)"x", 1, 1, &pid), NIMBUS_OK);
    assert_int_not_equal(pid, 0); /* QoS 1 is kept for the connection */

    /* Oversized: over AWS's 128 KB limit. */
    static uint8_t huge[128 * 1024 + 1];
    assert_int_equal(nimbus_publish_event(&client, huge, sizeof huge, 1, NULL), NIMBUS_ERR_PAYLOAD_TOO_LARGE);

    uint32_t id;
    assert_int_equal(nimbus_report(&client, "{not json", 9, &id), NIMBUS_ERR_INVALID_JSON);
    assert_int_equal(nimbus_report(&client, NULL, 3, &id), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_respond(&client, 12345, 200, NULL, 0), NIMBUS_ERR_UNKNOWN_REQUEST);
    assert_int_equal(nimbus_respond(&client, 0, 200, NULL, 0), NIMBUS_ERR_UNKNOWN_REQUEST);
    assert_int_equal(nimbus_publish_sensor(&client, 99, 1, NULL), NIMBUS_ERR_NOT_FOUND);
    /* The former name still works, for one release (and says it is deprecated). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    assert_int_equal(nimbus_publish_telemetry(&client, 99, 1, NULL), NIMBUS_ERR_NOT_FOUND);
#pragma GCC diagnostic pop

    nimbus_device_info_t info;
    memset(&info, 0, sizeof info);
    /* Addresses are binary: a version other than 0, 4 or 6 is refused, and
     * so is an IPv6 address where an IPv4 one belongs. */
    info.ipv4 = (nimbus_ip_t){.version = 5};
    assert_int_equal(nimbus_set_device_info(&client, &info), NIMBUS_ERR_INVALID_ARGUMENT);
    info.ipv4 = (nimbus_ip_t){.version = 6};
    assert_int_equal(nimbus_set_device_info(&client, &info), NIMBUS_ERR_INVALID_ARGUMENT);
    info.ipv4 = (nimbus_ip_t){.version = 4, .bytes = {192, 0, 2, 10}};
    info.gateway = (nimbus_ip_t){.version = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    assert_int_equal(nimbus_set_device_info(&client, &info), NIMBUS_OK);
    assert_int_equal(nimbus_set_device_info(&client, NULL), NIMBUS_ERR_NULL_ARGUMENT);

    assert_int_equal(nimbus_deinit(&client), NIMBUS_OK);
    assert_int_equal(nimbus_connect(&client, 0), NIMBUS_ERR_INVALID_STATE);
}

static void strerror_covers_every_code(void **state) {
    (void)state;
    assert_string_equal(nimbus_strerror(NIMBUS_OK), "success");
    assert_string_equal(nimbus_strerror(NIMBUS_ERR_BUFFER_TOO_SMALL), "output buffer too small");
    for (int32_t e = -1; e >= -120; e--) assert_non_null(nimbus_strerror(e));
    assert_string_equal(nimbus_strerror(-9999), "unknown error");
    assert_string_equal(nimbus_strerror(5), "unknown error");
    assert_string_equal(nimbus_strerror(INT32_MIN), "unknown error");
    assert_non_null(strchr(nimbus_version(), '.'));
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", NIMBUS_VERSION_MAJOR, NIMBUS_VERSION_MINOR,
             NIMBUS_VERSION_PATCH);
    assert_string_equal(nimbus_version(), version);
}

/* The compile-time buffer size is exactly what nimbus_buffer_len() asks. */
static void buffer_len_macro_matches_the_function(void **state) {
    (void)state;
    static uint8_t defaults[NIMBUS_BUFFER_LEN(0, 0, 0, 0, 0, false)];
    nimbus_config_t c;
    memset(&c, 0, sizeof c);
    c.cloud = NIMBUS_CLOUD_AWS;
    c.device_id = "d";
    assert_int_equal(nimbus_buffer_len(&c), sizeof defaults);
    c.cloud = NIMBUS_CLOUD_AZURE;
    assert_int_equal(nimbus_buffer_len(&c), NIMBUS_BUFFER_LEN(0, 0, 0, 0, 0, true));
    c.memory.rx_len = 700;
    c.memory.tx_len = 300;
    c.memory.inflight_len = 5000;
    c.memory.work_len = 333;
    c.memory.reply_len = 128;
    assert_int_equal(nimbus_buffer_len(&c), NIMBUS_BUFFER_LEN(700, 300, 5000, 333, 128, true));
    c.cloud = NIMBUS_CLOUD_AWS;
    assert_int_equal(nimbus_buffer_len(&c), NIMBUS_BUFFER_LEN(700, 300, 5000, 333, 128, false));
}

/* ---- end to end over the fake transport ---- */

typedef struct {
    int requests, desired, reentrant_poll, reentrant_register, report_ok;
    int connections;
} seen_t;

static seen_t seen;

static int32_t echo(void *user, nimbus_client_t *c, const nimbus_request_t *req, uint8_t *reply,
                    size_t cap, size_t *len) {
    (void)user;
    seen.requests++;
    uint64_t wake;
    /* Re-entering poll or registering from a callback is refused... */
    seen.reentrant_poll = nimbus_poll(c, 0, &wake);
    seen.reentrant_register = nimbus_register_handler(c, "x", echo, NULL);
    assert_true(req->payload_len <= cap);
    memcpy(reply, req->payload, req->payload_len);
    *len = req->payload_len;
    return 200;
}

static void on_desired(void *user, nimbus_client_t *c, const char *json, size_t len, uint64_t version) {
    (void)user;
    (void)json;
    (void)len;
    (void)version;
    seen.desired++;
    /* ...but answering, reporting and publishing from one is allowed. */
    uint32_t id;
    seen.report_ok = nimbus_report(c, "{\"applied\":true}", 16, &id);
}

static void on_connection(void *user, nimbus_client_t *c, bool up, int32_t reason) {
    (void)user;
    (void)c;
    (void)reason;
    if (up) seen.connections++;
}

static void a_request_is_answered_and_a_callback_can_report(void **state) {
    (void)state;
    memset(&seen, 0, sizeof seen);
    nimbus_config_t c = aws_config();
    c.callbacks.on_desired = on_desired;
    c.callbacks.on_connection = on_connection;
    nimbus_transport_t t = transport();
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_OK);
    assert_int_equal(nimbus_register_handler(&client, "echo", echo, NULL), NIMBUS_OK);
    assert_int_equal(nimbus_connect(&client, 1000), NIMBUS_OK);
    uint64_t wake = 0;
    assert_int_equal(nimbus_poll(&client, 1000, &wake), NIMBUS_OK);
    assert_true(link.out_len > 0 && link.out[0] == 0x10); /* CONNECT */
    assert_true(sent_contains(&link, "dev1"));

    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    feed(&link, connack, sizeof connack);
    assert_int_equal(nimbus_poll(&client, 1001, &wake), NIMBUS_OK);
    assert_int_equal(seen.connections, 1);
    assert_true(sent_contains(&link, "dev1/request/#"));
    assert_true(sent_contains(&link, "$aws/things/dev1/shadow/get"));
    nimbus_state_t st;
    assert_int_equal(nimbus_state(&client, &st), NIMBUS_OK);
    assert_int_equal(st, NIMBUS_STATE_CONNECTED);

    feed_publish(&link, "dev1/request/echo", "{\"ping\":1}");
    assert_int_equal(nimbus_poll(&client, 1002, &wake), NIMBUS_OK);
    assert_int_equal(seen.requests, 1);
    assert_int_equal(seen.reentrant_poll, NIMBUS_ERR_INVALID_STATE);
    assert_int_equal(seen.reentrant_register, NIMBUS_ERR_INVALID_STATE);
    assert_true(sent_contains(&link, "dev1/response/echo"));

    feed_publish(&link, "$aws/things/dev1/shadow/update/delta", "{\"state\":{\"led\":1},\"version\":3}");
    assert_int_equal(nimbus_poll(&client, 1003, &wake), NIMBUS_OK);
    assert_int_equal(seen.desired, 1);
    assert_int_equal(seen.report_ok, NIMBUS_OK);
    assert_int_equal(nimbus_poll(&client, 1004, &wake), NIMBUS_OK);
    assert_true(sent_contains(&link, "{\"state\":{\"reported\":{\"applied\":true}}"));

    /* Telemetry on demand reads the sensor through its callback. */
    assert_int_equal(nimbus_register_sensor(&client, 3, "temperature", "Cel", read_temp, NULL), NIMBUS_OK);
    uint16_t pid = 0;
    assert_int_equal(nimbus_publish_sensor(&client, 3, 1, &pid), NIMBUS_OK);
    assert_int_equal(nimbus_poll(&client, 1005, &wake), NIMBUS_OK);
    assert_true(sent_contains(&link, "dev1/response/sensor/3/reading"));
    assert_true(sent_contains(&link, "\"value\":21.5,\"seq\":1"));
}

/* ---- the provisioning record ---- */

/* Made by `nimbus provision write --cloud azure --host myhub.azure-devices.net
 * --port 8883 --device thermo-7 --module mod-1 --sas-key c2VjcmV0`, then the
 * rest of an erased flash page. */
static const uint8_t flash_record[96] = {
    0xa7, 0x00, 0x01, 0x01, 0x01, 0x02, 0x78, 0x18, 0x6d, 0x79, 0x68, 0x75,
    0x62, 0x2e, 0x61, 0x7a, 0x75, 0x72, 0x65, 0x2d, 0x64, 0x65, 0x76, 0x69,
    0x63, 0x65, 0x73, 0x2e, 0x6e, 0x65, 0x74, 0x00, 0x03, 0x19, 0x22, 0xb3,
    0x04, 0x69, 0x74, 0x68, 0x65, 0x72, 0x6d, 0x6f, 0x2d, 0x37, 0x00, 0x05,
    0x66, 0x6d, 0x6f, 0x64, 0x2d, 0x31, 0x00, 0x07, 0x69, 0x63, 0x32, 0x56,
    0x6a, 0x63, 0x6d, 0x56, 0x30, 0x00, 0xac, 0x93, 0x3e, 0x3e,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff,
};
#define RECORD_LEN 70

static int points_into(const char *p, const uint8_t *data, size_t len) {
    return p != NULL && (const uint8_t *)p >= data && (const uint8_t *)p < data + len;
}

static void a_record_is_read_in_place_and_configures_a_client(void **state) {
    (void)state;
    nimbus_record_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(nimbus_record_parse(flash_record, sizeof flash_record, &r), NIMBUS_OK);
    assert_int_equal(r.cloud, NIMBUS_CLOUD_AZURE);
    assert_int_equal(r.port, 8883);
    assert_string_equal(r.host, "myhub.azure-devices.net");
    assert_string_equal(r.device_id, "thermo-7");
    assert_string_equal(r.module_id, "mod-1");
    assert_string_equal(r.sas_key, "c2VjcmV0");
    assert_null(r.shadow_name);
    assert_null(r.ca_pem);
    assert_null(r.cert_pem);
    assert_null(r.key_pem);
    /* No copy: the strings are the record's own bytes. */
    assert_true(points_into(r.host, flash_record, RECORD_LEN));
    assert_true(points_into(r.device_id, flash_record, RECORD_LEN));
    assert_true(points_into(r.sas_key, flash_record, RECORD_LEN));

    /* Exactly the record is enough; the configuration takes it as it is. */
    assert_int_equal(nimbus_record_parse(flash_record, RECORD_LEN, &r), NIMBUS_OK);
    nimbus_config_t c = aws_config();
    c.cloud = r.cloud;
    c.device_id = r.device_id;
    c.module_id = r.module_id;
    c.hub_host = r.host;
    c.sas_key = r.sas_key;
    nimbus_transport_t t = transport();
    assert_int_equal(nimbus_init(&client, &c, &t), NIMBUS_OK);
    assert_int_equal(nimbus_deinit(&client), NIMBUS_OK);
}

static void a_bad_record_is_refused_and_out_untouched(void **state) {
    (void)state;
    nimbus_record_t r, before;
    memset(&r, 0x5a, sizeof r);
    memcpy(&before, &r, sizeof r);
    uint8_t bad[sizeof flash_record];

    assert_int_equal(nimbus_record_parse(NULL, RECORD_LEN, &r), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_record_parse(flash_record, RECORD_LEN, NULL), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_record_parse(flash_record, 0, &r), NIMBUS_ERR_CORRUPT_RECORD);
    /* Every truncation and every flipped byte. */
    for (size_t len = 0; len < RECORD_LEN; len++)
        assert_int_not_equal(nimbus_record_parse(flash_record, len, &r), NIMBUS_OK);
    for (size_t i = 0; i < RECORD_LEN; i++) {
        memcpy(bad, flash_record, sizeof bad);
        bad[i] ^= 0x01;
        assert_int_not_equal(nimbus_record_parse(bad, sizeof bad, &r), NIMBUS_OK);
    }
    /* A flipped letter of the host: the CRC says so. */
    memcpy(bad, flash_record, sizeof bad);
    bad[10] ^= 0x20;
    assert_int_equal(nimbus_record_parse(bad, sizeof bad, &r), NIMBUS_ERR_CORRUPT_RECORD);
    /* Erased flash: no record at all. */
    memset(bad, 0xff, sizeof bad);
    assert_int_equal(nimbus_record_parse(bad, sizeof bad, &r), NIMBUS_ERR_CORRUPT_RECORD);
    assert_memory_equal(&r, &before, sizeof r);
    assert_string_equal(nimbus_strerror(NIMBUS_ERR_CORRUPT_RECORD),
                        "provisioning record truncated or corrupt");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buffer_len_macro_matches_the_function),
        cmocka_unit_test_setup(init_checks_its_arguments, setup),
        cmocka_unit_test_setup(a_string_without_nul_within_its_bound_is_refused, setup),
        cmocka_unit_test_setup(storage_too_small_is_refused, setup),
        cmocka_unit_test_setup(calls_before_init_are_wrong_state_and_null_is_null, setup),
        cmocka_unit_test_setup(calls_on_an_initialised_client_check_their_arguments, setup),
        cmocka_unit_test_setup(strerror_covers_every_code, setup),
        cmocka_unit_test_setup(a_request_is_answered_and_a_callback_can_report, setup),
        cmocka_unit_test_setup(a_record_is_read_in_place_and_configures_a_client, setup),
        cmocka_unit_test_setup(a_bad_record_is_refused_and_out_untouched, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
