/*
 * nimbus_net.h - the non-blocking socket + TLS transport shared by the
 * Nimbus ports that use BSD-style sockets and mbedTLS: the POSIX host port
 * and the FreeRTOS / ESP-IDF port (lwIP sockets).
 *
 * The transport functions follow the core's transport interface exactly:
 *   int32_t open(void *ctx);
 *   int32_t send(void *ctx, const uint8_t *buf, size_t len);
 *   int32_t recv(void *ctx, uint8_t *buf, size_t len);
 *   void    close(void *ctx);
 * with ctx pointing to an initialised nimbus_net_transport_t. Every
 * int32_t result is >= 0 on success and a NIMBUS_ERR_* value (negative) on
 * failure. What differs per OS (clock, entropy, log sink, socket header
 * names) is in nimbus_net_os.h and implemented by each port.
 *
 * Memory: the transport lives entirely in the caller's
 * nimbus_net_transport_t; this code never calls malloc. mbedTLS allocates
 * its record buffers, parsed certificates and the SNI name through its
 * configured calloc/free, in init and on each open.
 */
#ifndef NIMBUS_NET_H
#define NIMBUS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nimbus.h>

#include "nimbus_net_os.h"

/* mbedtls/version.h exists in every version and pulls in the build
 * configuration: mbedtls/config.h (or MBEDTLS_CONFIG_FILE) in 2.x,
 * mbedtls/build_info.h in 3.x, which is named here to be explicit. */
#include "mbedtls/version.h"
#if MBEDTLS_VERSION_MAJOR >= 3
#include "mbedtls/build_info.h"
#endif

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors are the core's nimbus_err_t values (negative), from nimbus.h:
 * NIMBUS_ERR_NULL_ARGUMENT, _INVALID_ARGUMENT (also a credential that
 * cannot be loaded), _TRANSPORT_FAILED (socket error, name resolution,
 * refused, unreachable, timed out), _CONNECTION_CLOSED (EOF, TLS
 * close-notify, reset), _NOT_CONNECTED (send/recv on a closed transport),
 * _TLS_FAILED (handshake, verification (logged), fatal alert). */

/** Connect + handshake timeout used when the configuration says 0. */
#define NIMBUS_NET_DEFAULT_CONNECT_TIMEOUT_MS 10000u

/** How many resolved addresses of the server are tried, in order. */
#define NIMBUS_NET_MAX_ADDRS 4

/** Length of an HMAC-SHA256 result in bytes. */
#define NIMBUS_NET_HMAC_SHA256_LEN 32

/** Receives one log line (no trailing newline), e.g. why a certificate
 *  was rejected. Never receives key material. */
typedef void (*nimbus_net_log_fn)(void *user, const char *line);

/**
 * Transport configuration. Copied by nimbus_net_init(); the strings and
 * the ALPN array it points to must outlive the transport.
 *
 * Credentials come either from files (the *_file fields; needs mbedTLS's
 * MBEDTLS_FS_IO) or from memory (the *_pem fields: NUL-terminated PEM
 * text, e.g. embedded in the firmware). For each of CA, certificate and
 * key, set at most one of the two.
 */
typedef struct nimbus_net_config {
    /** Server name (required). Sent as SNI and verified against the
     *  server certificate; also resolved and connected to unless
     *  connect_address is set. With mbedTLS 2.x it must be a DNS name
     *  in the certificate (2.x does not verify IP address SANs). */
    const char *host;
    /** Optional address or name to connect to instead of host, e.g.
     *  "127.0.0.1" or "::1"; SNI and verification still use host. */
    const char *connect_address;
    /** TCP port (required, 1-65535), e.g. 8883, or 443 with ALPN. */
    uint16_t port;
    /** PEM file with the trusted CA certificate(s). TLS needs this or
     *  ca_pem. */
    const char *ca_file;
    /** Optional PEM client certificate (chain) file; needs key_file. */
    const char *cert_file;
    /** PEM private key file of cert_file (unencrypted). */
    const char *key_file;
    /** Optional NULL-terminated ALPN list, e.g. {"x-amzn-mqtt-ca", NULL}. */
    const char **alpn;
    /** Plain TCP without TLS. TLS is used unless this is set. */
    bool plain_tcp;
    /** Deadline for TCP connect + TLS handshake, counted from the first
     *  open call; 0 means NIMBUS_NET_DEFAULT_CONNECT_TIMEOUT_MS. */
    uint32_t connect_timeout_ms;
    /** Optional log sink; NULL writes lines through nimbus_net_os_log(). */
    nimbus_net_log_fn log;
    /** Passed to log unchanged. */
    void *log_user;
    /** Trusted CA certificate(s) as NUL-terminated PEM text (instead of
     *  ca_file). */
    const char *ca_pem;
    /** Client certificate (chain) as NUL-terminated PEM text (instead of
     *  cert_file); needs key_pem. */
    const char *cert_pem;
    /** Private key of cert_pem as NUL-terminated PEM text (unencrypted). */
    const char *key_pem;
} nimbus_net_config_t;

/** Where the transport is in its life; internal, exposed for sizing. */
enum nimbus_net_state {
    NIMBUS_NET_IDLE = 0,     /**< no socket; open starts a connection */
    NIMBUS_NET_CONNECTING,   /**< non-blocking TCP connect under way */
    NIMBUS_NET_HANDSHAKING,  /**< TLS handshake under way */
    NIMBUS_NET_READY,        /**< send/recv may be used */
    NIMBUS_NET_BROKEN,       /**< a send/recv failed; close, then open */
};

