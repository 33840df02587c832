/* Stand-in for <zephyr/sys/util.h>: the subset the port uses. */
#ifndef STANDIN_ZEPHYR_SYS_UTIL_H
#define STANDIN_ZEPHYR_SYS_UTIL_H
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define ARG_UNUSED(x) (void)(x)
#endif
