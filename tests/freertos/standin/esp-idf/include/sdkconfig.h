/*
 * sdkconfig.h - stand-in for the header ESP-IDF generates from
 * menuconfig, for compiling the port's ESP-IDF code paths (ESP_PLATFORM)
 * without ESP-IDF: the Nimbus component's Kconfig defaults.
 */
#pragma once
#define CONFIG_IDF_TARGET_ESP32C3 1
#define CONFIG_NIMBUS_WAIT_SLICE_MS 50
#define CONFIG_NIMBUS_BLOCKING_SELECT 1
#define CONFIG_NIMBUS_LOCK_TIMEOUT_MS 1000
#define CONFIG_NIMBUS_TASK_STACK_SIZE 8192
#define CONFIG_NIMBUS_TASK_PRIORITY 5
#define CONFIG_NIMBUS_KEEPALIVE_S 60
#define CONFIG_NIMBUS_BUFFER_SIZE 6144
