/*
 * The Nimbus device on Zephyr: answers general_information (identity and
 * network), lists and reads the devicetree sensors (sensor/list,
 * sensor/<id>/get, periodic telemetry), and follows the desired
 * telemetry_period_ms, reporting the value it applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#if defined(CONFIG_USB_DEVICE_STACK)
#include <zephyr/usb/usb_device.h>
#endif

#include <nimbus_zephyr_client.h>

LOG_MODULE_REGISTER(nimbus_device, LOG_LEVEL_INF);

#if defined(NIMBUS_SAMPLE_BUILTIN_CERTS)
/* PEM text with its terminating NUL, as Zephyr's mbedTLS wants it. */
static const unsigned char ca_pem[] = {
#include "nimbus_ca.crt.inc"
    0x00};
static const unsigned char cert_pem[] = {
#include "nimbus_device.crt.inc"
    0x00};
static const unsigned char key_pem[] = {
#include "nimbus_device.key.inc"
    0x00};
#endif

/* The value of "telemetry_period_ms" in a desired document, or -1. */
static long desired_period(const char *json, size_t len)
{
    static const char key[] = "\"telemetry_period_ms\"";
    const char *end = json + len;

    for (const char *p = json; p + sizeof key - 1 <= end; p++) {
        if (memcmp(p, key, sizeof key - 1) != 0) {
            continue;
        }
        p += sizeof key - 1;
        while (p < end && (*p == ' ' || *p == ':')) {
            p++;
        }
        long v = 0;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9' && v < 86400000L) {
            v = v * 10 + (*p++ - '0');
        }
        return p > digits ? v : -1;
    }
    return -1;
}

static void on_connection(void *user, nimbus_client_t *c, bool up, nimbus_err_t reason)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    if (up) {
        LOG_INF("connected as %s", CONFIG_NIMBUS_DEVICE_ID);
    } else {
        LOG_WRN("disconnected: %s", nimbus_strerror(reason));
    }
}

static void on_desired(void *user, nimbus_client_t *c, const char *json, size_t len,
                       uint64_t version)
{
    ARG_UNUSED(user);
    long period = desired_period(json, len);

    LOG_INF("desired v%u: %.*s", (unsigned)version, (int)len, json);
    if (period < 0) {
        return;
    }
    nimbus_err_t r = nimbus_set_telemetry_period(c, (uint32_t)period);
    if (r != NIMBUS_OK) {
        LOG_WRN("telemetry_period_ms %ld refused: %s", period, nimbus_strerror(r));
        return;
    }
    char reported[48];
    int n = snprintf(reported, sizeof reported, "{\"telemetry_period_ms\":%ld}", period);
    uint32_t id = 0;
    r = nimbus_report(c, reported, (size_t)n, &id);
    LOG_INF("telemetry every %ld ms; reported (request %u): %s", period, (unsigned)id,
            r == NIMBUS_OK ? "queued" : nimbus_strerror(r));
}

static void on_twin_result(void *user, nimbus_client_t *c, uint32_t request_id, int32_t status,
                           uint64_t version, const char *body, size_t body_len)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    ARG_UNUSED(body);
    LOG_INF("twin request %u: status %d, version %u, %u bytes", (unsigned)request_id,
            (int)status, (unsigned)version, (unsigned)body_len);
}

/* general_information: identity, firmware and the network facts. */
static int32_t general_information(void *user, nimbus_client_t *c, const nimbus_request_t *req,
                                   nimbus_reply_t *reply)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    ARG_UNUSED(req);
    char *out = (char *)reply->buf;
    int n = snprintf(out, reply->cap,
                     "{\"name\":\"%s\",\"type\":\"sensor-node\",\"model\":\"%s\","
                     "\"manufacturer\":\"%s\",\"hardware_version\":\"%s\","
                     "\"firmware_version\":\"%s\",\"uptime_s\":%u,\"network\":",
                     CONFIG_NIMBUS_DEVICE_ID, CONFIG_NIMBUS_SAMPLE_MODEL,
                     CONFIG_NIMBUS_SAMPLE_MANUFACTURER, CONFIG_BOARD,
                     CONFIG_NIMBUS_SAMPLE_FIRMWARE_VERSION,
                     (unsigned)(k_uptime_get() / 1000));
    if (n < 0 || (size_t)n >= reply->cap) {
        return 507;
    }
    int32_t m = nimbus_zephyr_network_json(out + n, reply->cap - (size_t)n);
    if (m < 0 || (size_t)n + (size_t)m + 1u >= reply->cap) {
        return 507;
    }
    out[n + m] = '}';
    reply->len = (size_t)n + (size_t)m + 1u;
    return 200;
}

int main(void)
{
    nimbus_config_t cfg;
    nimbus_zephyr_config_t net;
    int32_t r;

#if defined(CONFIG_USB_DEVICE_STACK)
    /* The network link is USB CDC ECM on the nRF DKs. */
    if (usb_enable(NULL) != 0) {
        LOG_ERR("USB could not be enabled");
        return 0;
    }
#endif
#if defined(NIMBUS_SAMPLE_BUILTIN_CERTS)
    r = nimbus_zephyr_credentials_add(CONFIG_NIMBUS_TLS_SEC_TAG, ca_pem, sizeof ca_pem, cert_pem,
                                      sizeof cert_pem, key_pem, sizeof key_pem);
    if (r != 0) {
        LOG_ERR("credentials: %d", (int)r);
        return 0;
    }
#endif
    nimbus_zephyr_default_config(&cfg, &net);
    cfg.callbacks.on_connection = on_connection;
    cfg.callbacks.on_desired = on_desired;
    cfg.callbacks.on_twin_result = on_twin_result;

    r = nimbus_zephyr_init(&cfg, &net);
    if (r != NIMBUS_OK) {
        LOG_ERR("nimbus_zephyr_init: %s", nimbus_strerror(r));
        return 0;
    }
    r = nimbus_register_handler(nimbus_zephyr_client(), "general_information",
                                general_information, NULL);
    if (r != NIMBUS_OK) {
        LOG_ERR("handler: %s", nimbus_strerror(r));
        return 0;
    }
    LOG_INF("%s on %s: %s:%d, %u sensor(s)", CONFIG_NIMBUS_DEVICE_ID, CONFIG_BOARD,
            CONFIG_NIMBUS_BROKER_HOST, CONFIG_NIMBUS_BROKER_PORT,
            (unsigned)nimbus_zephyr_dt_sensor_count);
    r = nimbus_zephyr_start();
    if (r != NIMBUS_OK) {
        LOG_ERR("start: %s", nimbus_strerror(r));
    }
    return 0;
}
