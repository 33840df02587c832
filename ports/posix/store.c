/*
 * store.c - the POSIX store for Nimbus's persistent records: one file per
 * record id in a directory, each replaced atomically (written to a
 * temporary file, fsync'ed, renamed over the old one, directory fsync'ed),
 * so a record is either the old or the new one after a crash or a kill.
 * A write of length 0 deletes the record (the file is unlinked).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nimbus_posix.h"

int32_t nimbus_posix_store_init(nimbus_posix_store_t *s, const char *dir)
{
    if (s == NULL || dir == NULL) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof s->dir - 16) {
        return NIMBUS_ERR_INVALID_ARGUMENT;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return NIMBUS_ERR_TRANSPORT_FAILED;
    }
    memcpy(s->dir, dir, n + 1);
    return 0;
}

static void record_path(const nimbus_posix_store_t *s, uint16_t id, const char *suffix,
                        char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/%u.rec%s", s->dir, (unsigned)id, suffix);
}

int32_t nimbus_posix_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap)
{
    const nimbus_posix_store_t *s = ctx;
    if (s == NULL || (buf == NULL && cap > 0)) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    char path[sizeof s->dir + 16];
    record_path(s, id, "", path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : NIMBUS_ERR_TRANSPORT_FAILED;
    }
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            /* Longer than any record the core writes: not one of ours. */
            uint8_t extra;
            ssize_t more = read(fd, &extra, 1);
            close(fd);
            return more == 0 ? (int32_t)len : NIMBUS_ERR_INVALID_ARGUMENT;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            close(fd);
            return NIMBUS_ERR_TRANSPORT_FAILED;
        }
        if (r == 0) {
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    return (int32_t)len;
}

/* A rename or an unlink is durable once the directory is. */
static int32_t sync_dir(const nimbus_posix_store_t *s)
{
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int32_t nimbus_posix_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len)
{
    const nimbus_posix_store_t *s = ctx;
    if (s == NULL || (data == NULL && len > 0)) {
        return NIMBUS_ERR_NULL_ARGUMENT;
    }
    char path[sizeof s->dir + 16], tmp[sizeof s->dir + 16];
    record_path(s, id, "", path, sizeof path);
    record_path(s, id, ".new", tmp, sizeof tmp);
    if (len == 0) {
        if (unlink(path) != 0 && errno != ENOENT) {
            return NIMBUS_ERR_TRANSPORT_FAILED;
        }
        return sync_dir(s);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return NIMBUS_ERR_TRANSPORT_FAILED;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return NIMBUS_ERR_TRANSPORT_FAILED;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return NIMBUS_ERR_TRANSPORT_FAILED;
    }
    return sync_dir(s);
}
