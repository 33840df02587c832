/*
 * The Nimbus device on Zephyr: general_information (identity from
 * Kconfig, network from net_if), the devicetree sensors (sensor/list,
 * sensor/<id>/get, readings as telemetry) and the desired
 * telemetry_period_ms, applied and reported by the client.
 */
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#if defined(CONFIG_USB_DEVICE_STACK)
#include <zephyr/usb/usb_device.h>
#endif

#if defined(CONFIG_NET_MGMT_EVENT)
#include <zephyr/net/net_mgmt.h>
#include <zephyr/net/net_event.h>
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

static void on_connection(void *user, nimbus_client_t *c, bool up, int32_t reason)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    if (up) {
        LOG_INF("connected as %s", CONFIG_NIMBUS_DEVICE_ID);
    } else {
        LOG_WRN("disconnected: %s", nimbus_strerror(reason));
    }
}

/* The client applies a desired telemetry_period_ms itself and reports
 * the value in force; the sample only shows what arrived. */
static void on_desired(void *user, nimbus_client_t *c, const char *json, size_t len,
                       uint64_t version)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    LOG_INF("desired v%u: %.*s", (unsigned)version, (int)len, json);
}

static void on_twin(void *user, nimbus_client_t *c, const nimbus_twin_result_t *result)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    LOG_INF("twin request %u: kind %d, status %d", (unsigned)result->request_id,
            (int)result->kind, (int)result->status);
}

static void on_error(void *user, nimbus_client_t *c, int32_t error, const char *what,
                     size_t what_len)
{
    ARG_UNUSED(user);
    ARG_UNUSED(c);
    LOG_WRN("%.*s: %s", (int)what_len, what, nimbus_strerror(error));
}

#if defined(CONFIG_NET_MGMT_EVENT)
/* The network is back (L4 connected again after an outage): the client
 * tries at once instead of waiting out its backoff delay. (Zephyr 4.1's
 * handler signature; 4.2 passes the event as uint64_t.) */
static struct net_mgmt_event_callback net_cb;

static void on_net_event(struct net_mgmt_event_callback *cb, uint32_t event, struct net_if *iface)
{
    ARG_UNUSED(cb);
    ARG_UNUSED(iface);
    if (event == NET_EVENT_L4_CONNECTED) {
        (void)nimbus_zephyr_network_up();
    }
}
#endif

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
    cfg.callbacks.on_twin = on_twin;
    cfg.callbacks.on_error = on_error;

    r = nimbus_zephyr_init(&cfg, &net);
    if (r != NIMBUS_OK) {
        LOG_ERR("nimbus_zephyr_init: %s", nimbus_strerror(r));
        return 0;
    }
    LOG_INF("%s on %s: %s:%d, %u sensor(s)", CONFIG_NIMBUS_DEVICE_ID, CONFIG_BOARD,
            CONFIG_NIMBUS_BROKER_HOST, CONFIG_NIMBUS_BROKER_PORT,
            (unsigned)nimbus_zephyr_dt_sensor_count);
    r = nimbus_zephyr_start();
    if (r != NIMBUS_OK) {
        LOG_ERR("start: %s", nimbus_strerror(r));
        return 0;
    }
#if defined(CONFIG_NET_MGMT_EVENT)
    net_mgmt_init_event_callback(&net_cb, on_net_event, NET_EVENT_L4_CONNECTED);
    net_mgmt_add_event_callback(&net_cb);
#endif
    return 0;
}
