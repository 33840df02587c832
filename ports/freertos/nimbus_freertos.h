/*
 * nimbus_freertos.h - the Nimbus port for FreeRTOS with lwIP sockets and
 * mbedTLS (ESP-IDF, or any FreeRTOS + lwIP + mbedTLS project).
 *
 * What it gives the firmware:
 * - a Nimbus task that drives the core (nimbus_poll) and sleeps until the
 *   core's next wake-up time, a socket event, or a call from another task;
 * - thread-safe calls for every other task (publish, report, respond, ...):
 *   the core is single-threaded, so the port serialises all access with a
 *   recursive mutex and then wakes the Nimbus task so queued work goes out
 *   at once;
 * - the transport: the shared non-blocking socket + TLS code of
 *   ports/common (nimbus_net.h) over lwIP's BSD sockets and mbedTLS 2.28
 *   or 3.x (server verification, SNI, ALPN, client certificate);
 * - platform services: time from the tick count, random numbers and log
 *   lines through hooks, HMAC-SHA256 for Azure SAS through mbedTLS.
 *
 * Threading contract:
 * - Before nimbus_freertos_start(), configure the client through
 *   nimbus_freertos_client() (handlers, sensors) from one task.
 * - After it, touch the client only through the nimbus_freertos_* calls,
 *   or between nimbus_freertos_lock() and nimbus_freertos_unlock().
 * - Callbacks (handlers, sensor reads, on_desired, ...) run in the Nimbus
 *   task with the lock held: they may call nimbus_* on the client they are
 *   given, or the nimbus_freertos_* calls (the lock is recursive), but must
 *   not wait for another task that is itself waiting for the lock.
 * - Nothing here may be called from an interrupt.
 *
 * Memory: nimbus_freertos_t holds the client storage, the transport and
 * the mutex; the task's stack is the caller's (static start) or the
 * FreeRTOS heap's (dynamic start). The port never calls malloc; mbedTLS
 * allocates through its configured calloc (record buffers, certificates).
 */
#ifndef NIMBUS_FREERTOS_H
#define NIMBUS_FREERTOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(ESP_PLATFORM)
#include "freertos/FreeRTOS.h" /* ESP-IDF keeps the kernel headers in freertos/ */
#include "freertos/semphr.h"
#include "freertos/task.h"
#else
#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"
#endif

#include <nimbus.h>

#include "nimbus_freertos_config.h"
#include "nimbus_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a log line. */
typedef enum nimbus_freertos_log_level {
    NIMBUS_FREERTOS_LOG_ERROR = 1, /**< something failed */
    NIMBUS_FREERTOS_LOG_WARN = 2,  /**< a connection attempt failed, and why */
    NIMBUS_FREERTOS_LOG_INFO = 3,  /**< task started/stopped, connected */
} nimbus_freertos_log_level_t;

/**
 * The platform hooks. Every field may be NULL:
 * - entropy: fills out with len random bytes, returns 0 on success. Seeds
 *   the TLS random generator and feeds nimbus_freertos_random_u32(). The
 *   default is esp_fill_random() on ESP-IDF and none elsewhere (TLS set-up
 *   then fails with a log line saying so): give the hardware RNG here.
 * - log: receives one line without newline. Default: ESP_LOGx on ESP-IDF,
 *   printf() elsewhere unless NIMBUS_FREERTOS_NO_PRINTF is defined.
 * - unix_time_s: seconds since 1970 (UTC), for Azure SAS token expiry;
 *   negative while not known. Default: time(NULL) on ESP-IDF once SNTP
 *   has set it, unknown elsewhere.
 */
typedef struct nimbus_freertos_hooks {
    int (*entropy)(void *user, uint8_t *out, size_t len); /**< random bytes */
    void (*log)(void *user, nimbus_freertos_log_level_t level,
                const char *line);                        /**< log sink */
    int64_t (*unix_time_s)(void *user);                   /**< wall clock */
    void *user;                                           /**< passed to each hook */
} nimbus_freertos_hooks_t;

/** Installs the platform hooks (copied); NULL restores the defaults. Call
 *  it before nimbus_freertos_init(). */
void nimbus_freertos_set_hooks(const nimbus_freertos_hooks_t *hooks);

/** Milliseconds since the scheduler started, from the tick count and its
 *  overflow count: monotonic, and does not wrap with the 32-bit tick. */
uint64_t nimbus_freertos_now_ms(void);

/** A random value through the entropy hook (a tick-seeded generator if the
 *  hook is missing or fails). For jitter and ids, not for keys. */
uint32_t nimbus_freertos_random_u32(void *ctx);

