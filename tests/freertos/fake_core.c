/*
 * fake_core.c - the scripted core of fake_core.h: connect opens the
 * transport, poll drives the open and drains received bytes, and every
 * call is counted.
 */
#include <string.h>

#include "fake_core.h"

fake_core_t fake;

void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
    fake.wake_after_ms = 60000u;
}

const char *nimbus_strerror(nimbus_err_t err)
{
    return err == NIMBUS_OK ? "ok" : "fake core error";
}

nimbus_err_t nimbus_init(nimbus_client_t *client, size_t storage_size,
                         const nimbus_config_t *config, const nimbus_transport_t *transport)
{
    if (client == NULL || config == NULL || transport == NULL) {
        return -1;
    }
    if (storage_size < NIMBUS_CLIENT_SIZE) {
        return -7;
    }
    fake.inits++;
    fake.transport = *transport;
    fake.platform = config->platform;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_connect(nimbus_client_t *c, uint64_t now_ms)
{
    (void)c;
    (void)now_ms;
    fake.connects++;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_poll(nimbus_client_t *c, uint64_t now_ms, uint64_t *next_wake_ms)
{
    fake.polls++;
    if (fake.connects > 0 && !fake.open) {
        fake.last_open = fake.transport.open(fake.transport.ctx);
        fake.open = fake.last_open == 1;
    }
    while (fake.open && fake.rx_len < sizeof fake.rx) {
        int32_t n = fake.transport.recv(fake.transport.ctx, fake.rx + fake.rx_len,
                                        sizeof fake.rx - fake.rx_len);
        if (n <= 0) {
            break;
        }
        fake.rx_len += (size_t)n;
    }
    if (fake.on_poll != NULL) {
        fake.on_poll(c);
    }
    *next_wake_ms = now_ms + fake.wake_after_ms;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_disconnect(nimbus_client_t *c, uint64_t now_ms)
{
    (void)c;
    (void)now_ms;
    fake.disconnects++;
    if (fake.open) {
        fake.transport.close(fake.transport.ctx);
        fake.open = false;
    }
    return NIMBUS_OK;
}

nimbus_err_t nimbus_publish_event(nimbus_client_t *c, const uint8_t *payload, size_t len,
                                  uint8_t qos)
{
    (void)c;
    (void)payload;
    (void)len;
    (void)qos;
    fake.events++;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_publish_telemetry(nimbus_client_t *c, uint16_t sensor, uint8_t qos)
{
    (void)c;
    (void)qos;
    return sensor == 0 ? NIMBUS_OK : -100;
}

nimbus_err_t nimbus_respond(nimbus_client_t *c, uint32_t handle, uint16_t status,
                            const uint8_t *payload, size_t len)
{
    (void)c;
    (void)status;
    (void)payload;
    (void)len;
    return handle != 0 ? NIMBUS_OK : -2;
}

nimbus_err_t nimbus_report(nimbus_client_t *c, const char *json, size_t len,
                           uint32_t *request_id)
{
    (void)c;
    (void)json;
    (void)len;
    fake.reports++;
    if (request_id != NULL) {
        *request_id = (uint32_t)fake.reports;
    }
    return NIMBUS_OK;
}

nimbus_err_t nimbus_get_twin(nimbus_client_t *c, uint32_t *request_id)
{
    (void)c;
    if (request_id != NULL) {
        *request_id = 99u;
    }
    return NIMBUS_OK;
}

nimbus_err_t nimbus_set_telemetry_period(nimbus_client_t *c, uint32_t period_ms)
{
    (void)c;
    (void)period_ms;
    return NIMBUS_OK;
}