/**
 * One connection to one server. Treat all fields as private; allocate it
 * statically or on the stack and initialise it with nimbus_net_init().
 */
typedef struct nimbus_net_transport {
    nimbus_net_config_t cfg;                   /**< copy of the config */
    bool initialised;                          /**< init succeeded */
    int fd;                                    /**< socket, -1 if none */
    uint8_t state;                             /**< enum nimbus_net_state */
    uint8_t addr_count;                        /**< resolved addresses */
    uint8_t addr_next;                         /**< next address to try */
    bool want_write;                           /**< TLS/send waits for room */
    int32_t broken_error;                      /**< error repeated once BROKEN */
    size_t pending_write;                      /**< TLS record length queued by a
                                                    send that returned 0 */
    uint64_t deadline_ms;                      /**< connect + handshake deadline */
    struct sockaddr_storage addrs[NIMBUS_NET_MAX_ADDRS]; /**< resolved */
    socklen_t addr_lens[NIMBUS_NET_MAX_ADDRS];           /**< their lengths */
    /* TLS state (unused with plain_tcp). */
    mbedtls_ssl_context ssl;                   /**< the TLS session */
    mbedtls_ssl_config conf;                   /**< shared TLS settings */
    mbedtls_x509_crt ca;                       /**< trusted CA chain */
    mbedtls_x509_crt cert;                     /**< client certificate */
    mbedtls_pk_context key;                    /**< client private key */
    mbedtls_ctr_drbg_context drbg;             /**< TLS random generator, seeded
                                                    by nimbus_net_os_random() */
} nimbus_net_transport_t;

/**
 * Validates cfg, copies it into t, and for TLS loads the CA, client
 * certificate and key and seeds the random generator. Does not connect.
 * Returns 0, -1 (t, cfg, host or, for TLS, both ca_file and ca_pem NULL)
 * or -2 (port 0, certificate without key or the reverse, a credential
 * given both as file and as PEM, unreadable or invalid PEM, invalid ALPN
 * list), -31 if the TLS library cannot be set up.
 * On failure t is left zeroed: open refuses it (-2), deinit is harmless.
 * Call it on a fresh or deinitialised transport only (not twice).
 */
int32_t nimbus_net_init(nimbus_net_transport_t *t, const nimbus_net_config_t *cfg);

/** Closes the connection and frees everything mbedTLS allocated for t.
 *  NULL is ignored. t may be initialised again afterwards. */
void nimbus_net_deinit(nimbus_net_transport_t *t);

/**
 * Starts or continues the connection: resolves the server, connects
 * without blocking (trying each address), then runs the TLS handshake
 * step by step. Returns 1 when ready, 0 while in progress (call again,
 * e.g. after nimbus_net_wait()), or -1, -2 (not initialised), -20
 * (refused, unreachable, resolution failed, connect timeout) or -31
 * (handshake or verification failed, handshake timeout). After a failure
 * the next call starts over. Name resolution uses getaddrinfo(), which
 * may block for DNS.
 */
int32_t nimbus_net_open(void *ctx);

/**
 * Sends up to len bytes. Returns the number of bytes sent, 0 if the
 * socket would block (nothing was taken: call again later with the same
 * leading bytes), -1, -2 (TLS: the retry after a 0 was shorter than the
 * first attempt), -20, -21 (peer closed), -24 (not open) or -31.
 */
int32_t nimbus_net_send(void *ctx, const uint8_t *buf, size_t len);

/**
 * Receives up to len bytes. Returns the number of bytes received, 0 if
 * nothing is available now, -21 when the peer has closed (EOF, TLS
 * close-notify, reset), -1, -20, -24 (not open) or -31 (fatal TLS alert
 * or error).
 */
int32_t nimbus_net_recv(void *ctx, uint8_t *buf, size_t len);

/** Closes the link (TLS close-notify is attempted once, without
 *  waiting); open may be called again afterwards. NULL is ignored. */
void nimbus_net_close(void *ctx);

/** True while t has a socket worth waiting on (connecting, handshaking
 *  or open); false when nimbus_net_wait() could only sleep. */
bool nimbus_net_has_socket(const nimbus_net_transport_t *t);

/**
 * Waits until the transport has something to do or timeout_ms passes:
 * the socket is readable, or writable while connecting or while a send
 * or the handshake waits for room. While connecting, the wait also ends
 * at the connect deadline so open can report the timeout. Without a
 * socket it just sleeps (through poll()/select() with no descriptor).
 * timeout_ms 0 only checks. Returns 1 (event: call open/recv/send), 0
 * (time passed), -1 or -20 (poll/select failed).
 */
int32_t nimbus_net_wait(nimbus_net_transport_t *t, uint32_t timeout_ms);

/**
 * Waits up to timeout_ms for the descriptor fd alone to become readable
 * (want_read) or writable (want_write); errors and hang-ups count as
 * ready. fd < 0 only sleeps. For callers that must not hold the
 * transport while they wait (see ports/freertos); nimbus_net_wait() is
 * the usual call. Returns > 0 ready, 0 timed out, < 0 failed (errno).
 */
int nimbus_net_fd_wait(int fd, bool want_read, bool want_write, uint32_t timeout_ms);

/**
 * HMAC-SHA256 of msg under key into out (32 bytes) through mbedTLS.
 * key or msg may be NULL only when their length is 0. Returns 0, -1
 * (NULL out, or NULL with a non-zero length) or -2 (mbedTLS refused).
 */
int32_t nimbus_net_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
                               size_t msg_len, uint8_t out[NIMBUS_NET_HMAC_SHA256_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* NIMBUS_NET_H */
