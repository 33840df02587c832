/*
 * freertos_platform.c - time, random numbers, logging and HMAC for the
 * FreeRTOS port, and what the shared transport asks of the OS
 * (nimbus_net_os.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nimbus_freertos.h"

#if defined(ESP_PLATFORM)
#include <time.h>

#include "esp_log.h"
#include "esp_random.h"
#endif

/* ------------------------------------------------------------- hooks */

#if defined(ESP_PLATFORM)
static const char *const TAG = "nimbus";

static int default_entropy(void *user, uint8_t *out, size_t len)
{
    (void)user;
    esp_fill_random(out, len);
    return 0;
}

static void default_log(void *user, nimbus_freertos_log_level_t level, const char *line)
{
    (void)user;
    switch (level) {
    case NIMBUS_FREERTOS_LOG_ERROR:
        ESP_LOGE(TAG, "%s", line);
        break;
    case NIMBUS_FREERTOS_LOG_WARN:
        ESP_LOGW(TAG, "%s", line);
        break;
    default:
        ESP_LOGI(TAG, "%s", line);
        break;
    }
}

static int64_t default_unix_time(void *user)
{
    (void)user;
    time_t now = time(NULL);
    /* Before SNTP has set the clock, time() counts from 1970 + uptime. */
    return now > (time_t)1577836800 ? (int64_t)now : -1; /* after 2020 */
}

static const nimbus_freertos_hooks_t default_hooks = {
    .entropy = default_entropy,
    .log = default_log,
    .unix_time_s = default_unix_time,
    .user = NULL,
};
#else
#if !defined(NIMBUS_FREERTOS_NO_PRINTF)
static void default_log(void *user, nimbus_freertos_log_level_t level, const char *line)
{
    static const char *const names[] = {"?", "E", "W", "I"};
    (void)user;
    unsigned i = (unsigned)level < 4u ? (unsigned)level : 0u;
    (void)printf("nimbus %s: %s\n", names[i], line);
}
#endif

static const nimbus_freertos_hooks_t default_hooks = {
    .entropy = NULL,
#if !defined(NIMBUS_FREERTOS_NO_PRINTF)
    .log = default_log,
#else
    .log = NULL,
#endif
    .unix_time_s = NULL,
    .user = NULL,
};
#endif

static nimbus_freertos_hooks_t hooks = default_hooks;

void nimbus_freertos_set_hooks(const nimbus_freertos_hooks_t *h)
{
    hooks = h != NULL ? *h : default_hooks;
}

/* --------------------------------------------------------------- log */

static void log_line(nimbus_freertos_log_level_t level, const char *line)
{
    if (hooks.log != NULL) {
        hooks.log(hooks.user, level, line);
    }
}

void nimbus_freertos_log(nimbus_freertos_log_level_t level, const char *fmt, ...)
{
    char line[NIMBUS_FREERTOS_LOG_LINE_MAX];
    va_list ap;

    if (hooks.log == NULL) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_line(level, line);
}

void nimbus_net_os_log(const char *line)
{
    /* The transport logs why a connection attempt failed. */
    log_line(NIMBUS_FREERTOS_LOG_WARN, line);
}

/* -------------------------------------------------------------- time */

uint64_t nimbus_freertos_now_ms(void)
{
    TimeOut_t t;

    /* The kernel reads the tick count and its overflow count together. */
    vTaskSetTimeOutState(&t);
    const unsigned half = (unsigned)(sizeof(TickType_t) * 8u / 2u);
    /* Two half shifts: well defined even for a 64-bit TickType_t. */
    uint64_t ticks = (((uint64_t)(UBaseType_t)t.xOverflowCount << half) << half) +
                     (uint64_t)t.xTimeOnEntering;
    return ticks * 1000u / (uint64_t)configTICK_RATE_HZ;
}

uint64_t nimbus_net_os_now_ms(void)
{
    return nimbus_freertos_now_ms();
}

int64_t nimbus_freertos_unix_time_s(void *ctx)
{
    (void)ctx;
    return hooks.unix_time_s != NULL ? hooks.unix_time_s(hooks.user) : -1;
}

/* ------------------------------------------------------------ random */

int nimbus_net_os_random(void *out, size_t len)
{
    static bool warned;

    if (hooks.entropy == NULL) {
        if (!warned) {
            warned = true;
            log_line(NIMBUS_FREERTOS_LOG_ERROR,
                     "no entropy hook: set one with nimbus_freertos_set_hooks()");
        }
        return -1;
    }
    return hooks.entropy(hooks.user, out, len) == 0 ? 0 : -1;
}

uint32_t nimbus_freertos_random_u32(void *ctx)
{
    uint32_t value = 0;

    (void)ctx;
    if (nimbus_net_os_random(&value, sizeof value) == 0) {
        return value;
    }
    /* No entropy source: splitmix64 over the clock and the calling task,
     * without shared state (no critical section needed); fine for jitter. */
    uint64_t x = nimbus_freertos_now_ms() * 0x9e3779b97f4a7c15u ^
                 (uint64_t)(uintptr_t)xTaskGetCurrentTaskHandle();
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (uint32_t)x;
}

/* -------------------------------------------------------------- HMAC */

int32_t nimbus_freertos_hmac_sha256(void *ctx, const uint8_t *key, size_t key_len,
                                    const uint8_t *msg, size_t msg_len, uint8_t *out)
{
    (void)ctx;
    return nimbus_net_hmac_sha256(key, key_len, msg, msg_len, out);
}
