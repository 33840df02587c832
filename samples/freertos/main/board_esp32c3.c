/*
 * board_esp32c3.c - the sample on an ESP32-C3: Wi-Fi (or Ethernet) via
 * ESP-IDF's example connect helper, SNTP for the wall clock, the chip's
 * internal temperature sensor as sensor 0, credentials embedded from
 * main/certs/, then the shared application (app.c).
 */
#include <string.h>

#include "driver/temperature_sensor.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_sntp.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

#include "app.h"

static const char *const TAG = "sample";

extern const char ca_pem_start[] asm("_binary_ca_pem_start");
extern const char device_crt_start[] asm("_binary_device_crt_start");
extern const char device_key_start[] asm("_binary_device_key_start");

static temperature_sensor_handle_t tsens;

/* Sensor 0: the die temperature, in hundredths of a degree Celsius. */
static int read_die_temperature(int32_t *centi)
{
    float celsius = 0.0f;
    if (temperature_sensor_get_celsius(tsens, &celsius) != ESP_OK) {
        return -1;
    }
    *centi = (int32_t)(celsius * 100.0f);
    return 0;
}

/* The station got its address again (Wi-Fi back after an outage): the
 * client tries at once instead of waiting out its backoff delay. */
static void on_got_ip(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    (void)id;
    (void)data;
    (void)nimbus_freertos_network_up(app_client());
}

void app_main(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect()); /* Wi-Fi settings: menuconfig */

    /* Azure SAS tokens need the time; certificates' validity too. */
    esp_sntp_config_t sntp = ESP_NETIF_SNTP_DEFAULT_CONFIG("pool.ntp.org");
    ESP_ERROR_CHECK(esp_netif_sntp_init(&sntp));
    if (esp_netif_sntp_sync_wait(pdMS_TO_TICKS(15000)) != ESP_OK) {
        ESP_LOGW(TAG, "no SNTP time yet; TLS may reject certificates");
    }

    temperature_sensor_config_t tcfg = TEMPERATURE_SENSOR_CONFIG_DEFAULT(-10, 80);
    ESP_ERROR_CHECK(temperature_sensor_install(&tcfg, &tsens));
    ESP_ERROR_CHECK(temperature_sensor_enable(tsens));

    app_settings_t s;
    memset(&s, 0, sizeof s);
#if defined(CONFIG_NIMBUS_SAMPLE_AZURE)
    s.cloud = NIMBUS_CLOUD_AZURE;
    s.hub_host = CONFIG_NIMBUS_SAMPLE_BROKER_HOST;
#else
    s.cloud = NIMBUS_CLOUD_AWS;
#endif
    s.device_id = CONFIG_NIMBUS_SAMPLE_DEVICE_ID;
    s.net.host = CONFIG_NIMBUS_SAMPLE_BROKER_HOST;
    s.net.port = CONFIG_NIMBUS_SAMPLE_BROKER_PORT;
    s.net.ca_pem = ca_pem_start;
    s.net.cert_pem = device_crt_start;
    s.net.key_pem = device_key_start;
    s.net.connect_timeout_ms = CONFIG_NIMBUS_CONNECT_TIMEOUT_MS;
    static const char *const aws_alpn[] = {"x-amzn-mqtt-ca", NULL};
    if (s.cloud == NIMBUS_CLOUD_AWS && s.net.port == 443) {
        s.net.alpn = aws_alpn;
    }
    s.telemetry_period_s = CONFIG_NIMBUS_TELEMETRY_PERIOD_S;
    s.read_temperature = read_die_temperature;
#if defined(CONFIG_NIMBUS_STORE_NVS)
    /* The boot counter and the queue of readings, in NVS (initialised
     * above): nothing accepted is lost to an outage or a power cut. */
    static nimbus_esp_store_t store;
    if (nimbus_esp_store_init(&store, CONFIG_NIMBUS_STORE_PARTITION, CONFIG_NIMBUS_STORE_NAMESPACE) == 0) {
        s.store_ctx = &store;
        s.store_read = nimbus_esp_store_read;
        s.store_write = nimbus_esp_store_write;
        s.queue_len = CONFIG_NIMBUS_QUEUE_LEN;
#if defined(CONFIG_NIMBUS_QUEUE_DROP_OLDEST)
        s.queue_drop_oldest = true;
#endif
#if defined(CONFIG_NIMBUS_QUEUE_BACKLOG_ONLY)
        s.queue_backlog_only = true;
#endif
    } else {
        ESP_LOGW(TAG, "no NVS store: readings wait in RAM only");
    }
#endif

    /* The port's ESP-IDF defaults: esp_fill_random, ESP_LOGx, time(). */
    if (app_start(&s) != NIMBUS_OK) {
        ESP_LOGE(TAG, "Nimbus did not start");
        return;
    }
    ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_got_ip, NULL));
}
