/*
 * fake_core.h - a scripted stand-in for the Nimbus core (nimbus.h), so
 * the port's task, lock and wait logic can be tested on their own. The
 * end-to-end test (e2e.sh) runs the port with the real core.
 */
#ifndef NIMBUS_FAKE_CORE_H
#define NIMBUS_FAKE_CORE_H

#include <nimbus.h>

/** What the fake core saw and does; guarded by the port's client lock
 *  (the tests read it under nimbus_freertos_lock()). */
typedef struct fake_core {
    nimbus_transport_t transport;     /**< from nimbus_init */
    nimbus_platform_t platform;       /**< from nimbus_init */
    int inits, deinits, connects, polls, disconnects, events, reports, network_ups;
    bool open;                        /**< transport open returned 1 */
    int32_t last_open;                /**< last transport open result */
    uint8_t rx[256];                  /**< bytes received, in order */
    size_t rx_len;
    uint64_t wake_after_ms;           /**< next wake-up: now + this */
    void (*on_poll)(nimbus_client_t *c); /**< called inside each poll */
} fake_core_t;

/** The one fake core instance. */
extern fake_core_t fake;

/** Resets every counter and the script. */
void fake_reset(void);

#endif /* NIMBUS_FAKE_CORE_H */
