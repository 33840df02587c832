/*
 * app.c - the Nimbus FreeRTOS sample's application (see app.h).
 */
#include <stdio.h>
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
#define APP_BUFFER_SIZE 12288 /* the core's default split needs 10.25 KiB */
#endif

static nimbus_freertos_t client;
static uint8_t core_buffer[APP_BUFFER_SIZE]; /* rx, outbox, in-flight, work, replies */
static app_read_centi_celsius_fn read_temperature;

/* The setting the cloud may change (telemetry_period_ms is the core's). */
static struct {
    bool led;
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

/* "led/get": answered at once with the LED's state. */
static int32_t on_led_get(void *user, nimbus_client_t *c, const nimbus_request_t *req,
                          uint8_t *reply, size_t reply_cap, size_t *reply_len)
{
    (void)user;
    (void)c;
    (void)req;
    int n = snprintf((char *)reply, reply_cap, "{\"led\":%s}", state.led ? "true" : "false");
    if (n < 0 || (size_t)n >= reply_cap) {
        return 500;
    }
    *reply_len = (size_t)n;
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
    char json[32];
    uint32_t id = 0;
    int n = snprintf(json, sizeof json, "{\"led\":%s}", state.led ? "true" : "false");
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
    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "desired v%llu: %.*s",
                        (unsigned long long)version, (int)(len < 120u ? len : 120u), json);
    if (led == NULL) {
        return; /* nothing of ours changed (the core applies telemetry_period_ms) */
    }
    state.led = strncmp(led, "true", 4) == 0;
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
            booted = nimbus_publish_event(c, (const uint8_t *)boot, sizeof boot - 1u, 1,
                                          NULL) == NIMBUS_OK;
        }
    } else {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "disconnected: %s",
                            nimbus_strerror(reason));
    }
}

static void on_twin(void *user, nimbus_client_t *c, const nimbus_twin_result_t *r)
{
    (void)user;
    (void)c;
    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "twin request %u: kind %d, status %d, version %llu",
                        (unsigned)r->request_id, (int)r->kind, (int)r->status,
                        (unsigned long long)r->version);
}

static void on_error(void *user, nimbus_client_t *c, int32_t error, const char *what,
                     size_t what_len)
{
    (void)user;
    (void)c;
    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_WARN, "%s: %.*s", nimbus_strerror(error),
                        (int)(what_len < 100u ? what_len : 100u), what);
}

/* -------------------------------------------------------------- start */

nimbus_err_t app_start(const app_settings_t *s)
{
    nimbus_config_t cfg;

    memset(&cfg, 0, sizeof cfg);
    read_temperature = s->read_temperature;
    state.led = false;
    cfg.cloud = (uint32_t)s->cloud;
    cfg.device_id = s->device_id;
    cfg.hub_host = s->hub_host;
    cfg.sas_key = s->sas_key; /* tokens are signed with the port's mbedTLS HMAC */
    cfg.keepalive_s = APP_KEEPALIVE_S;
    cfg.backoff_min_ms = 500;
    cfg.backoff_max_ms = 30000;
    cfg.memory.buffer = core_buffer;
    cfg.memory.len = sizeof core_buffer;
    cfg.telemetry_period_ms = s->telemetry_period_s * 1000u;
    cfg.callbacks.on_connection = on_connection;
    cfg.callbacks.on_desired = on_desired;
    cfg.callbacks.on_twin = on_twin;
    cfg.callbacks.on_error = on_error;
    cfg.platform.ctx = s->store_ctx; /* the port's other services ignore it */
    cfg.platform.store_read = s->store_read;
    cfg.platform.store_write = s->store_write;
    cfg.queue_len = s->queue_len;
    cfg.queue_policy = s->queue_drop_oldest ? NIMBUS_QUEUE_DROP_OLDEST : NIMBUS_QUEUE_REFUSE_NEW;
    cfg.queue_backlog_only = s->queue_backlog_only;

    size_t need = nimbus_buffer_len(&cfg);
    if (need == 0 || need > sizeof core_buffer) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_ERROR, "buffer: %u bytes, the client needs %u",
                            (unsigned)sizeof core_buffer, (unsigned)need);
        return NIMBUS_ERR_STORAGE_TOO_SMALL;
    }
    nimbus_err_t e = nimbus_freertos_init(&client, &cfg, &s->net);
    if (e != NIMBUS_OK) {
        return e;
    }
    static const nimbus_device_info_t info = {
        .name = "nimbus sample",
        .device_type = "sensor",
        .model = APP_MODEL,
        .manufacturer = "Nimbus",
        .firmware_version = APP_FIRMWARE,
    };
    nimbus_client_t *c = nimbus_freertos_client(&client);
    e = nimbus_set_device_info(c, &info);
    if (e == NIMBUS_OK) {
        e = nimbus_register_handler(c, "led/get", on_led_get, NULL);
    }
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
