/* Stand-in for <zephyr/random/random.h>. */
#ifndef STANDIN_ZEPHYR_RANDOM_RANDOM_H
#define STANDIN_ZEPHYR_RANDOM_RANDOM_H
#include <stddef.h>
void sys_rand_get(void *dst, size_t len);
#endif
