/*
 * main_host.c - the FreeRTOS sample on a host: the FreeRTOS POSIX
 * simulator or the project's stand-in kernel. Settings come from the
 * environment; the temperature is simulated. Runs until SIGTERM/SIGINT or
 * for NIMBUS_RUN_S seconds, then stops the client cleanly.
 *
 *   NIMBUS_CLOUD           aws (default) or azure
 *   NIMBUS_DEVICE_ID       thing name / device id (required)
 *   NIMBUS_HUB_HOST        Azure IoT Hub host name (Azure)
 *   NIMBUS_SAS_KEY         Azure SAS device key (base64); else X.509 only
 *   NIMBUS_BROKER_HOST     server name: SNI and certificate check (required)
 *   NIMBUS_BROKER_ADDRESS  address to connect to instead, e.g. 127.0.0.1
 *   NIMBUS_BROKER_PORT     port (default 8883)
 *   NIMBUS_CA, NIMBUS_CERT, NIMBUS_KEY   PEM files (CA required)
 *   NIMBUS_TELEMETRY_S     telemetry period in seconds (default 0: off)
 *   NIMBUS_RUN_S           stop after this many seconds (default: never)
 */
#define _GNU_SOURCE

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "app.h"

static volatile sig_atomic_t stop_signal;
static int exit_code;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static int host_entropy(void *user, uint8_t *out, size_t len)
{
    (void)user;
    while (len > 0) {
        size_t n = len < 256u ? len : 256u;
        if (getentropy(out, n) != 0) {
            return -1;
        }
        out += n;
        len -= n;
    }
    return 0;
}

static void host_log(void *user, nimbus_freertos_log_level_t level, const char *line)
{
    static const char *const names[] = {"?", "E", "W", "I"};
    (void)user;
    unsigned i = (unsigned)level < 4u ? (unsigned)level : 0u;
    (void)printf("[%8llu ms] %s %s\n", (unsigned long long)nimbus_freertos_now_ms(), names[i],
                 line);
    (void)fflush(stdout);
}

static int64_t host_unix_time(void *user)
{
    (void)user;
    return (int64_t)time(NULL);
}

/* 21.50 C plus a slow wobble of up to 0.99 C. */
static int simulated_temperature(int32_t *centi)
{
    *centi = 2150 + (int32_t)((nimbus_freertos_now_ms() / 1000u) % 100u);
    return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

static void app_task(void *arg)
{
    (void)arg;
    app_settings_t s;
    memset(&s, 0, sizeof s);
    s.cloud = strcmp(env_or("NIMBUS_CLOUD", "aws"), "azure") == 0 ? NIMBUS_CLOUD_AZURE
                                                                   : NIMBUS_CLOUD_AWS;
    s.device_id = env_or("NIMBUS_DEVICE_ID", NULL);
    /* The hub host belongs to Azure only; AWS refuses one. */
    s.hub_host = s.cloud == NIMBUS_CLOUD_AZURE ? env_or("NIMBUS_HUB_HOST", NULL) : NULL;
    s.sas_key = s.cloud == NIMBUS_CLOUD_AZURE ? env_or("NIMBUS_SAS_KEY", NULL) : NULL;
    s.net.host = env_or("NIMBUS_BROKER_HOST", NULL);
    s.net.connect_address = env_or("NIMBUS_BROKER_ADDRESS", NULL);
    s.net.port = (uint16_t)atoi(env_or("NIMBUS_BROKER_PORT", "8883"));
    s.net.ca_file = env_or("NIMBUS_CA", NULL);
    s.net.cert_file = env_or("NIMBUS_CERT", NULL);
    s.net.key_file = env_or("NIMBUS_KEY", NULL);
    s.telemetry_period_s = (uint32_t)atoi(env_or("NIMBUS_TELEMETRY_S", "0"));
    s.read_temperature = simulated_temperature;
    long run_s = atol(env_or("NIMBUS_RUN_S", "0"));

    if (s.device_id == NULL || s.net.host == NULL) {
        host_log(NULL, NIMBUS_FREERTOS_LOG_ERROR, "NIMBUS_DEVICE_ID and NIMBUS_BROKER_HOST are required");
        exit_code = 2;
    } else if (app_start(&s) != NIMBUS_OK) {
        exit_code = 1;
    } else {
        uint64_t until = run_s > 0 ? nimbus_freertos_now_ms() + (uint64_t)run_s * 1000u : UINT64_MAX;
        while (stop_signal == 0 && nimbus_freertos_now_ms() < until) {
            vTaskDelay(pdMS_TO_TICKS(50));
        }
        host_log(NULL, NIMBUS_FREERTOS_LOG_INFO, "stopping");
        app_stop();
    }
    vTaskEndScheduler();
    vTaskDelete(NULL);
}

void vAssertCalled(const char *file, unsigned long line)
{
    (void)fprintf(stderr, "configASSERT failed at %s:%lu\n", file, line);
    abort();
}

int main(void)
{
    nimbus_freertos_hooks_t hooks = {
        .entropy = host_entropy, .log = host_log, .unix_time_s = host_unix_time};
    nimbus_freertos_set_hooks(&hooks);
    (void)signal(SIGTERM, on_signal);
    (void)signal(SIGINT, on_signal);
    if (xTaskCreate(app_task, "app", 16384, NULL, tskIDLE_PRIORITY + 2, NULL) != pdPASS) {
        return 1;
    }
    vTaskStartScheduler();
    host_log(NULL, NIMBUS_FREERTOS_LOG_INFO, "scheduler ended");
    return exit_code;
}
