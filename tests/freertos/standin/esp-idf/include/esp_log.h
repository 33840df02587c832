/*
 * esp_log.h - stand-in for ESP-IDF's logging header: the ESP_LOGx macro
 * names the port uses, over one declared (never linked) function.
 */
#pragma once
void esp_log_write_standin(char level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define ESP_LOGE(tag, fmt, ...) esp_log_write_standin('E', tag, fmt, ##__VA_ARGS__)
#define ESP_LOGW(tag, fmt, ...) esp_log_write_standin('W', tag, fmt, ##__VA_ARGS__)
#define ESP_LOGI(tag, fmt, ...) esp_log_write_standin('I', tag, fmt, ##__VA_ARGS__)
