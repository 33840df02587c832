/*
 * platform.c - clock, random numbers and the log sink of the POSIX port:
 * what the shared transport asks of the OS (nimbus_net_os.h) and what the
 * Nimbus core asks of the platform.
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

#include "nimbus_posix.h"

uint64_t nimbus_posix_now_ms(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid pointer on POSIX 2008. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t nimbus_net_os_now_ms(void)
{
    return nimbus_posix_now_ms();
}

int nimbus_net_os_random(void *out, size_t len)
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

void nimbus_net_os_log(const char *line)
{
    (void)fprintf(stderr, "nimbus-posix: %s\n", line);
}

uint32_t nimbus_posix_random_u32(void)
{
    uint32_t value = 0;

    if (nimbus_net_os_random(&value, sizeof value) == 0) {
        return value;
    }
    /* Not expected on any supported OS; keep working but say so once. */
    static uint32_t counter;
    static bool warned;
    if (!warned) {
        char line[160];
        warned = true;
        (void)snprintf(line, sizeof line,
                       "getentropy failed (%s): random numbers fall back to clock mixing",
                       strerror(errno));
        nimbus_net_os_log(line);
    }
    uint64_t x = nimbus_posix_now_ms() ^ ((uint64_t)++counter << 32);
    /* splitmix64 finaliser: spreads the few changing bits. */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (uint32_t)x;
}
