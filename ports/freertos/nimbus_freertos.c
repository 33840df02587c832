/*
 * nimbus_freertos.c - the Nimbus task, the client lock and the
 * thread-safe calls of the FreeRTOS port.
 */
#include <string.h>

#include "nimbus_freertos.h"

/* Core error codes the port returns itself. */
#define E_NULL_ARGUMENT ((nimbus_err_t)NIMBUS_ERR_NULL_ARGUMENT)
#define E_BUSY ((nimbus_err_t)NIMBUS_ERR_BUSY)
#define E_INVALID_STATE ((nimbus_err_t)NIMBUS_ERR_INVALID_STATE)
#define E_STORAGE_TOO_SMALL ((nimbus_err_t)NIMBUS_ERR_STORAGE_TOO_SMALL)
#define E_TIMEOUT ((nimbus_err_t)NIMBUS_ERR_TIMEOUT)

/* After a failed poll that names no wake-up time, try again this soon. */
#define RETRY_AFTER_ERROR_MS 1000u
/* How long the task keeps polling after nimbus_disconnect() so that the
 * DISCONNECT packet and the TLS close-notify can leave. */
#define DISCONNECT_FLUSH_MS 500u

/* ms -> ticks, rounded up (a wait never ends early), clamped below
 * portMAX_DELAY (which would mean "forever"). */
static TickType_t ticks_from_ms(uint64_t ms)
{
    uint64_t t = (ms * (uint64_t)configTICK_RATE_HZ + 999u) / 1000u;
    uint64_t max = (uint64_t)(TickType_t)(portMAX_DELAY - 1u);
    return (TickType_t)(t < max ? t : max);
}

/* The core's trace lines, into the port's log. */
static void trace_line(void *ctx, uint8_t level, const char *text, size_t len)
{
    (void)ctx;
    nimbus_freertos_log_level_t l = level <= 1   ? NIMBUS_FREERTOS_LOG_ERROR
                                    : level == 2 ? NIMBUS_FREERTOS_LOG_WARN
                                                 : NIMBUS_FREERTOS_LOG_INFO;
    nimbus_freertos_log(l, "%.*s", (int)(len > 200u ? 200u : len), text);
}

/* ---------------------------------------------------------- init/deinit */

nimbus_err_t nimbus_freertos_init(nimbus_freertos_t *nf, const nimbus_config_t *config,
                                  const nimbus_net_config_t *net)
{
    if (nf == NULL || config == NULL || net == NULL) {
        return E_NULL_ARGUMENT;
    }
    memset(nf, 0, sizeof *nf);
    int32_t r = nimbus_net_init(&nf->net, net);
    if (r != 0) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_ERROR, "transport set-up failed: %d", (int)r);
        return (nimbus_err_t)r;
    }
    nf->transport.ctx = &nf->net;
    nf->transport.open = nimbus_net_open;
    nf->transport.send = nimbus_net_send;
    nf->transport.recv = nimbus_net_recv;
    nf->transport.close = nimbus_net_close;

    nimbus_config_t cfg = *config;
    if (cfg.platform.random_u32 == NULL) {
        cfg.platform.random_u32 = nimbus_freertos_random_u32;
    }
    if (cfg.platform.hmac_sha256 == NULL) {
        cfg.platform.hmac_sha256 = nimbus_freertos_hmac_sha256;
    }
    if (cfg.platform.unix_time_s == NULL) {
        cfg.platform.unix_time_s = nimbus_freertos_unix_time_s;
    }
    if (cfg.platform.log == NULL) {
        cfg.platform.log = trace_line;
    }
    nimbus_err_t e = nimbus_init(&nf->client, &cfg, &nf->transport);
    if (e != NIMBUS_OK) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_ERROR, "client set-up failed: %s",
                            nimbus_strerror(e));
        nimbus_net_deinit(&nf->net);
        return e;
    }
    nf->lock = xSemaphoreCreateRecursiveMutexStatic(&nf->lock_buf);
    if (nf->lock == NULL) {
        nimbus_net_deinit(&nf->net);
        return E_STORAGE_TOO_SMALL;
    }
    nf->initialised = true;
    return NIMBUS_OK;
}

