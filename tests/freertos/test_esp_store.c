/*
 * test_esp_store.c - the ESP-IDF NVS store (ports/freertos/esp_nvs_store.c)
 * against an in-memory NVS with ESP-IDF's semantics: keys, blobs, commit,
 * not found, a too-small buffer, a full partition, flash errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "nimbus_freertos.h"

#define SLOTS 8

static struct {
    char keys[SLOTS][16];
    uint8_t data[SLOTS][64];
    size_t len[SLOTS];
    bool used[SLOTS];
    int commits;
    esp_err_t fail; /* every call fails with it when set */
    char part[16], ns[16];
} nvs;

static int find(const char *key)
{
    for (int i = 0; i < SLOTS; i++) {
        if (nvs.used[i] && strcmp(nvs.keys[i], key) == 0) {
            return i;
        }
    }
    return -1;
}

esp_err_t nvs_open_from_partition(const char *part_name, const char *namespace_name,
                                  nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    if (nvs.fail != ESP_OK) {
        return nvs.fail;
    }
    assert_int_equal(open_mode, NVS_READWRITE);
    snprintf(nvs.part, sizeof nvs.part, "%s", part_name);
    snprintf(nvs.ns, sizeof nvs.ns, "%s", namespace_name);
    *out_handle = 7;
    return ESP_OK;
}

esp_err_t nvs_get_blob(nvs_handle_t handle, const char *key, void *out_value, size_t *length)
{
    assert_int_equal(handle, 7);
    if (nvs.fail != ESP_OK) {
        return nvs.fail;
    }
    int i = find(key);
    if (i < 0) {
        return ESP_ERR_NVS_NOT_FOUND;
    }
    if (*length < nvs.len[i]) {
        return ESP_ERR_NVS_INVALID_LENGTH;
    }
    memcpy(out_value, nvs.data[i], nvs.len[i]);
    *length = nvs.len[i];
    return ESP_OK;
}

esp_err_t nvs_set_blob(nvs_handle_t handle, const char *key, const void *value, size_t length)
{
    assert_int_equal(handle, 7);
    assert_true(strlen(key) <= 15);
    if (nvs.fail != ESP_OK) {
        return nvs.fail;
    }
    int i = find(key);
    for (int j = 0; i < 0 && j < SLOTS; j++) {
        if (!nvs.used[j]) {
            i = j;
        }
    }
    if (i < 0 || length > sizeof nvs.data[0]) {
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    snprintf(nvs.keys[i], sizeof nvs.keys[i], "%s", key);
    memcpy(nvs.data[i], value, length);
    nvs.len[i] = length;
    nvs.used[i] = true;
    return ESP_OK;
}

esp_err_t nvs_erase_key(nvs_handle_t handle, const char *key)
{
    assert_int_equal(handle, 7);
    if (nvs.fail != ESP_OK) {
        return nvs.fail;
    }
    int i = find(key);
    if (i < 0) {
        return ESP_ERR_NVS_NOT_FOUND;
    }
    nvs.used[i] = false;
    return ESP_OK;
}

esp_err_t nvs_commit(nvs_handle_t handle)
{
    assert_int_equal(handle, 7);
    nvs.commits++;
    return nvs.fail;
}

static int setup(void **state)
{
    (void)state;
    memset(&nvs, 0, sizeof nvs);
    return 0;
}

static void records_are_blobs_by_id_committed_at_once(void **state)
{
    (void)state;
    nimbus_esp_store_t s;
    assert_int_equal(nimbus_esp_store_init(&s, "nvs", "nimbus"), 0);
    assert_string_equal(nvs.part, "nvs");
    assert_string_equal(nvs.ns, "nimbus");
    uint8_t buf[32];
    assert_int_equal(nimbus_esp_store_read(&s, 16, buf, sizeof buf), 0);
    static const uint8_t rec[] = {0x85, 0x01, 0x00, 0x00, 0xf4, 0x41, 0x7b, 1, 2, 3, 4};
    assert_int_equal(nimbus_esp_store_write(&s, 16, rec, sizeof rec), 0);
    assert_int_equal(nvs.commits, 1);
    assert_int_equal(find("r16"), 0);
    assert_int_equal(nimbus_esp_store_read(&s, 16, buf, sizeof buf), (int)sizeof rec);
    assert_memory_equal(buf, rec, sizeof rec);
    /* Too long for the buffer: refused, not cut. */
    assert_int_equal(nimbus_esp_store_read(&s, 16, buf, 4), NIMBUS_ERR_BUFFER_TOO_SMALL);
    /* Length 0 erases, also what is not there; each is committed. */
    assert_int_equal(nimbus_esp_store_write(&s, 16, NULL, 0), 0);
    assert_int_equal(nimbus_esp_store_read(&s, 16, buf, sizeof buf), 0);
    assert_int_equal(nimbus_esp_store_write(&s, 16, NULL, 0), 0);
    assert_int_equal(nvs.commits, 3);
    /* The largest id still makes a key NVS takes. */
    assert_int_equal(nimbus_esp_store_write(&s, 65535, rec, sizeof rec), 0);
    assert_int_equal(find("r65535") >= 0, 1);
}

static void full_partitions_and_flash_errors_are_told_apart(void **state)
{
    (void)state;
    nimbus_esp_store_t s;
    assert_int_equal(nimbus_esp_store_init(&s, "nvs", "nimbus"), 0);
    uint8_t big[100] = {0};
    assert_int_equal(nimbus_esp_store_write(&s, 1, big, sizeof big), NIMBUS_ERR_STORAGE_TOO_SMALL);
    nvs.fail = ESP_FAIL;
    uint8_t buf[8];
    assert_int_equal(nimbus_esp_store_write(&s, 1, big, 8), NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(nimbus_esp_store_read(&s, 1, buf, sizeof buf), NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(nimbus_esp_store_init(&s, "nvs", "nimbus"), NIMBUS_ERR_TRANSPORT_FAILED);
    assert_int_equal(nimbus_esp_store_init(NULL, "nvs", "nimbus"), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_esp_store_read(NULL, 1, buf, sizeof buf), NIMBUS_ERR_NULL_ARGUMENT);
    assert_int_equal(nimbus_esp_store_write(&s, 1, NULL, 3), NIMBUS_ERR_NULL_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(records_are_blobs_by_id_committed_at_once, setup),
        cmocka_unit_test_setup(full_partitions_and_flash_errors_are_told_apart, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
