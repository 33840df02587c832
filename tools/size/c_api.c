/* The whole C API as a firmware uses it, for the size report: a client in
 * a static nimbus_client_t and buffer, a transport and platform of C
 * functions, a handler and a sensor, and every call once. The volatile
 * input keeps the compiler from folding anything away. */
#include <stddef.h>
#include <stdint.h>

#include "nimbus.h"

extern volatile uint32_t nimbus_size_input;
extern volatile uint32_t nimbus_size_sink;

static nimbus_client_t client;
static uint8_t buffer[NIMBUS_DEFAULT_RX_LEN + NIMBUS_DEFAULT_TX_LEN + NIMBUS_DEFAULT_INFLIGHT_LEN +
                      NIMBUS_FILTERS_LEN + NIMBUS_DEFAULT_WORK_LEN + NIMBUS_DEFAULT_REPLY_LEN +
                      NIMBUS_AZURE_CREDENTIALS_LEN];

static int32_t link_open(void *ctx) { return (int32_t)(uintptr_t)ctx + (int32_t)nimbus_size_input; }
static int32_t link_send(void *ctx, const uint8_t *b, size_t n) { (void)ctx; nimbus_size_sink += b[0]; return (int32_t)n; }
static int32_t link_recv(void *ctx, uint8_t *b, size_t n) { (void)ctx; b[0] = (uint8_t)nimbus_size_input; return (int32_t)(n & nimbus_size_input); }
static void link_close(void *ctx) { (void)ctx; nimbus_size_sink++; }
static uint32_t random_u32(void *ctx) { (void)ctx; return nimbus_size_input; }
static int32_t hmac(void *ctx, const uint8_t *k, size_t kl, const uint8_t *m, size_t ml, uint8_t *out) {
    (void)ctx; out[0] = (uint8_t)(k[0] + kl + m[0] + ml); return 0;
}
static int64_t unix_time(void *ctx) { (void)ctx; return (int64_t)nimbus_size_input; }
static int32_t store_read(void *ctx, uint16_t id, uint8_t *b, size_t n) { (void)ctx; b[0] = (uint8_t)id; return (int32_t)(n & nimbus_size_input); }
static int32_t store_write(void *ctx, uint16_t id, const uint8_t *d, size_t n) { (void)ctx; nimbus_size_sink += id + (n ? d[0] : 0u); return 0; }

static int32_t handler(void *user, nimbus_client_t *c, const nimbus_request_t *req, uint8_t *reply,
                       size_t cap, size_t *len) {
    (void)user; (void)cap;
    reply[0] = (uint8_t)req->path_len;
    *len = 1;
    return nimbus_respond(c, req->handle, 200, reply, 1) == NIMBUS_OK ? 0 : 200;
}
static int32_t read_sensor(void *user, uint16_t id, int64_t *mantissa, uint8_t *decimals) {
    (void)user; *mantissa = id + (int64_t)nimbus_size_input; *decimals = 1; return 0;
}
static void on_desired(void *user, nimbus_client_t *c, const char *json, size_t len, uint64_t version) {
    (void)user; (void)version; uint32_t id; (void)nimbus_report(c, json, len, &id);
}

void nimbus_size_c_api(void);
void nimbus_size_c_api(void) {
    nimbus_transport_t transport = {0, link_open, link_send, link_recv, link_close};
    nimbus_config_t config = {0};
    config.cloud = nimbus_size_input & 1;
    config.device_id = "device-1";
    config.hub_host = "hub.example.net";
    config.sas_key = (nimbus_size_input & 2) ? "c2VjcmV0" : 0;
    config.memory.buffer = buffer;
    config.memory.len = sizeof buffer;
    config.encoding = nimbus_size_input & 1;
    config.callbacks.on_desired = on_desired;
    config.platform.random_u32 = random_u32;
    config.platform.hmac_sha256 = hmac;
    config.platform.unix_time_s = unix_time;
    config.platform.store_read = store_read;
    config.platform.store_write = store_write;
    nimbus_device_info_t info = {0};
    info.name = "demo";
    info.ipv4 = (nimbus_ip_t){.version = 4, .bytes = {192, 0, 2, 10}};
    uint64_t wake = 0;
    uint32_t id = 0;
    uint16_t pid = 0;
    nimbus_state_t state;
    int32_t r = nimbus_init(&client, &config, &transport);
    r += nimbus_register_handler(&client, "sensor/+/set", handler, 0);
    r += nimbus_register_sensor(&client, 0, "temperature", "Cel", read_sensor, 0);
    r += nimbus_set_device_info(&client, &info);
    r += nimbus_connect(&client, nimbus_size_input);
    r += nimbus_poll(&client, nimbus_size_input, &wake);
    r += nimbus_publish_event(&client, buffer, nimbus_size_input, 1, &pid);
    r += nimbus_publish_sensor(&client, 0, 1, &pid);
    r += nimbus_publish_reading(&client, 0, 215, 1, 0, &pid);
    r += nimbus_report(&client, "{}", 2, &id);
    r += nimbus_get_twin(&client, &id);
    r += nimbus_set_telemetry_period(&client, nimbus_size_input);
    r += nimbus_network_up(&client, nimbus_size_input);
    r += nimbus_respond(&client, nimbus_size_input, 200, buffer, 0);
    r += nimbus_state(&client, &state);
    nimbus_stats_t stats;
    r += nimbus_stats(&client, &stats);
    r += nimbus_disconnect(&client, nimbus_size_input);
    r += nimbus_deinit(&client);
    nimbus_record_t rec = {0};
#ifndef NIMBUS_SIZE_WITHOUT_RECORD /* a core built without the record feature */
    r += nimbus_record_parse(buffer, nimbus_size_input, &rec);
#endif
    nimbus_size_sink += (uint32_t)r + (uint32_t)wake + id + pid + (uint32_t)state +
                        (uint32_t)nimbus_buffer_len(&config) + (uint32_t)(uintptr_t)nimbus_strerror(r) +
                        (uint32_t)(uintptr_t)nimbus_version() + rec.cloud + rec.port +
                        (uint32_t)(uintptr_t)rec.host + (uint32_t)(uintptr_t)rec.key_pem + stats.queued;
}
