/*
 * nimbus_posix.h - the Nimbus port for POSIX hosts (Linux, macOS, BSD).
 *
 * Provides the non-blocking transport the Nimbus core drives (TCP, then
 * TLS through mbedTLS), a poll() helper for the host's main loop, and the
 * platform services the core needs: a monotonic clock, random numbers and
 * HMAC-SHA256 (for Azure SAS tokens).
 *
 * The transport is the shared one of ports/common (nimbus_net.h); this
 * header gives it the POSIX port's names. Transport functions follow the
 * core's transport interface exactly:
 *   int32_t open(void *ctx);
 *   int32_t send(void *ctx, const uint8_t *buf, size_t len);
 *   int32_t recv(void *ctx, uint8_t *buf, size_t len);
 *   void    close(void *ctx);
 * with ctx pointing to an initialised nimbus_posix_transport_t.
 * Every int32_t result is >= 0 on success and a NIMBUS_ERR_* value
 * (negative) on failure.
 *
 * Memory: the transport lives entirely in the caller's
 * nimbus_posix_transport_t (about 3.4 KiB on x86_64 with mbedTLS 2.28,
 * see the README); the port itself never calls malloc. mbedTLS allocates
 * its record buffers, parsed certificates and the SNI name with its
 * default calloc/free; that happens in init and on each open.
 */
#ifndef NIMBUS_POSIX_H
#define NIMBUS_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nimbus_net.h" /* ports/common: the shared socket + TLS transport */

