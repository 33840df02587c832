/*
 * sensors.c - reads Zephyr sensor channels as Nimbus fixed-point values.
 */
#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/logging/log.h>

#include "nimbus_zephyr.h"

LOG_MODULE_DECLARE(nimbus, CONFIG_NIMBUS_LOG_LEVEL);

#define NZ_ERR(name) ((int32_t)NIMBUS_ERR_##name)

/* 10^(6 - decimals): what a micro-unit is divided by. */
static const int32_t divisor[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
/* 10^decimals: what a whole unit is multiplied by. */
static const int32_t multiplier[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};

int32_t nimbus_zephyr_sensor_value_to_fixed(const struct sensor_value *v, uint8_t decimals,
                                            int64_t *mantissa)
{
    if (v == NULL || mantissa == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    if (decimals > 6) {
        return NZ_ERR(INVALID_ARGUMENT);
    }
    /* val1 and val2 carry the same sign (-1.5 is -1, -500000); |val2| <
     * 10^6, so neither product can overflow 64 bits. */
    *mantissa = (int64_t)v->val1 * multiplier[decimals] + v->val2 / divisor[decimals];
    return 0;
}

int32_t nimbus_zephyr_sensor_read(const nimbus_zephyr_sensor_t *s, int64_t *mantissa,
                                  uint8_t *decimals)
{
    struct sensor_value v;

    if (s == NULL || s->dev == NULL || mantissa == NULL || decimals == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    if (!device_is_ready(s->dev)) {
        LOG_WRN("sensor %u: device %s is not ready", (unsigned)s->id, s->dev->name);
        return NZ_ERR(INVALID_ARGUMENT);
    }
    int ret = sensor_sample_fetch(s->dev);
    if (ret == 0) {
        ret = sensor_channel_get(s->dev, s->chan, &v);
    }
    if (ret != 0) {
        LOG_WRN("sensor %u (%s): read failed: %d", (unsigned)s->id, s->dev->name, ret);
        return NZ_ERR(TRANSPORT_FAILED);
    }
    int32_t r = nimbus_zephyr_sensor_value_to_fixed(&v, s->decimals, mantissa);
    if (r == 0) {
        *decimals = s->decimals;
    }
    return r;
}
