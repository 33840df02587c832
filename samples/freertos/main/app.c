/*
 * app.c - the Nimbus FreeRTOS sample's application (see app.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define APP_MODEL "nimbus-freertos-sample"
#define APP_FIRMWARE "0.1.0"

/* Run-time settings: ESP-IDF's menuconfig (Nimbus menu) or these. */
#if defined(CONFIG_NIMBUS_KEEPALIVE_S)
#define APP_KEEPALIVE_S CONFIG_NIMBUS_KEEPALIVE_S
#else
#define APP_KEEPALIVE_S 60
#endif
#if defined(CONFIG_NIMBUS_BUFFER_SIZE)
#define APP_BUFFER_SIZE CONFIG_NIMBUS_BUFFER_SIZE
#else
#define APP_BUFFER_SIZE 6144
#endif

static nimbus_freertos_t client;
static uint8_t core_buffer[APP_BUFFER_SIZE]; /* rx + outbox + scratch of the core */
static app_read_centi_celsius_fn read_temperature;

/* The settings the cloud may change. */
static struct {
    bool led;
    uint32_t telemetry_period_s;
} state;

/* ------------------------------------------------------------ sensor */

static int32_t read_sensor(void *user, uint16_t id, int64_t *mantissa, uint8_t *decimals)
{
    int32_t centi = 0;
    (void)user;
    if (id != 0 || read_temperature == NULL || read_temperature(&centi) != 0) {
        return -102; /* sensor failed */
    }
    *mantissa = centi;
    *decimals = 2;
    return NIMBUS_OK;
}

/* ----------------------------------------------------------- request */

static int32_t on_general_information(void *user, nimbus_client_t *c,
                                      const nimbus_request_t *req, nimbus_reply_t *reply)
{
    (void)user;
    (void)c;
    (void)req;
    int n = snprintf((char *)reply->buf, reply->cap,
                     "{\"model\":\"%s\",\"firmware\":\"%s\",\"manufacturer\":\"Nimbus\"}",
                     APP_MODEL, APP_FIRMWARE);
    if (n < 0 || (size_t)n >= reply->cap) {
        return 500;
    }
    reply->len = (size_t)n;
    return 200;
}

/* ----------------------------------------------------------- desired */

/* Finds "name": in a flat JSON object and returns what follows, or NULL.
 * The sample's settings are top-level scalars, so this is enough here. */
static const char *json_value(const char *json, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i + nlen + 3 <= len; i++) {
        if (json[i] == '"' && memcmp(json + i + 1, name, nlen) == 0 &&
            json[i + 1 + nlen] == '"') {
            size_t j = i + nlen + 2;
            while (j < len && (json[j] == ' ' || json[j] == ':')) {
                j++;
            }
            return j < len ? json + j : NULL;
        }
    }
    return NULL;
}

static nimbus_err_t report_state(nimbus_client_t *c)
{
    char json[96];
    uint32_t id = 0;
    int n = snprintf(json, sizeof json, "{\"led\":%s,\"telemetry_period_s\":%u}",
                     state.led ? "true" : "false", (unsigned)state.telemetry_period_s);
    if (n < 0 || (size_t)n >= sizeof json) {
        return -3;
    }
    return nimbus_report(c, json, (size_t)n, &id);
}

static void on_desired(void *user, nimbus_client_t *c, const char *json, size_t len,
                       uint64_t version)
{
    (void)user;
    const char *led = json_value(json, len, "led");
    const char *period = json_value(json, len, "telemetry_period_s");
    if (led != NULL) {
        state.led = strncmp(led, "true", 4) == 0;
    }
    if (period != NULL) {
        long p = strtol(period, NULL, 10);
        if (p >= 0 && p <= 86400) {
            state.telemetry_period_s = (uint32_t)p;
            (void)nimbus_set_telemetry_period(c, state.telemetry_period_s * 1000u);
        }
    }
    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "desired v%llu: led=%d period=%us",
                        (unsigned long long)version, state.led,
                        (unsigned)state.telemetry_period_s);
    nimbus_err_t e = report_state(c);
    if (e != NIMBUS_OK) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_WARN, "report: %s", nimbus_strerror(e));
    }
}

/* -------------------------------------------------------- connection */

static void on_connection(void *user, nimbus_client_t *c, bool up, nimbus_err_t reason)
{
    static bool booted;
    (void)user;
    if (up) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "connected");
        if (!booted) {
            static const char boot[] = "{\"event\":\"boot\",\"firmware\":\"" APP_FIRMWARE "\"}";
            booted = nimbus_publish_event(c, (const uint8_t *)boot, sizeof boot - 1u, 1) ==
                     NIMBUS_OK;
        }
    } else {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "disconnected: %s",
                            nimbus_strerror(reason));
    }
}

static void on_twin_result(void *user, nimbus_client_t *c, uint32_t request_id,
                           int32_t status, uint64_t version, const char *body, size_t body_len)
{
    (void)user;
    (void)c;
    (void)body;
    (void)body_len;
    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "twin request %u: status %d, version %llu",
                        (unsigned)request_id, (int)status, (unsigned long long)version);
}

/* -------------------------------------------------------------- start */

nimbus_err_t app_start(const app_settings_t *s)
{
    nimbus_config_t cfg;

    memset(&cfg, 0, sizeof cfg);
    read_temperature = s->read_temperature;
    state.led = false;
    state.telemetry_period_s = s->telemetry_period_s;
    cfg.cloud = s->cloud;
    cfg.device_id = s->device_id;
    cfg.hub_host = s->hub_host;
    cfg.keepalive_s = APP_KEEPALIVE_S;
    cfg.buffer = core_buffer;
    cfg.buffer_len = sizeof core_buffer;
    cfg.telemetry_period_ms = s->telemetry_period_s * 1000u;
    cfg.callbacks.on_connection = on_connection;
    cfg.callbacks.on_desired = on_desired;
    cfg.callbacks.on_twin_result = on_twin_result;

    nimbus_err_t e = nimbus_freertos_init(&client, &cfg, &s->net);
    if (e != NIMBUS_OK) {
        return e;
    }
    nimbus_client_t *c = nimbus_freertos_client(&client);
    e = nimbus_register_handler(c, "general_information", on_general_information, NULL);
    if (e == NIMBUS_OK) {
        e = nimbus_register_sensor(c, 0, "temperature", "Cel", read_sensor, NULL);
    }
    if (e == NIMBUS_OK) {
        e = nimbus_freertos_start(&client, NIMBUS_FREERTOS_TASK_PRIORITY,
                                  NIMBUS_FREERTOS_TASK_STACK_DEPTH);
    }
    if (e != NIMBUS_OK) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_ERROR, "start: %s", nimbus_strerror(e));
        nimbus_freertos_deinit(&client);
    }
    return e;
}

void app_stop(void)
{
    (void)nimbus_freertos_stop(&client, 5000);
    nimbus_freertos_deinit(&client);
}

nimbus_freertos_t *app_client(void)
{
    return &client;
}
