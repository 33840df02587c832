/*
 * nimbus_cross_mbedtls_config.h - mbedTLS 2.28 configuration for
 * cross-compiling the port against the host's (Debian's) mbedTLS headers:
 * Debian's configuration minus what a bare-metal FreeRTOS target has no
 * use for (pthreads, files, BSD sockets, HAVEGE). Used through
 * -DMBEDTLS_CONFIG_FILE; ESP-IDF brings its own configuration.
 */
#ifndef NIMBUS_CROSS_MBEDTLS_CONFIG_H
#define NIMBUS_CROSS_MBEDTLS_CONFIG_H

#include "mbedtls/config.h"

#undef MBEDTLS_THREADING_C
#undef MBEDTLS_THREADING_PTHREAD
#undef MBEDTLS_FS_IO
#undef MBEDTLS_NET_C
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_HAVEGE_C

#endif /* NIMBUS_CROSS_MBEDTLS_CONFIG_H */