nimbus_client_t *nimbus_freertos_client(nimbus_freertos_t *nf)
{
    return nf != NULL && nf->initialised ? &nf->client : NULL;
}

void nimbus_freertos_deinit(nimbus_freertos_t *nf)
{
    if (nf == NULL || !nf->initialised || nf->task != NULL) {
        return;
    }
    (void)nimbus_deinit(&nf->client);
    nimbus_net_deinit(&nf->net);
    vSemaphoreDelete(nf->lock);
    memset(nf, 0, sizeof *nf);
}

/* ---------------------------------------------------------------- lock */

nimbus_client_t *nimbus_freertos_lock(nimbus_freertos_t *nf, uint32_t timeout_ms)
{
    if (nf == NULL || !nf->initialised) {
        return NULL;
    }
    if (xSemaphoreTakeRecursive(nf->lock, ticks_from_ms(timeout_ms)) != pdTRUE) {
        return NULL;
    }
    return &nf->client;
}

/* Notifies the Nimbus task; the caller holds the lock, so the task
 * cannot be deleted meanwhile. */
static void notify_task(nimbus_freertos_t *nf)
{
    TaskHandle_t task = nf->task;
    if (task != NULL && task != xTaskGetCurrentTaskHandle()) {
        (void)xTaskNotifyGive(task);
    }
}

void nimbus_freertos_wake(nimbus_freertos_t *nf)
{
    if (nf == NULL || !nf->initialised) {
        return;
    }
    (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
    notify_task(nf);
    (void)xSemaphoreGiveRecursive(nf->lock);
}

void nimbus_freertos_unlock(nimbus_freertos_t *nf)
{
    if (nf == NULL || !nf->initialised) {
        return;
    }
    notify_task(nf);
    (void)xSemaphoreGiveRecursive(nf->lock);
}

/* ---------------------------------------------------------------- task */

/*
 * Sleeps until wake_ms, a socket event, or a task notification (a call
 * from another task, or stop). The socket is looked at under the lock,
 * so no other task uses the transport meanwhile; a blocking select() then
 * runs on the descriptor alone, without the lock.
 */
static void wait_until(nimbus_freertos_t *nf, uint64_t wake_ms)
{
    for (;;) {
        uint64_t now = nimbus_freertos_now_ms();
        if (now >= wake_ms) {
            return;
        }
        uint64_t left = wake_ms - now;
        uint32_t slice = left < NIMBUS_FREERTOS_WAIT_SLICE_MS ? (uint32_t)left
                                                               : NIMBUS_FREERTOS_WAIT_SLICE_MS;

        (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
        int32_t ready = nimbus_net_wait(&nf->net, 0);
        bool has_socket = nimbus_net_has_socket(&nf->net);
#if NIMBUS_FREERTOS_BLOCKING_SELECT
        int fd = nf->net.fd;
        bool want_write = nf->net.want_write || nf->net.state == NIMBUS_NET_CONNECTING;
#endif
        (void)xSemaphoreGiveRecursive(nf->lock);
        if (ready != 0) {
            return; /* readable/writable, or an error the next poll sees */
        }
        if (!has_socket) {
            /* Nothing to watch until the core's next step: just sleep. */
            if (ulTaskNotifyTake(pdTRUE, ticks_from_ms(left)) > 0) {
                return;
            }
            continue;
        }
#if NIMBUS_FREERTOS_BLOCKING_SELECT
        if (nimbus_net_fd_wait(fd, true, want_write, slice) != 0) {
            return; /* an event, or the descriptor went away */
        }
        if (ulTaskNotifyTake(pdTRUE, 0) > 0) {
            return;
        }
#else
        if (ulTaskNotifyTake(pdTRUE, ticks_from_ms(slice)) > 0) {
            return;
        }
#endif
    }
}

/* Logs a poll error once per change, so a broker that stays away does
 * not fill the log at every retry. */
static void note_poll_error(nimbus_freertos_t *nf, nimbus_err_t e)
{
    if (e != nf->last_poll_error && e != NIMBUS_OK) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_WARN, "poll: %s", nimbus_strerror(e));
    }
    nf->last_poll_error = e;
}