/** Seconds since 1970 through the unix_time_s hook, or -1 (unknown). */
int64_t nimbus_freertos_unix_time_s(void *ctx);

/** HMAC-SHA256 through mbedTLS in the shape of nimbus_platform_t's
 *  hmac_sha256 (ctx unused). 0, -1 or -2. */
int32_t nimbus_freertos_hmac_sha256(void *ctx, const uint8_t *key, size_t key_len,
                                    const uint8_t *msg, size_t msg_len, uint8_t *out);

/** Formats a line and hands it to the log hook. */
void nimbus_freertos_log(nimbus_freertos_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/**
 * One Nimbus client with its transport, lock and task. Allocate it
 * statically (it is a few KiB); treat every field as private.
 */
typedef struct nimbus_freertos {
    nimbus_client_t client;          /**< the core's client */
    nimbus_net_transport_t net;      /**< socket + TLS */
    nimbus_transport_t transport;    /**< the core's view of net */
    SemaphoreHandle_t lock;          /**< recursive: guards the client */
    StaticSemaphore_t lock_buf;      /**< storage of lock */
    TaskHandle_t task;               /**< the Nimbus task, NULL if none */
    TaskHandle_t stopper;            /**< task waiting in stop(), or NULL */
    bool initialised;                /**< init succeeded */
    bool stop_requested;             /**< set by stop(), under the lock */
    bool finished;                   /**< the task has disconnected and
                                          waits to be deleted by stop() */
    nimbus_err_t last_poll_error;    /**< last nimbus_poll() error logged */
} nimbus_freertos_t;

/**
 * Sets up the transport from net (copied; its strings must outlive nf),
 * the lock, and the client from config (the core copies it; its
 * config->memory buffer is caller memory, see nimbus_buffer_len()). Platform functions left NULL in config->platform are
 * filled with the port's: random_u32, hmac_sha256 (mbedTLS) and
 * unix_time_s. Returns 0, -1 (NULL), or the transport's or the core's
 * error (logged).
 */
nimbus_err_t nimbus_freertos_init(nimbus_freertos_t *nf, const nimbus_config_t *config,
                                  const nimbus_net_config_t *net);

/** The client, for nimbus_register_handler()/nimbus_register_sensor()
 *  before nimbus_freertos_start(); afterwards use the lock. NULL if nf is
 *  NULL or not initialised. */
nimbus_client_t *nimbus_freertos_client(nimbus_freertos_t *nf);

/**
 * Starts the Nimbus task ("nimbus") with a stack from the FreeRTOS heap:
 * stack_depth in the units xTaskCreate() takes (words on most ports, bytes
 * on ESP-IDF). The task connects and then drives the client until
 * nimbus_freertos_stop(). Returns 0, -1, -6 (not initialised or already
 * running) or -7 (the task could not be created).
 */
nimbus_err_t nimbus_freertos_start(nimbus_freertos_t *nf, UBaseType_t priority,
                                   configSTACK_DEPTH_TYPE stack_depth);

/** Like nimbus_freertos_start() with the caller's stack (stack_depth
 *  elements) and task control block (xTaskCreateStatic()). */
nimbus_err_t nimbus_freertos_start_static(nimbus_freertos_t *nf, UBaseType_t priority,
                                          configSTACK_DEPTH_TYPE stack_depth,
                                          StackType_t *stack, StaticTask_t *tcb);

/**
 * Asks the Nimbus task to disconnect (MQTT DISCONNECT, TLS close-notify)
 * and end, waits up to timeout_ms for it, then deletes it (so a static
 * start's stack and control block are free again when this returns).
 * Call it from another task, not from a callback; one stopper at a time.
 * Returns 0 (stopped, or was not running), -1, or -85 (timeout: the task
 * is still ending; call stop again later).
 */
nimbus_err_t nimbus_freertos_stop(nimbus_freertos_t *nf, uint32_t timeout_ms);

/** Frees the transport and the lock after stop. nf may be initialised
 *  again afterwards. Ignored while the task runs. */
void nimbus_freertos_deinit(nimbus_freertos_t *nf);

/**
 * Takes the client lock (waiting up to timeout_ms) and returns the client
 * for any nimbus_* call; NULL on timeout or if nf is not initialised.
 * Every successful lock must be followed by nimbus_freertos_unlock() from
 * the same task. Recursive: callbacks may lock again.
 */
nimbus_client_t *nimbus_freertos_lock(nimbus_freertos_t *nf, uint32_t timeout_ms);

/** Releases the lock and wakes the Nimbus task, so that anything the
 *  caller queued is sent now rather than at the next wake-up. */
void nimbus_freertos_unlock(nimbus_freertos_t *nf);

/** Wakes the Nimbus task (e.g. after a sensor changed). */
void nimbus_freertos_wake(nimbus_freertos_t *nf);

/*
 * Thread-safe forms of the core's calls: each takes the lock (waiting up
 * to NIMBUS_FREERTOS_LOCK_TIMEOUT_MS, else -5 busy), makes the call,
 * releases the lock and wakes the Nimbus task. Arguments and results are
 * those of the core call of the same name; nf NULL or not initialised
 * gives -1 or -6.
 */

/** nimbus_publish_event() from any task. */
nimbus_err_t nimbus_freertos_publish_event(nimbus_freertos_t *nf, const uint8_t *payload,
                                           size_t len, uint8_t qos, uint16_t *packet_id);
/** nimbus_publish_reading() from any task. */
nimbus_err_t nimbus_freertos_publish_reading(nimbus_freertos_t *nf, uint16_t sensor,
                                             int64_t mantissa, uint8_t decimals, uint8_t qos,
                                             uint16_t *packet_id);
/** nimbus_publish_sensor() from any task (reads the sensor in the
 *  calling task). Not from a callback: the core refuses it there. */
nimbus_err_t nimbus_freertos_publish_sensor(nimbus_freertos_t *nf, uint16_t sensor, uint8_t qos,
                                            uint16_t *packet_id);
/** The former name of nimbus_freertos_publish_sensor(), for one release. */
NIMBUS_DEPRECATED_WITH_NOTE("use nimbus_freertos_publish_sensor")
static inline nimbus_err_t nimbus_freertos_publish_telemetry(nimbus_freertos_t *nf, uint16_t sensor,
                                                             uint8_t qos, uint16_t *packet_id)
{
    return nimbus_freertos_publish_sensor(nf, sensor, qos, packet_id);
}
/** nimbus_respond() from any task: answers a deferred request. */
nimbus_err_t nimbus_freertos_respond(nimbus_freertos_t *nf, uint32_t handle, uint16_t status,
                                     const uint8_t *payload, size_t len);
/** nimbus_report() from any task: reports state (JSON object). */
nimbus_err_t nimbus_freertos_report(nimbus_freertos_t *nf, const char *json, size_t len,
                                    uint32_t *request_id);
/** nimbus_get_twin() from any task. */
nimbus_err_t nimbus_freertos_get_twin(nimbus_freertos_t *nf, uint32_t *request_id);
/** nimbus_network_up() from any task (e.g. an IP_EVENT_STA_GOT_IP
 *  handler): a waiting client tries again at once, a connected one probes
 *  its link; the Nimbus task is woken to do it. */
nimbus_err_t nimbus_freertos_network_up(nimbus_freertos_t *nf);
/** nimbus_set_telemetry_period() from any task. */
nimbus_err_t nimbus_freertos_set_telemetry_period(nimbus_freertos_t *nf, uint32_t period_ms);

/* -------------------------------------------------- store (ESP-IDF) */

#if defined(ESP_PLATFORM)
#include "nvs.h"

/** The store of persistent records in ESP-IDF NVS: one blob per record,
 *  key "r<id>", in a namespace of its own. On other FreeRTOS systems give
 *  nimbus_config_t.platform.store_read / store_write of your own (a key-
 *  value store that writes a record atomically, or whole). */
typedef struct {
    nvs_handle_t handle;
} nimbus_esp_store_t;

/** Opens `ns` in the NVS partition `partition` (already initialised with
 *  nvs_flash_init_partition, e.g. "nvs" by nvs_flash_init). Returns 0,
 *  NIMBUS_ERR_NULL_ARGUMENT or NIMBUS_ERR_TRANSPORT_FAILED. */
int32_t nimbus_esp_store_init(nimbus_esp_store_t *s, const char *partition, const char *ns);

/** nimbus_platform_t.store_read, `ctx` the store: the record's length, 0
 *  when there is none, NIMBUS_ERR_BUFFER_TOO_SMALL (longer than `cap`),
 *  NIMBUS_ERR_TRANSPORT_FAILED. */
int32_t nimbus_esp_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap);

/** nimbus_platform_t.store_write, `ctx` the store: writes and commits the
 *  record (`len` 0 erases it). 0, NIMBUS_ERR_STORAGE_TOO_SMALL (NVS full),
 *  NIMBUS_ERR_TRANSPORT_FAILED. */
int32_t nimbus_esp_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len);
#endif

#ifdef __cplusplus
}
#endif

#endif /* NIMBUS_FREERTOS_H */
