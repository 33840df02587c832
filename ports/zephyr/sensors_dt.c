/*
 * sensors_dt.c - the sensor table built from devicetree: every child of
 * a "nimbus,sensors" node (zephyr/dts/bindings/nimbus,sensors.yaml).
 */
#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/sys/util.h>

#include "nimbus_zephyr.h"

#define DT_DRV_COMPAT nimbus_sensors

#if DT_HAS_COMPAT_STATUS_OKAY(nimbus_sensors)

#define NIMBUS_SENSOR_ENTRY(node)                                                   \
    {                                                                               \
        .dev = DEVICE_DT_GET(DT_PHANDLE(node, sensor)),                             \
        .chan = UTIL_CAT(SENSOR_CHAN_, DT_STRING_UPPER_TOKEN(node, channel)),       \
        .id = DT_PROP(node, nimbus_id),                                             \
        .decimals = DT_PROP(node, decimals),                                        \
        .type = DT_PROP(node, sensor_type),                                         \
        .unit = DT_PROP(node, unit),                                                \
    },

#define NIMBUS_SENSOR_LIST(inst) DT_INST_FOREACH_CHILD_STATUS_OKAY(inst, NIMBUS_SENSOR_ENTRY)

const nimbus_zephyr_sensor_t nimbus_zephyr_dt_sensors[] = {
    DT_INST_FOREACH_STATUS_OKAY(NIMBUS_SENSOR_LIST)};
const size_t nimbus_zephyr_dt_sensor_count = ARRAY_SIZE(nimbus_zephyr_dt_sensors);

#else

const nimbus_zephyr_sensor_t nimbus_zephyr_dt_sensors[1];
const size_t nimbus_zephyr_dt_sensor_count;

#endif
