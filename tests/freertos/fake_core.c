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

const char *nimbus_strerror(int32_t err)
{
    return err == NIMBUS_OK ? "ok" : "fake core error";
}

nimbus_err_t nimbus_init_sized(nimbus_client_t *client, size_t client_size,
                               const nimbus_config_t *config, const nimbus_transport_t *transport)
{
    if (client == NULL || config == NULL || transport == NULL) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    if (client_size != sizeof(nimbus_client_t)) {
        return NIMBUS_ERR_STORAGE_TOO_SMALL;
    }
    if (config->memory.buffer == NULL) {
        return NIMBUS_ERR_STORAGE_TOO_SMALL;
    }
    fake.inits++;
    fake.transport = *transport;
    fake.platform = config->platform;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_deinit(nimbus_client_t *client)
{
    (void)client;
    fake.deinits++;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_state(nimbus_client_t *client, nimbus_state_t *state)
{
    (void)client;
    *state = fake.disconnects > 0 ? NIMBUS_STATE_STOPPED
             : fake.open          ? NIMBUS_STATE_CONNECTED
                                  : NIMBUS_STATE_CONNECTING;
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
                                  uint8_t qos, uint16_t *packet_id)
{
    (void)c;
    (void)payload;
    (void)len;
    fake.events++;
    if (packet_id != NULL) {
        *packet_id = qos == 1 ? (uint16_t)fake.events : 0u;
    }
    return NIMBUS_OK;
}

nimbus_err_t nimbus_publish_reading(nimbus_client_t *c, uint16_t id, int64_t mantissa,
                                    uint8_t decimals, uint8_t qos, uint16_t *packet_id)
{
    (void)c;
    (void)mantissa;
    (void)qos;
    (void)packet_id;
    return id == 0 && decimals <= 18u ? NIMBUS_OK : NIMBUS_ERR_NOT_FOUND;
}

nimbus_err_t nimbus_publish_sensor(nimbus_client_t *c, uint16_t sensor, uint8_t qos,
                                      uint16_t *packet_id)
{
    (void)c;
    (void)qos;
    (void)packet_id;
    return sensor == 0 ? NIMBUS_OK : NIMBUS_ERR_NOT_FOUND;
}

nimbus_err_t nimbus_respond(nimbus_client_t *c, uint32_t handle, uint16_t status,
                            const uint8_t *payload, size_t len)
{
    (void)c;
    (void)status;
    (void)payload;
    (void)len;
    return handle != 0 ? NIMBUS_OK : NIMBUS_ERR_INVALID_ARGUMENT;
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

nimbus_err_t nimbus_network_up(nimbus_client_t *c, uint64_t now_ms)
{
    (void)c;
    (void)now_ms;
    fake.network_ups++;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_set_telemetry_period(nimbus_client_t *c, uint32_t period_ms)
{
    (void)c;
    (void)period_ms;
    return NIMBUS_OK;
}
