/*
 * FreeRTOS.h - the project's stand-in for the FreeRTOS kernel headers.
 *
 * Declares, with the kernel's names and signatures, only the part of the
 * FreeRTOS API that ports/freertos uses, so the port can be built and run
 * on a host without the kernel (tests/freertos/standin/standin.c
 * implements it on pthreads) and cross-compiled for a target. It is not
 * FreeRTOS: tasks are threads that really run in parallel, which is a
 * stricter test of the port's locking than a single-core scheduler.
 *
 * Like the real header, it includes the application's FreeRTOSConfig.h.
 */
#ifndef INC_FREERTOS_H
#define INC_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A 32-bit tick as on the MCU targets (ESP32-C3, Cortex-M), so that the
 * port's handling of its wrap is exercised; the other types as the
 * kernel's POSIX simulator port defines them. */
typedef uint32_t TickType_t;
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef unsigned long StackType_t;

#ifndef configSTACK_DEPTH_TYPE
#define configSTACK_DEPTH_TYPE StackType_t
#endif
#ifndef configTICK_RATE_HZ
#error "FreeRTOSConfig.h must define configTICK_RATE_HZ"
#endif
#ifndef configASSERT
#define configASSERT(x) ((void)0)
#endif

#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)
#define pdPASS pdTRUE
#define pdFAIL pdFALSE
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define portTICK_PERIOD_MS ((TickType_t)1000 / configTICK_RATE_HZ)
#ifndef pdMS_TO_TICKS
#define pdMS_TO_TICKS(xTimeInMs) \
    ((TickType_t)(((uint64_t)(xTimeInMs) * (uint64_t)configTICK_RATE_HZ) / (uint64_t)1000U))
#endif
#define tskIDLE_PRIORITY ((UBaseType_t)0U)

/* Opaque storage for statically allocated objects, as in the kernel:
 * large enough for the stand-in's own structures (checked in standin.c). */
typedef struct xSTATIC_TCB {
    uint64_t opaque[40];
} StaticTask_t;
typedef struct xSTATIC_QUEUE {
    uint64_t opaque[16];
} StaticQueue_t;
typedef StaticQueue_t StaticSemaphore_t;

#ifdef __cplusplus
}
#endif

#endif /* INC_FREERTOS_H */
