/*
 * app.h - the Nimbus FreeRTOS sample's application, shared by the
 * ESP32-C3 build (board_esp32c3.c) and the host build (host/main_host.c).
 *
 * The device:
 * - publishes sensor 0 (a temperature in degrees Celsius) as telemetry,
 *   and answers "sensor/list" and "sensor/0/get" (the core does that);
 * - answers "general_information" with its identity (nimbus_set_device_info);
 * - answers the request "led/get" with the LED's state (its own handler);
 * - keeps the setting "led" (bool): a desired change is applied and
 *   reported back, so the cloud sees desired == reported; the core does
 *   the same for "telemetry_period_ms";
 * - publishes a "boot" event on its first connection.
 */
#ifndef NIMBUS_SAMPLE_APP_H
#define NIMBUS_SAMPLE_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "nimbus_freertos.h"

/** Reads the temperature in hundredths of a degree Celsius; 0 on success. */
typedef int (*app_read_centi_celsius_fn)(int32_t *centi);

/** Where and who the device is. */
typedef struct app_settings {
    nimbus_cloud_t cloud;        /**< AWS or Azure */
    const char *device_id;       /**< thing name / device id */
    const char *hub_host;        /**< Azure IoT Hub host name (Azure only) */
    const char *sas_key;         /**< Azure SAS device key (base64), or NULL */
    nimbus_net_config_t net;     /**< broker and credentials */
    uint32_t telemetry_period_s; /**< initial telemetry period, 0 = off */
    app_read_centi_celsius_fn read_temperature; /**< sensor 0 */
    /** The store of persistent records (boot counter, queue of readings),
     *  or NULLs: see nimbus_platform_t. */
    void *store_ctx;
    int32_t (*store_read)(void *ctx, uint16_t id, uint8_t *buf, size_t cap);
    int32_t (*store_write)(void *ctx, uint16_t id, const uint8_t *data, size_t len);
    uint16_t queue_len;        /**< readings the queue holds (0: 64) */
    bool queue_drop_oldest;    /**< a full queue drops its oldest */
    bool queue_backlog_only;   /**< persist only what cannot go at once */
} app_settings_t;

/** Sets up the client and starts the Nimbus task. 0 or a nimbus_err_t. */
nimbus_err_t app_start(const app_settings_t *settings);

/** Stops the Nimbus task (bounded) and frees the client. */
void app_stop(void);

/** The running client, for other tasks' nimbus_freertos_* calls. */
nimbus_freertos_t *app_client(void);

#endif /* NIMBUS_SAMPLE_APP_H */
