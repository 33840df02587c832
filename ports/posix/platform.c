/*
 * platform.c - clock, random numbers and HMAC-SHA256 for the Nimbus core
 * on POSIX hosts.
 */
#define _DEFAULT_SOURCE /* glibc: getentropy() and clock_gettime() */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__) || defined(__linux__)
#include <sys/random.h> /* getentropy() */
#endif

#include "posix_internal.h"

#include "mbedtls/md.h"

uint64_t nimbus_posix_now_ms(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid pointer on POSIX 2008. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int nimbus_posix_os_random(void *out, size_t len)
{
    unsigned char *p = out;

    while (len > 0) {
        size_t n = len < 256u ? len : 256u; /* getentropy()'s limit */
        if (getentropy(p, n) != 0) {
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

uint32_t nimbus_posix_random_u32(void)
{
    uint32_t value = 0;

    if (nimbus_posix_os_random(&value, sizeof value) == 0) {
        return value;
    }
    /* Not expected on any supported OS; keep working but say so once. */
    static uint32_t counter;
    static bool warned;
    if (!warned) {
        warned = true;
        nimbus_posix_log(NULL, "getentropy failed (%s): random numbers fall "
                               "back to clock mixing", strerror(errno));
    }
    uint64_t x = nimbus_posix_now_ms() ^ ((uint64_t)++counter << 32);
    /* splitmix64 finaliser: spreads the few changing bits. */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (uint32_t)x;
}

int32_t nimbus_posix_hmac_sha256(const uint8_t *key, size_t key_len,
                                 const uint8_t *msg, size_t msg_len,
                                 uint8_t out[NIMBUS_POSIX_HMAC_SHA256_LEN])
{
    static const uint8_t empty[1] = {0};

    if (out == NULL || (key == NULL && key_len > 0) || (msg == NULL && msg_len > 0)) {
        return NP_ERR(NULL_ARGUMENT);
    }
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL) {
        nimbus_posix_log(NULL, "mbedTLS is built without SHA-256");
        return NP_ERR(INVALID_ARGUMENT);
    }
    /* mbedTLS wants valid pointers even for empty inputs. */
    int ret = mbedtls_md_hmac(md, key != NULL ? key : empty, key_len,
                              msg != NULL ? msg : empty, msg_len, out);
    return ret == 0 ? 0 : NP_ERR(INVALID_ARGUMENT);
}
