/*
 * nimbus_zephyr_client.h - one Nimbus client per device, set up from
 * Kconfig and driven by a Zephyr thread (CONFIG_NIMBUS_CLIENT).
 *
 *     nimbus_config_t cfg;
 *     nimbus_zephyr_config_t net;
 *     nimbus_zephyr_default_config(&cfg, &net);   // from Kconfig
 *     cfg.callbacks.on_desired = my_desired;       // adjust as needed
 *     nimbus_zephyr_init(&cfg, &net);              // + devicetree sensors
 *     nimbus_register_handler(nimbus_zephyr_client(), "my/path", fn, NULL);
 *     nimbus_zephyr_start();                       // the poll thread
 *
 * Callbacks and handlers run on the Nimbus thread. Another thread that
 * calls the client (nimbus_publish_event(), nimbus_report(), ...) must
 * hold nimbus_zephyr_lock() meanwhile.
 */
#ifndef NIMBUS_ZEPHYR_CLIENT_H
#define NIMBUS_ZEPHYR_CLIENT_H

#include <nimbus.h>

#include "nimbus_zephyr.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Fills cfg (cloud, identity, session timing, telemetry, the buffer split
 * over the port's static buffer, platform services) and net (broker,
 * port, security tags, ALPN) from Kconfig. Callbacks are left empty.
 */
void nimbus_zephyr_default_config(nimbus_config_t *cfg, nimbus_zephyr_config_t *net);

/**
 * Initialises the transport with net and the client with cfg, sets the
 * device information (identity from Kconfig, network from net_if; the
 * network part is refreshed at every connection) and registers the
 * devicetree sensors (CONFIG_NIMBUS_DT_SENSORS). Returns 0 or a negative
 * nimbus_err_t. Call it once, before nimbus_zephyr_start().
 */
int32_t nimbus_zephyr_init(const nimbus_config_t *cfg, const nimbus_zephyr_config_t *net);

/** The client nimbus_zephyr_init() set up (NULL before). */
nimbus_client_t *nimbus_zephyr_client(void);

/** Registers each sensor of table with the client. 0 or the first error. */
int32_t nimbus_zephyr_register_sensors(nimbus_client_t *c, const nimbus_zephyr_sensor_t *table,
                                       size_t count);

/**
 * One step of the Nimbus loop: polls the client (connecting when needed),
 * then sleeps in zsock_poll() until the socket has data, the core's next
 * deadline or max_wait_ms. Returns the result of nimbus_poll().
 */
int32_t nimbus_zephyr_run_once(uint32_t max_wait_ms);

/** Starts the Nimbus thread (CONFIG_NIMBUS_THREAD): connects and loops
 *  over nimbus_zephyr_run_once(). 0, or -6 if not initialised or already
 *  started. */
int32_t nimbus_zephyr_start(void);

/**
 * The network came back (call it from a NET_EVENT_L4_CONNECTED handler):
 * nimbus_network_up() under the client lock. The Nimbus thread acts on it
 * at its next wake-up, within CONFIG_NIMBUS_MAX_WAIT_MS.
 */
int32_t nimbus_zephyr_network_up(void);

/** Takes the client for a call from another thread. */
void nimbus_zephyr_lock(void);

/** Gives the client back. */
void nimbus_zephyr_unlock(void);

#ifdef __cplusplus
}
#endif

#endif /* NIMBUS_ZEPHYR_CLIENT_H */
