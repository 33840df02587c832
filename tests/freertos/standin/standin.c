/*
 * standin.c - the stand-in FreeRTOS kernel on pthreads (see
 * include/FreeRTOS.h). Each task is a thread; tasks created
 * before vTaskStartScheduler() wait for it, as on the real kernel. Ticks
 * come from CLOCK_MONOTONIC at configTICK_RATE_HZ. Only what
 * ports/freertos uses is implemented; anything else is a link error.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_RECURSIVE, pthread_mutex_timedlock */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "standin.h"
#include "task.h"

struct tskTaskControlBlock {
    pthread_t thread;
    TaskFunction_t fn;
    void *arg;
    bool dynamic;            /* allocated by xTaskCreate: freed on delete */
    pthread_mutex_t lock;    /* guards notify */
    pthread_cond_t cond;     /* signalled by xTaskNotifyGive */
    uint32_t notify;         /* notification value (a counting semaphore) */
    char name[16];
};

struct QueueDefinition {
    pthread_mutex_t mutex;
    bool dynamic;
};

_Static_assert(sizeof(struct tskTaskControlBlock) <= sizeof(StaticTask_t),
               "StaticTask_t too small for the stand-in TCB");
_Static_assert(sizeof(struct QueueDefinition) <= sizeof(StaticSemaphore_t),
               "StaticSemaphore_t too small for the stand-in mutex");

static pthread_mutex_t sched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sched_cond = PTHREAD_COND_INITIALIZER;
static bool sched_started;
static bool sched_ended;
static unsigned live_tasks;
static uint64_t extra_ticks;
static struct timespec epoch;
static pthread_once_t epoch_once = PTHREAD_ONCE_INIT;

static _Thread_local struct tskTaskControlBlock *current;
static struct tskTaskControlBlock main_tcb; /* for code outside any task */
static pthread_once_t main_once = PTHREAD_ONCE_INIT;

static void die(const char *what)
{
    (void)fprintf(stderr, "standin: %s\n", what);
    abort();
}

/* ------------------------------------------------------------- ticks */

static void epoch_init(void)
{
    (void)clock_gettime(CLOCK_MONOTONIC, &epoch);
}

static uint64_t ticks64(void)
{
    struct timespec now;

    (void)pthread_once(&epoch_once, epoch_init);
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ns = (uint64_t)(now.tv_sec - epoch.tv_sec) * 1000000000u +
                  (uint64_t)now.tv_nsec - (uint64_t)epoch.tv_nsec;
    pthread_mutex_lock(&sched_lock);
    uint64_t extra = extra_ticks;
    pthread_mutex_unlock(&sched_lock);
    return ns / (1000000000u / configTICK_RATE_HZ) + extra;
}

void vStandinAddTicks(uint64_t ticks)
{
    pthread_mutex_lock(&sched_lock);
    extra_ticks += ticks;
    pthread_mutex_unlock(&sched_lock);
}

TickType_t xTaskGetTickCount(void)
{
    return (TickType_t)ticks64();
}

void vTaskSetTimeOutState(TimeOut_t *const pxTimeOut)
{
    uint64_t t = ticks64();
    pxTimeOut->xOverflowCount = (BaseType_t)(t >> 32);
    pxTimeOut->xTimeOnEntering = (TickType_t)t;
}

