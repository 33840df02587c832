/*
 * nimbus_freertos_config.h - build-time settings of the FreeRTOS port.
 *
 * Each may be set with -D (plain CMake: target_compile_definitions) or,
 * under ESP-IDF, from the component's Kconfig menu (CONFIG_NIMBUS_*).
 */
#ifndef NIMBUS_FREERTOS_CONFIG_H
#define NIMBUS_FREERTOS_CONFIG_H

#if defined(ESP_PLATFORM)
#include "sdkconfig.h"
#endif

/** Longest stretch, in ms, that the Nimbus task waits on the socket before
 *  it looks at its task notification again, and so the latest a call from
 *  another task is acted on when the socket wait blocks; with
 *  non-blocking socket checks (the default) also the socket's latency. */
#ifndef NIMBUS_FREERTOS_WAIT_SLICE_MS
#if defined(CONFIG_NIMBUS_WAIT_SLICE_MS)
#define NIMBUS_FREERTOS_WAIT_SLICE_MS CONFIG_NIMBUS_WAIT_SLICE_MS
#else
#define NIMBUS_FREERTOS_WAIT_SLICE_MS 20
#endif
#endif

/** 1: the Nimbus task blocks in select() for up to a slice (lwIP, where
 *  select() blocks only the calling task). 0: it checks the socket with
 *  a zero timeout and sleeps in ulTaskNotifyTake() instead (required on
 *  the FreeRTOS POSIX simulator, whose tasks must not block in the
 *  host's system calls). */
#ifndef NIMBUS_FREERTOS_BLOCKING_SELECT
#if defined(CONFIG_NIMBUS_BLOCKING_SELECT)
#define NIMBUS_FREERTOS_BLOCKING_SELECT 1
#else
#define NIMBUS_FREERTOS_BLOCKING_SELECT 0
#endif
#endif

/** How long the thread-safe calls wait for the client lock, in ms, before
 *  they give up with -5 (busy). */
#ifndef NIMBUS_FREERTOS_LOCK_TIMEOUT_MS
#if defined(CONFIG_NIMBUS_LOCK_TIMEOUT_MS)
#define NIMBUS_FREERTOS_LOCK_TIMEOUT_MS CONFIG_NIMBUS_LOCK_TIMEOUT_MS
#else
#define NIMBUS_FREERTOS_LOCK_TIMEOUT_MS 1000
#endif
#endif

/** Stack of the Nimbus task when the application uses these defaults,
 *  in xTaskCreate() units (bytes on ESP-IDF, words elsewhere). The TLS
 *  handshake is the deepest path: about 6-8 KiB with ECDSA. */
#ifndef NIMBUS_FREERTOS_TASK_STACK_DEPTH
#if defined(CONFIG_NIMBUS_TASK_STACK_SIZE)
#define NIMBUS_FREERTOS_TASK_STACK_DEPTH CONFIG_NIMBUS_TASK_STACK_SIZE
#else
#define NIMBUS_FREERTOS_TASK_STACK_DEPTH 8192
#endif
#endif

/** Priority of the Nimbus task when the application uses the defaults. */
#ifndef NIMBUS_FREERTOS_TASK_PRIORITY
#if defined(CONFIG_NIMBUS_TASK_PRIORITY)
#define NIMBUS_FREERTOS_TASK_PRIORITY CONFIG_NIMBUS_TASK_PRIORITY
#else
#define NIMBUS_FREERTOS_TASK_PRIORITY 5
#endif
#endif

/** Longest log line the port formats (longer lines are cut). */
#ifndef NIMBUS_FREERTOS_LOG_LINE_MAX
#define NIMBUS_FREERTOS_LOG_LINE_MAX 160
#endif

#endif /* NIMBUS_FREERTOS_CONFIG_H */