#ifdef __cplusplus
extern "C" {
#endif

/* Errors are the core's NIMBUS_ERR_* values (negative), from nimbus.h. */

/** Connect + handshake timeout used when the configuration says 0. */
#define NIMBUS_POSIX_DEFAULT_CONNECT_TIMEOUT_MS NIMBUS_NET_DEFAULT_CONNECT_TIMEOUT_MS

/** How many resolved addresses of the server are tried, in order. */
#define NIMBUS_POSIX_MAX_ADDRS NIMBUS_NET_MAX_ADDRS

/** Length of an HMAC-SHA256 result in bytes. */
#define NIMBUS_POSIX_HMAC_SHA256_LEN NIMBUS_NET_HMAC_SHA256_LEN

/** Receives one log line (no trailing newline), e.g. why a certificate
 *  was rejected. Never receives key material. */
typedef nimbus_net_log_fn nimbus_posix_log_fn;

/**
 * Transport configuration (see nimbus_net_config_t for every field): host,
 * connect_address, port, ca_file/cert_file/key_file or the in-memory
 * ca_pem/cert_pem/key_pem, alpn, plain_tcp, connect_timeout_ms, log,
 * log_user. Copied by nimbus_posix_transport_init(); the strings and the
 * ALPN array it points to must outlive the transport. Log lines go to
 * stderr when log is NULL.
 */
typedef nimbus_net_config_t nimbus_posix_config_t;

/**
 * One connection to one server. Treat all fields as private; allocate it
 * statically or on the stack and initialise it with
 * nimbus_posix_transport_init().
 */
typedef nimbus_net_transport_t nimbus_posix_transport_t;

/**
 * Validates cfg, copies it into t, and for TLS loads the CA, client
 * certificate and key and seeds the random generator. Does not connect.
 * Returns 0, -1 (t, cfg, host or, for TLS, ca_file NULL) or -2 (port 0,
 * cert_file without key_file or the reverse, unreadable or invalid PEM,
 * invalid ALPN list), -31 if the TLS library cannot be set up.
 * On failure t is left zeroed: open refuses it (-2), deinit is harmless.
 * Call it on a fresh or deinitialised transport only (not twice).
 */
int32_t nimbus_posix_transport_init(nimbus_posix_transport_t *t,
                                    const nimbus_posix_config_t *cfg);

/** Closes the connection and frees everything mbedTLS allocated for t.
 *  NULL is ignored. t may be initialised again afterwards. */
void nimbus_posix_transport_deinit(nimbus_posix_transport_t *t);

/**
 * Starts or continues the connection: resolves the server, connects
 * without blocking (trying each address), then runs the TLS handshake
 * step by step. Returns 1 when ready, 0 while in progress (call again,
 * e.g. after nimbus_posix_wait()), or -1, -2 (not initialised), -20
 * (refused, unreachable, resolution failed, connect timeout) or -31
 * (handshake or verification failed, handshake timeout). After a failure the next call starts over.
 * Name resolution uses getaddrinfo(), which may block for DNS.
 */
int32_t nimbus_posix_transport_open(void *ctx);

/**
 * Sends up to len bytes. Returns the number of bytes sent, 0 if the
 * socket would block (nothing was taken: call again later with the same
 * leading bytes), -1, -2 (TLS: the retry after a 0 was shorter than the
 * first attempt), -20, -21 (peer closed), -24 (not open) or -31.
 */
int32_t nimbus_posix_transport_send(void *ctx, const uint8_t *buf, size_t len);

/**
 * Receives up to len bytes. Returns the number of bytes received, 0 if
 * nothing is available now, -21 when the peer has closed (EOF, TLS
 * close-notify, reset), -1, -20, -24 (not open) or -31 (fatal TLS alert
 * or error).
 */
int32_t nimbus_posix_transport_recv(void *ctx, uint8_t *buf, size_t len);

/** Closes the link (TLS close-notify is attempted once, without
 *  waiting); open may be called again afterwards. NULL is ignored. */
void nimbus_posix_transport_close(void *ctx);

/**
 * Sleeps until the transport has something to do or timeout_ms passes:
 * the socket is readable, or writable while connecting or while a send
 * or the handshake waits for room. While connecting, the sleep also ends
 * at the connect deadline so open can report the timeout. Without a
 * socket it just sleeps. Returns 1 (event: call open/recv/send), 0 (time
 * passed), -1 or -20 (poll failed).
 */
int32_t nimbus_posix_wait(nimbus_posix_transport_t *t, uint32_t timeout_ms);

/**
 * The store of the client's persistent records (nimbus_platform_t's
 * store_read/store_write with ctx = the store): one file per record in a
 * directory, `<dir>/<id>.rec`, each replaced atomically (temporary file,
 * fsync, rename, directory fsync), so a kill or a crash leaves the old
 * record or the new one, never a mix.
 */
typedef struct nimbus_posix_store {
    char dir[240]; /**< the directory, NUL-terminated */
} nimbus_posix_store_t;

/** Uses (and creates, mode 0700) the directory dir. Returns 0, -1 (NULL)
 *  or -2 (empty or too long a path), -20 (it cannot be created). */
int32_t nimbus_posix_store_init(nimbus_posix_store_t *s, const char *dir);

/** store_read: record id into buf (cap bytes); its length, 0 when there
 *  is none, or -1, -2 (longer than cap), -20 (I/O error). */
int32_t nimbus_posix_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap);

/** store_write: record id, len bytes of data, atomically; 0, -1, -20. */
int32_t nimbus_posix_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len);

/** Milliseconds from CLOCK_MONOTONIC (never goes back; arbitrary epoch). */
uint64_t nimbus_posix_now_ms(void);

/**
 * A random 32-bit value from the OS (getentropy()). Meant for packet ids,
 * client tokens and back-off jitter, not for keys: if the OS source ever
 * fails, a logged fallback mixes the clock and a counter.
 */
uint32_t nimbus_posix_random_u32(void);

/**
 * HMAC-SHA256 of msg under key into out (32 bytes) through mbedTLS.
 * key or msg may be NULL only when their length is 0. Returns 0, -1
 * (NULL out, or NULL with a non-zero length) or -2 (mbedTLS refused).
 */
int32_t nimbus_posix_hmac_sha256(const uint8_t *key, size_t key_len,
                                 const uint8_t *msg, size_t msg_len,
                                 uint8_t out[NIMBUS_POSIX_HMAC_SHA256_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* NIMBUS_POSIX_H */