/* The stop sequence, in the task: DISCONNECT, flush briefly, close. */
static void disconnect(nimbus_freertos_t *nf, nimbus_client_t *c)
{
    uint64_t now = nimbus_freertos_now_ms();
    uint64_t until = now + DISCONNECT_FLUSH_MS;
    uint64_t next = now;
    nimbus_state_t state = NIMBUS_STATE_DISCONNECTING;

    (void)nimbus_disconnect(c, now);
    while (now < until) {
        if (nimbus_poll(c, now, &next) != NIMBUS_OK ||
            nimbus_state(c, &state) != NIMBUS_OK || state == NIMBUS_STATE_STOPPED) {
            break;
        }
        if (next > until) {
            next = until;
        }
        (void)xSemaphoreGiveRecursive(nf->lock);
        vTaskDelay(ticks_from_ms(next > now ? next - now : 1u));
        (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
        now = nimbus_freertos_now_ms();
    }
    nimbus_net_close(&nf->net);
}

static void nimbus_task(void *arg)
{
    nimbus_freertos_t *nf = arg;
    nimbus_client_t *c = &nf->client;

    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "task started");
    (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
    nimbus_err_t e = nimbus_connect(c, nimbus_freertos_now_ms());
    if (e != NIMBUS_OK) {
        nimbus_freertos_log(NIMBUS_FREERTOS_LOG_ERROR, "connect: %s", nimbus_strerror(e));
    }
    for (;;) {
        if (nf->stop_requested) {
            break;
        }
        uint64_t now = nimbus_freertos_now_ms();
        uint64_t next = now + RETRY_AFTER_ERROR_MS;
        e = nimbus_poll(c, now, &next);
        note_poll_error(nf, e);
        if (e != NIMBUS_OK && next <= now) {
            next = now + RETRY_AFTER_ERROR_MS;
        }
        (void)xSemaphoreGiveRecursive(nf->lock);
        wait_until(nf, next);
        (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
    }
    disconnect(nf, c);
    TaskHandle_t stopper = nf->stopper;
    nf->finished = true;
    (void)xSemaphoreGiveRecursive(nf->lock);
    nimbus_freertos_log(NIMBUS_FREERTOS_LOG_INFO, "task stopped");
    (void)xTaskNotifyGive(stopper);
    /* The stopping task deletes this one: then the control block and the
     * stack of a static start may be reused as soon as stop returns. */
    for (;;) {
        (void)ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
    }
}

/* Common checks of both start calls, under the lock. */
static nimbus_err_t start_checks(nimbus_freertos_t *nf)
{
    if (nf == NULL) {
        return E_NULL_ARGUMENT;
    }
    if (!nf->initialised || nf->task != NULL) {
        return E_INVALID_STATE;
    }
    nf->stop_requested = false;
    nf->finished = false;
    nf->stopper = NULL;
    return NIMBUS_OK;
}

nimbus_err_t nimbus_freertos_start(nimbus_freertos_t *nf, UBaseType_t priority,
                                   configSTACK_DEPTH_TYPE stack_depth)
{
    nimbus_err_t e = start_checks(nf);
    if (e != NIMBUS_OK) {
        return e;
    }
    (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
    BaseType_t ok = xTaskCreate(nimbus_task, "nimbus", stack_depth, nf, priority, &nf->task);
    if (ok != pdPASS) {
        nf->task = NULL;
    }
    (void)xSemaphoreGiveRecursive(nf->lock);
    return ok == pdPASS ? NIMBUS_OK : E_STORAGE_TOO_SMALL;
}

nimbus_err_t nimbus_freertos_start_static(nimbus_freertos_t *nf, UBaseType_t priority,
                                          configSTACK_DEPTH_TYPE stack_depth,
                                          StackType_t *stack, StaticTask_t *tcb)
{
    if (stack == NULL || tcb == NULL) {
        return E_NULL_ARGUMENT;
    }
    nimbus_err_t e = start_checks(nf);
    if (e != NIMBUS_OK) {
        return e;
    }
    /* The lock keeps the new task from running before nf->task is set. */
    (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
    nf->task = xTaskCreateStatic(nimbus_task, "nimbus", stack_depth, nf, priority, stack, tcb);
    (void)xSemaphoreGiveRecursive(nf->lock);
    return nf->task != NULL ? NIMBUS_OK : E_STORAGE_TOO_SMALL;
}

nimbus_err_t nimbus_freertos_stop(nimbus_freertos_t *nf, uint32_t timeout_ms)
{
    if (nf == NULL) {
        return E_NULL_ARGUMENT;
    }
    if (!nf->initialised) {
        return NIMBUS_OK;
    }
    (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
    TaskHandle_t task = nf->task;
    if (task != NULL) {
        nf->stop_requested = true;
        nf->stopper = xTaskGetCurrentTaskHandle();
    }
    (void)xSemaphoreGiveRecursive(nf->lock);
    if (task == NULL) {
        return NIMBUS_OK;
    }
    (void)xTaskNotifyGive(task);
    TickType_t start = xTaskGetTickCount();
    TickType_t limit = ticks_from_ms(timeout_ms);
    for (;;) {
        (void)xSemaphoreTakeRecursive(nf->lock, portMAX_DELAY);
        bool finished = nf->finished;
        if (finished) {
            /* Under the lock: no other task is notifying it meanwhile. */
            vTaskDelete(task);
            nf->task = NULL;
            nf->finished = false;
        }
        (void)xSemaphoreGiveRecursive(nf->lock);
        if (finished) {
            return NIMBUS_OK;
        }
        TickType_t spent = (TickType_t)(xTaskGetTickCount() - start);
        if (spent >= limit) {
            return E_TIMEOUT;
        }
        /* Woken by the task's last notification, or time to look again. */
        (void)ulTaskNotifyTake(pdTRUE, limit - spent);
    }
}

/* ------------------------------------------------- thread-safe calls */

/* Takes the lock for a thread-safe call: the client, or NULL with *e. */
static nimbus_client_t *enter(nimbus_freertos_t *nf, nimbus_err_t *e)
{
    if (nf == NULL) {
        *e = E_NULL_ARGUMENT;
        return NULL;
    }
    if (!nf->initialised) {
        *e = E_INVALID_STATE;
        return NULL;
    }
    nimbus_client_t *c = nimbus_freertos_lock(nf, NIMBUS_FREERTOS_LOCK_TIMEOUT_MS);
    *e = c != NULL ? NIMBUS_OK : E_BUSY;
    return c;
}

nimbus_err_t nimbus_freertos_publish_event(nimbus_freertos_t *nf, const uint8_t *payload,
                                           size_t len, uint8_t qos, uint16_t *packet_id)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_publish_event(c, payload, len, qos, packet_id);
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_publish_reading(nimbus_freertos_t *nf, uint16_t sensor,
                                             int64_t mantissa, uint8_t decimals, uint8_t qos,
                                             uint16_t *packet_id)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_publish_reading(c, sensor, mantissa, decimals, qos, packet_id);
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_publish_sensor(nimbus_freertos_t *nf, uint16_t sensor,
                                            uint8_t qos, uint16_t *packet_id)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_publish_sensor(c, sensor, qos, packet_id);
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_respond(nimbus_freertos_t *nf, uint32_t handle, uint16_t status,
                                     const uint8_t *payload, size_t len)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_respond(c, handle, status, payload, len);
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_report(nimbus_freertos_t *nf, const char *json, size_t len,
                                    uint32_t *request_id)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_report(c, json, len, request_id);
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_get_twin(nimbus_freertos_t *nf, uint32_t *request_id)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_get_twin(c, request_id);
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_network_up(nimbus_freertos_t *nf)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_network_up(c, nimbus_freertos_now_ms());
    nimbus_freertos_unlock(nf);
    return e;
}

nimbus_err_t nimbus_freertos_set_telemetry_period(nimbus_freertos_t *nf, uint32_t period_ms)
{
    nimbus_err_t e;
    nimbus_client_t *c = enter(nf, &e);
    if (c == NULL) {
        return e;
    }
    e = nimbus_set_telemetry_period(c, period_ms);
    nimbus_freertos_unlock(nf);
    return e;
}
