/*
 * The smallest Nimbus firmware: one sensor, telemetry every minute, the
 * built-in device model. The same code is shown in the README; the test
 * suite compiles it (tests/c/run.sh), so the two cannot drift apart.
 * The port provides the transport and calls app_loop() from its thread.
 */
#include <stdint.h>

#include "nimbus.h"

void log_error(const char *format, ...);
void app_start(const nimbus_transport_t *transport, uint64_t now_ms);
void app_loop(uint64_t now_ms);

static nimbus_client_t client;        /* NIMBUS_CLIENT_SIZE bytes, static */
/* The default split on Azure: what nimbus_buffer_len(&config) asks. */
static uint8_t memory[NIMBUS_BUFFER_LEN(0, 0, 0, 0, 0, true)];

static int32_t read_temp(void *user, uint16_t id, int64_t *mantissa, uint8_t *decimals) {
    (void)user; (void)id;
    *mantissa = 2315; *decimals = 2;  /* 23.15 */
    return 0;
}

void app_start(const nimbus_transport_t *transport, uint64_t now_ms) {
    nimbus_config_t config = {0};
    config.cloud = NIMBUS_CLOUD_AZURE;
    config.device_id = "thermo-7";
    config.hub_host = "myhub.azure-devices.net";
    config.telemetry_period_ms = 60000;
    config.telemetry_qos = 1;
    config.memory.buffer = memory;
    config.memory.len = sizeof memory;
    nimbus_err_t err = nimbus_init(&client, &config, transport);
    if (err == NIMBUS_OK)
        err = nimbus_register_sensor(&client, 0, "temperature", "Cel", read_temp, NULL);
    if (err == NIMBUS_OK)
        err = nimbus_connect(&client, now_ms);
    if (err != NIMBUS_OK)
        log_error("nimbus: %s", nimbus_strerror(err));
}

void app_loop(uint64_t now_ms) {    /* from the port's thread */
    uint64_t wake;
    nimbus_err_t err = nimbus_poll(&client, now_ms, &wake);
    if (err != NIMBUS_OK)                  /* the link's own troubles come through on_error */
        log_error("nimbus_poll: %s", nimbus_strerror(err));
    (void)wake;                            /* sleep until wake or the socket is readable */
}
