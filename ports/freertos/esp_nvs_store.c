/*
 * esp_nvs_store.c - Nimbus's persistent records (the boot counter and the
 * queue of readings: nimbus_platform_t.store_read / store_write) in
 * ESP-IDF's NVS, one blob per record under the key "r<id>" in a namespace
 * of its own. ESP-IDF only (ESP_PLATFORM).
 *
 * NVS writes a key atomically (a write cut by a power loss leaves the old
 * value) and levels wear over its pages; each write is committed before
 * it returns, so a record the core was told is written survives a reset.
 */
#if defined(ESP_PLATFORM)

#include <stdio.h>

#include "nimbus_freertos.h"

/* "r" + up to 5 digits: within NVS's 15-character keys. */
static void key_of(uint16_t id, char out[8])
{
    (void)snprintf(out, 8, "r%u", (unsigned)id);
}

int32_t nimbus_esp_store_init(nimbus_esp_store_t *s, const char *partition, const char *ns)
{
    if (s == NULL || partition == NULL || ns == NULL) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    esp_err_t e = nvs_open_from_partition(partition, ns, NVS_READWRITE, &s->handle);
    return e == ESP_OK ? 0 : NIMBUS_ERR_TRANSPORT_FAILED;
}

int32_t nimbus_esp_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap)
{
    const nimbus_esp_store_t *s = ctx;
    if (s == NULL || buf == NULL || cap == 0) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    char key[8];
    key_of(id, key);
    size_t len = cap;
    switch (nvs_get_blob(s->handle, key, buf, &len)) {
    case ESP_OK: return (int32_t)len;
    case ESP_ERR_NVS_NOT_FOUND: return 0;
    case ESP_ERR_NVS_INVALID_LENGTH: return NIMBUS_ERR_BUFFER_TOO_SMALL;
    default: return NIMBUS_ERR_TRANSPORT_FAILED;
    }
}

int32_t nimbus_esp_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len)
{
    const nimbus_esp_store_t *s = ctx;
    if (s == NULL || (data == NULL && len > 0)) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    char key[8];
    key_of(id, key);
    esp_err_t e = len == 0 ? nvs_erase_key(s->handle, key) : nvs_set_blob(s->handle, key, data, len);
    if (e == ESP_ERR_NVS_NOT_FOUND && len == 0) {
        e = ESP_OK; /* deleting what is not there */
    }
    if (e == ESP_OK) {
        e = nvs_commit(s->handle);
    }
    switch (e) {
    case ESP_OK: return 0;
    case ESP_ERR_NVS_NOT_ENOUGH_SPACE: return NIMBUS_ERR_STORAGE_TOO_SMALL;
    default: return NIMBUS_ERR_TRANSPORT_FAILED;
    }
}

#endif