/* Absolute CLOCK_REALTIME deadline xTicks from now (for timed waits). */
static struct timespec deadline_after(TickType_t xTicks)
{
    struct timespec ts;
    uint64_t ns = (uint64_t)xTicks * (1000000000u / configTICK_RATE_HZ);

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    ns += (uint64_t)ts.tv_nsec;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

void vTaskDelay(const TickType_t xTicksToDelay)
{
    uint64_t ns = (uint64_t)xTicksToDelay * (1000000000u / configTICK_RATE_HZ);
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------- tasks */

static void tcb_init(struct tskTaskControlBlock *t, const char *name)
{
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    t->notify = 0;
    (void)snprintf(t->name, sizeof t->name, "%s", name != NULL ? name : "");
}

static void main_init(void)
{
    tcb_init(&main_tcb, "main");
    main_tcb.thread = pthread_self();
}

static void *task_entry(void *p)
{
    struct tskTaskControlBlock *t = p;

    current = t;
    pthread_mutex_lock(&sched_lock);
    while (!sched_started) {
        pthread_cond_wait(&sched_cond, &sched_lock);
    }
    pthread_mutex_unlock(&sched_lock);
    t->fn(t->arg);
    die("a task function returned (tasks must call vTaskDelete(NULL))");
    return NULL;
}

static BaseType_t start_task(struct tskTaskControlBlock *t, TaskFunction_t fn,
                             const char *name, void *arg)
{
    pthread_attr_t attr;

    tcb_init(t, name);
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&sched_lock);
    live_tasks++;
    pthread_mutex_unlock(&sched_lock);
    pthread_attr_init(&attr);
    int rc = pthread_create(&t->thread, &attr, task_entry, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&sched_lock);
        live_tasks--;
        pthread_mutex_unlock(&sched_lock);
        return pdFAIL;
    }
    return pdPASS;
}

BaseType_t xTaskCreate(TaskFunction_t pxTaskCode, const char *const pcName,
                       const configSTACK_DEPTH_TYPE uxStackDepth, void *const pvParameters,
                       UBaseType_t uxPriority, TaskHandle_t *const pxCreatedTask)
{
    (void)uxStackDepth; /* threads have their own stacks */
    (void)uxPriority;   /* and the host's scheduler */
    struct tskTaskControlBlock *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return pdFAIL;
    }
    t->dynamic = true;
    if (pxCreatedTask != NULL) {
        *pxCreatedTask = t; /* before the task can run, as on the kernel */
    }
    if (start_task(t, pxTaskCode, pcName, pvParameters) != pdPASS) {
        free(t);
        return pdFAIL;
    }
    return pdPASS;
}

TaskHandle_t xTaskCreateStatic(TaskFunction_t pxTaskCode, const char *const pcName,
                               const configSTACK_DEPTH_TYPE uxStackDepth,
                               void *const pvParameters, UBaseType_t uxPriority,
                               StackType_t *const puxStackBuffer,
                               StaticTask_t *const pxTaskBuffer)
{
    (void)uxStackDepth;
    (void)uxPriority;
    if (puxStackBuffer == NULL || pxTaskBuffer == NULL) {
        return NULL;
    }
    struct tskTaskControlBlock *t = (struct tskTaskControlBlock *)(void *)pxTaskBuffer;
    memset(t, 0, sizeof *t);
    return start_task(t, pxTaskCode, pcName, pvParameters) == pdPASS ? t : NULL;
}

static void tcb_free(struct tskTaskControlBlock *t)
{
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    if (t->dynamic) {
        free(t);
    }
}

void vTaskDelete(TaskHandle_t xTaskToDelete)
{
    struct tskTaskControlBlock *self = current;
    struct tskTaskControlBlock *t = xTaskToDelete != NULL ? xTaskToDelete : self;

    if (t == NULL || t == &main_tcb) {
        die("vTaskDelete(NULL) outside a task");
    }
    pthread_mutex_lock(&sched_lock);
    live_tasks--;
    pthread_mutex_unlock(&sched_lock);
    if (t == self) {
        current = NULL;
        pthread_detach(pthread_self());
        tcb_free(t);
        pthread_exit(NULL);
    }
    /* Another task: it is blocked (tasks here only block in the kernel's
     * calls, which are cancellation points) or about to block; end it and
     * wait, so its control block and stack may be reused at once, as
     * after vTaskDelete() on the kernel. */
    pthread_cancel(t->thread);
    pthread_join(t->thread, NULL);
    tcb_free(t);
}

unsigned uxStandinLiveTasks(void)
{
    pthread_mutex_lock(&sched_lock);
    unsigned n = live_tasks;
    pthread_mutex_unlock(&sched_lock);
    return n;
}

TaskHandle_t xTaskGetCurrentTaskHandle(void)
{
    if (current == NULL) {
        (void)pthread_once(&main_once, main_init);
        return &main_tcb;
    }
    return current;
}

