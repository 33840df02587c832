/* Stand-in for <zephyr/device.h>: the fields the port reads. */
#ifndef STANDIN_ZEPHYR_DEVICE_H
#define STANDIN_ZEPHYR_DEVICE_H
#include <stdbool.h>
struct device {
    const char *name;
    const void *config;
    const void *api;
    void *data;
};
bool device_is_ready(const struct device *dev);
#endif
