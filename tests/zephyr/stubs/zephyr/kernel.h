/* Stand-in for <zephyr/kernel.h>: the subset the port uses. */
#ifndef STANDIN_ZEPHYR_KERNEL_H
#define STANDIN_ZEPHYR_KERNEL_H
#include <stdint.h>
#include <zephyr/sys/util.h>

int64_t k_uptime_get(void);
int32_t k_msleep(int32_t ms);
#endif