void vTaskStartScheduler(void)
{
    pthread_mutex_lock(&sched_lock);
    sched_started = true;
    pthread_cond_broadcast(&sched_cond);
    while (!sched_ended) {
        pthread_cond_wait(&sched_cond, &sched_lock);
    }
    pthread_mutex_unlock(&sched_lock);
}

void vTaskEndScheduler(void)
{
    pthread_mutex_lock(&sched_lock);
    sched_ended = true;
    pthread_cond_broadcast(&sched_cond);
    pthread_mutex_unlock(&sched_lock);
}

/* ----------------------------------------------------- notifications */

static void unlock_mutex(void *m)
{
    pthread_mutex_unlock(m);
}

BaseType_t xTaskNotifyGive(TaskHandle_t xTaskToNotify)
{
    configASSERT(xTaskToNotify != NULL);
    pthread_mutex_lock(&xTaskToNotify->lock);
    xTaskToNotify->notify++;
    pthread_cond_signal(&xTaskToNotify->cond);
    pthread_mutex_unlock(&xTaskToNotify->lock);
    return pdPASS;
}

uint32_t ulTaskNotifyTake(BaseType_t xClearCountOnExit, TickType_t xTicksToWait)
{
    struct tskTaskControlBlock *t = xTaskGetCurrentTaskHandle();
    struct timespec until = deadline_after(xTicksToWait);
    uint32_t value;

    pthread_mutex_lock(&t->lock);
    pthread_cleanup_push(unlock_mutex, &t->lock); /* vTaskDelete() may cancel */
    while (t->notify == 0 && xTicksToWait > 0) {
        int rc = xTicksToWait == portMAX_DELAY
                     ? pthread_cond_wait(&t->cond, &t->lock)
                     : pthread_cond_timedwait(&t->cond, &t->lock, &until);
        if (rc == ETIMEDOUT) {
            break;
        }
    }
    value = t->notify;
    if (value > 0) {
        t->notify = xClearCountOnExit != pdFALSE ? 0 : value - 1u;
    }
    pthread_cleanup_pop(1);
    return value;
}

/* ----------------------------------------------------------- mutexes */

static SemaphoreHandle_t mutex_init(struct QueueDefinition *q, bool dynamic)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(&q->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        return NULL;
    }
    q->dynamic = dynamic;
    return q;
}

SemaphoreHandle_t xSemaphoreCreateRecursiveMutex(void)
{
    struct QueueDefinition *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return NULL;
    }
    SemaphoreHandle_t h = mutex_init(q, true);
    if (h == NULL) {
        free(q);
    }
    return h;
}

SemaphoreHandle_t xSemaphoreCreateRecursiveMutexStatic(StaticSemaphore_t *pxMutexBuffer)
{
    if (pxMutexBuffer == NULL) {
        return NULL;
    }
    struct QueueDefinition *q = (struct QueueDefinition *)(void *)pxMutexBuffer;
    memset(q, 0, sizeof *q);
    return mutex_init(q, false);
}

BaseType_t xSemaphoreTakeRecursive(SemaphoreHandle_t xMutex, TickType_t xBlockTime)
{
    int rc;

    if (xBlockTime == portMAX_DELAY) {
        rc = pthread_mutex_lock(&xMutex->mutex);
    } else if (xBlockTime == 0) {
        rc = pthread_mutex_trylock(&xMutex->mutex);
    } else {
        struct timespec until = deadline_after(xBlockTime);
        rc = pthread_mutex_timedlock(&xMutex->mutex, &until);
    }
    return rc == 0 ? pdPASS : pdFAIL;
}

BaseType_t xSemaphoreGiveRecursive(SemaphoreHandle_t xMutex)
{
    return pthread_mutex_unlock(&xMutex->mutex) == 0 ? pdPASS : pdFAIL;
}

void vSemaphoreDelete(SemaphoreHandle_t xSemaphore)
{
    if (xSemaphore == NULL) {
        return;
    }
    pthread_mutex_destroy(&xSemaphore->mutex);
    if (xSemaphore->dynamic) {
        free(xSemaphore);
    }
}
