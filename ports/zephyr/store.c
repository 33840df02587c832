/*
 * store.c - Nimbus's persistent records (the boot counter and the queue of
 * readings: nimbus_platform_t.store_read / store_write) in Zephyr's NVS or
 * ZMS, chosen by Kconfig (CONFIG_NIMBUS_STORE_NVS / _ZMS), on a flash area
 * the application names: nimbus_zephyr_init() uses the `storage_partition`
 * fixed partition.
 *
 * Both keep a record as one entry with its own CRC and write it atomically
 * (a write cut by a power loss leaves the previous value), spread the
 * writes over their sectors, and delete with a small allocation-table
 * entry. A record id is the entry id.
 */
#include <errno.h>
#include <string.h>

#include <zephyr/drivers/flash.h>

#include "nimbus_zephyr.h"

#if defined(CONFIG_NIMBUS_STORE_NVS)
#define STORE_MOUNT nvs_mount
#define STORE_READ nvs_read
#define STORE_WRITE nvs_write
#define STORE_DELETE nvs_delete
#define STORE_MAX_SECTOR UINT16_MAX
typedef uint16_t store_sector_t;
#elif defined(CONFIG_NIMBUS_STORE_ZMS)
#define STORE_MOUNT zms_mount
#define STORE_READ zms_read
#define STORE_WRITE zms_write
#define STORE_DELETE zms_delete
#define STORE_MAX_SECTOR UINT32_MAX
typedef uint32_t store_sector_t;
#endif

#if defined(STORE_MOUNT)

int32_t nimbus_zephyr_store_init(nimbus_zephyr_store_t *s, const struct device *flash,
                                 off_t offset, size_t size)
{
    if (s == NULL || flash == NULL) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    if (!device_is_ready(flash)) {
        return NIMBUS_ERR_TRANSPORT_FAILED;
    }
    struct flash_pages_info page;
    if (flash_get_page_info_by_offs(flash, offset, &page) != 0 || page.size == 0 ||
        page.size > STORE_MAX_SECTOR) {
        return NIMBUS_ERR_INVALID_ARGUMENT;
    }
    /* Both need a spare sector for garbage collection. */
    size_t sectors = size / page.size;
    if (sectors < 2 || sectors > UINT16_MAX) {
        return NIMBUS_ERR_INVALID_ARGUMENT;
    }
    memset(s, 0, sizeof *s);
    s->fs.flash_device = flash;
    s->fs.offset = offset;
    s->fs.sector_size = (store_sector_t)page.size;
    s->fs.sector_count = (store_sector_t)sectors;
    return STORE_MOUNT(&s->fs) == 0 ? 0 : NIMBUS_ERR_TRANSPORT_FAILED;
}

int32_t nimbus_zephyr_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap)
{
    nimbus_zephyr_store_t *s = ctx;
    if (s == NULL || (buf == NULL && cap > 0)) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    ssize_t n = STORE_READ(&s->fs, id, buf, cap);
    if (n == -ENOENT) {
        return 0;
    }
    if (n < 0) {
        return NIMBUS_ERR_TRANSPORT_FAILED;
    }
    /* NVS says how long the entry is, even when it did not fit. */
    if ((size_t)n > cap) {
        return NIMBUS_ERR_BUFFER_TOO_SMALL;
    }
    return (int32_t)n;
}

int32_t nimbus_zephyr_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len)
{
    nimbus_zephyr_store_t *s = ctx;
    if (s == NULL || (data == NULL && len > 0)) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    if (len == 0) {
        int r = STORE_DELETE(&s->fs, id);
        return r == 0 || r == -ENOENT ? 0 : NIMBUS_ERR_TRANSPORT_FAILED;
    }
    /* The same bytes again write nothing (0): also a success. */
    ssize_t n = STORE_WRITE(&s->fs, id, data, len);
    if (n >= 0) {
        return 0;
    }
    return n == -ENOSPC ? NIMBUS_ERR_STORAGE_TOO_SMALL : NIMBUS_ERR_TRANSPORT_FAILED;
}

#endif
