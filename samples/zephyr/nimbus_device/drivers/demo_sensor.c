/*
 * demo_sensor.c - a sensor driver without hardware for the sample: an
 * ambient temperature that moves between 20.00 and 24.99 C.
 */
#define DT_DRV_COMPAT nimbus_demo_sensor

#include <errno.h>

#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>

struct demo_data {
    uint32_t fetches;
    int32_t centi_c;
};

struct demo_config {
    uint32_t fail_every;
};

static int demo_fetch(const struct device *dev, enum sensor_channel chan)
{
    struct demo_data *d = dev->data;
    const struct demo_config *cfg = dev->config;

    if (chan != SENSOR_CHAN_ALL && chan != SENSOR_CHAN_AMBIENT_TEMP) {
        return -ENOTSUP;
    }
    d->fetches++;
    if (cfg->fail_every != 0 && d->fetches % cfg->fail_every == 0) {
        return -EIO;
    }
    d->centi_c = 2000 + (int32_t)((d->fetches * 37u) % 500u);
    return 0;
}

static int demo_get(const struct device *dev, enum sensor_channel chan,
                    struct sensor_value *val)
{
    const struct demo_data *d = dev->data;

    if (chan != SENSOR_CHAN_AMBIENT_TEMP) {
        return -ENOTSUP;
    }
    val->val1 = d->centi_c / 100;
    val->val2 = (d->centi_c % 100) * 10000;
    return 0;
}

static DEVICE_API(sensor, demo_api) = {
    .sample_fetch = demo_fetch,
    .channel_get = demo_get,
};

#define DEMO_SENSOR(inst)                                                        \
    static struct demo_data demo_data_##inst;                                    \
    static const struct demo_config demo_config_##inst = {                       \
        .fail_every = DT_INST_PROP(inst, fail_every),                            \
    };                                                                           \
    SENSOR_DEVICE_DT_INST_DEFINE(inst, NULL, NULL, &demo_data_##inst,            \
                                 &demo_config_##inst, POST_KERNEL,               \
                                 CONFIG_SENSOR_INIT_PRIORITY, &demo_api);

DT_INST_FOREACH_STATUS_OKAY(DEMO_SENSOR)
