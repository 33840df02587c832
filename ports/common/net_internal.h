/*
 * net_internal.h - shared between the source files of ports/common only.
 */
#ifndef NIMBUS_NET_INTERNAL_H
#define NIMBUS_NET_INTERNAL_H

#include "nimbus_net.h"

#if defined(__GNUC__)
#define NIMBUS_NET_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NIMBUS_NET_PRINTF(fmt, args)
#endif

/** Shorthand for the negated error codes the functions return. */
#define NN_ERR(name) ((int32_t)NIMBUS_ERR_##name)

/** Formats one line and hands it to t's log sink (nimbus_net_os_log() if
 *  none or if t is NULL). Lines longer than 255 bytes are cut. */
void nimbus_net_log(const nimbus_net_transport_t *t, const char *fmt, ...)
    NIMBUS_NET_PRINTF(2, 3);

/* --- TLS through mbedTLS (net_tls_mbedtls.c) --- */

/** Loads CA, client certificate and key, seeds the DRBG, builds the TLS
 *  configuration and binds the session to it. 0, -2 or -31. */
int32_t nimbus_net_tls_init(nimbus_net_transport_t *t);

/** Frees everything nimbus_net_tls_init() set up. */
void nimbus_net_tls_free(nimbus_net_transport_t *t);

/** Prepares a fresh session over t->fd: SNI/verify name and I/O. 0 or -31. */
int32_t nimbus_net_tls_start(nimbus_net_transport_t *t);

/** One handshake step: 1 done, 0 in progress, -31 failed (logged). */
int32_t nimbus_net_tls_handshake(nimbus_net_transport_t *t);

/** Writes application data: bytes taken, 0 would block, or < 0. */
int32_t nimbus_net_tls_send(nimbus_net_transport_t *t, const uint8_t *buf, size_t len);

/** Reads application data: bytes, 0 nothing now, or < 0 (-21 on close). */
int32_t nimbus_net_tls_recv(nimbus_net_transport_t *t, uint8_t *buf, size_t len);

/** Sends close-notify once if the session is up, then resets the
 *  session so a new handshake can start. Does not close the socket. */
void nimbus_net_tls_close(nimbus_net_transport_t *t);

/** True if decrypted bytes are buffered (poll() would not see them). */
bool nimbus_net_tls_has_pending(const nimbus_net_transport_t *t);

#endif /* NIMBUS_NET_INTERNAL_H */
