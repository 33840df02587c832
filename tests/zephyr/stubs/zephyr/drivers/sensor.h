/* Stand-in for <zephyr/drivers/sensor.h>: the value type, a few channels
 * (v4.1 numbering) and the two calls the port makes. */
#ifndef STANDIN_ZEPHYR_DRIVERS_SENSOR_H
#define STANDIN_ZEPHYR_DRIVERS_SENSOR_H
#include <stdint.h>
#include <zephyr/device.h>

struct sensor_value {
    int32_t val1; /* integer part */
    int32_t val2; /* fractional part, in millionths, same sign as val1 */
};

enum sensor_channel {
    SENSOR_CHAN_ACCEL_X = 0,
    SENSOR_CHAN_ACCEL_Y,
    SENSOR_CHAN_ACCEL_Z,
    SENSOR_CHAN_DIE_TEMP = 12,
    SENSOR_CHAN_AMBIENT_TEMP = 13,
    SENSOR_CHAN_PRESS = 14,
    SENSOR_CHAN_HUMIDITY = 16,
};

int sensor_sample_fetch(const struct device *dev);
int sensor_channel_get(const struct device *dev, enum sensor_channel chan,
                       struct sensor_value *val);
#endif
