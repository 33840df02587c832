/* Stand-in for <zephyr/fs/zms.h>: the fields and calls the port uses,
 * with the signatures of Zephyr's header. */
#ifndef STANDIN_ZEPHYR_FS_ZMS_H
#define STANDIN_ZEPHYR_FS_ZMS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zephyr/device.h>
typedef uint32_t zms_id_t;
struct zms_fs {
    off_t offset;
    uint32_t sector_size;
    uint32_t sector_count;
    const struct device *flash_device;
};
int zms_mount(struct zms_fs *fs);
ssize_t zms_write(struct zms_fs *fs, zms_id_t id, const void *data, size_t len);
ssize_t zms_read(struct zms_fs *fs, zms_id_t id, void *data, size_t len);
int zms_delete(struct zms_fs *fs, zms_id_t id);
#endif
