/*
 * FreeRTOSConfig.h - kernel configuration of the host build of the
 * FreeRTOS sample: the FreeRTOS POSIX simulator (the kernel's
 * portable/ThirdParty/GCC/Posix port) or the project's stand-in kernel
 * (tests/freertos/standin), which reads only configTICK_RATE_HZ.
 *
 * What the Nimbus port needs from any FreeRTOSConfig.h:
 *   configUSE_RECURSIVE_MUTEXES 1, configSUPPORT_STATIC_ALLOCATION 1
 *   (the client lock is a static recursive mutex),
 *   configUSE_TASK_NOTIFICATIONS 1 (the default), and
 *   configSUPPORT_DYNAMIC_ALLOCATION 1 for nimbus_freertos_start()
 *   (nimbus_freertos_start_static() does without).
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#define configUSE_PREEMPTION 1
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#define configUSE_IDLE_HOOK 0
#define configUSE_TICK_HOOK 0
#define configTICK_RATE_HZ 1000
#define configMAX_PRIORITIES 7
#define configMINIMAL_STACK_SIZE ((unsigned short)4096)
#define configMAX_TASK_NAME_LEN 16
#define configTICK_TYPE_WIDTH_IN_BITS TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD 1
#define configUSE_TASK_NOTIFICATIONS 1
#define configUSE_MUTEXES 1
#define configUSE_RECURSIVE_MUTEXES 1
#define configUSE_COUNTING_SEMAPHORES 1
#define configQUEUE_REGISTRY_SIZE 0
#define configUSE_TIME_SLICING 1
#define configSTACK_DEPTH_TYPE uint32_t

#define configSUPPORT_STATIC_ALLOCATION 1
#define configSUPPORT_DYNAMIC_ALLOCATION 1
#define configKERNEL_PROVIDED_STATIC_MEMORY 1
#define configTOTAL_HEAP_SIZE ((size_t)(1024 * 1024))
#define configAPPLICATION_ALLOCATED_HEAP 0

#define configCHECK_FOR_STACK_OVERFLOW 0
#define configUSE_MALLOC_FAILED_HOOK 0
#define configUSE_TIMERS 0
#define configUSE_CO_ROUTINES 0
#define configGENERATE_RUN_TIME_STATS 0
#define configUSE_TRACE_FACILITY 0

#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskDelay 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_xTaskGetSchedulerState 1

#define configASSERT(x)                                                        \
    do {                                                                       \
        if (!(x)) {                                                            \
            vAssertCalled(__FILE__, __LINE__);                                 \
        }                                                                      \
    } while (0)
void vAssertCalled(const char *file, unsigned long line);

#endif /* FREERTOS_CONFIG_H */
