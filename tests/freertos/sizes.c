/*
 * sizes.c - RAM the port's objects take on the target: each sizeof_<T>
 * symbol is an array as large as T, so the cross build's `nm -S` prints
 * the sizes without running anything.
 */
#include "nimbus_freertos.h"

/** Bytes of one transport (socket + mbedTLS state). */
char sizeof_nimbus_net_transport_t[sizeof(nimbus_net_transport_t)];
/** Bytes of one port instance (client storage + transport + lock). */
char sizeof_nimbus_freertos_t[sizeof(nimbus_freertos_t)];
