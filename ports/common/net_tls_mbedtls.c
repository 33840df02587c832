/*
 * net_tls_mbedtls.c - TLS for the shared transport through mbedTLS 2.28
 * or 3.x.
 *
 * The server is always verified (MBEDTLS_SSL_VERIFY_REQUIRED) against the
 * configured CA and host name. Socket I/O goes through our own callbacks
 * so a closed peer never raises SIGPIPE and "would block" maps to
 * WANT_READ/WANT_WRITE, which the transport reports as 0.
 */
#if !defined(NIMBUS_NET_LWIP) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* glibc: POSIX 2008 plus BSD socket extras */
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "net_internal.h"

#include "mbedtls/entropy.h" /* MBEDTLS_ERR_ENTROPY_SOURCE_FAILED */
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h" /* MBEDTLS_ERR_NET_* codes only */

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h" /* 3.x: TLS 1.3 and USE_PSA need psa_crypto_init() */
#endif

/* Personalisation string for the DRBG, as mbedTLS recommends. */
static const unsigned char drbg_personal[] = "nimbus-net-transport";

/*
 * Entropy for the DRBG straight from the OS. This replaces an
 * mbedtls_entropy_context, which would only gather the same OS source
 * and costs up to 38 KB per transport in some builds (Debian's 2.28
 * includes HAVEGE state in it).
 */
static int os_entropy(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    return nimbus_net_os_random(out, len) == 0 ? 0
                                                 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}

/* ------------------------------------------------------------ logging */

/* Logs what mbedTLS error ret means, prefixed by what we were doing. */
static void log_mbedtls(const nimbus_net_transport_t *t, const char *what,
                        int ret)
{
    char text[128] = "";
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(ret, text, sizeof text);
#endif
    nimbus_net_log(t, "%s: -0x%04x %s", what, (unsigned)-ret, text);
}

/* Logs why the server certificate was rejected, if it was. */
static void log_verify_result(const nimbus_net_transport_t *t)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);

    if (flags == 0 || flags == UINT32_MAX) {
        return; /* verified, or verification never ran */
    }
    char text[384] = "";
#if !defined(MBEDTLS_X509_REMOVE_INFO)
    int n = mbedtls_x509_crt_verify_info(text, sizeof text, "", flags);
    /* One line per reason: join them for a single log line. */
    for (int i = 0; i < n && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            text[i] = (i + 1 < n && text[i + 1] != '\0') ? ';' : '\0';
        }
    }
#endif
    nimbus_net_log(t, "server certificate of %s rejected (flags 0x%08x): %s",
                     t->cfg.host, (unsigned)flags, text);
}

/* ------------------------------------------------------------ socket I/O */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    const nimbus_net_transport_t *t = ctx;
    if (len > INT_MAX) {
        len = INT_MAX;
    }
#if defined(MSG_NOSIGNAL)
    ssize_t n = NN_SEND(t->fd, buf, len, MSG_NOSIGNAL);
#else
    ssize_t n = NN_SEND(t->fd, buf, len, 0); /* SO_NOSIGPIPE, or no signals */
#endif
    if (n >= 0) {
        return (int)n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    nimbus_net_log(t, "send: %s", strerror(errno));
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    const nimbus_net_transport_t *t = ctx;
    if (len > INT_MAX) {
        len = INT_MAX;
    }
    ssize_t n = NN_RECV(t->fd, buf, len, 0);
    if (n >= 0) {
        return (int)n; /* 0 is EOF: mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF */
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (errno == ECONNRESET) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    nimbus_net_log(t, "recv: %s", strerror(errno));
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* True for the results that mean "call again later". */
static bool is_retry(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE ||
           ret == MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS ||
           ret == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS;
}

/* Maps a fatal mbedTLS error on an established session to our codes. */
static int32_t session_error(const nimbus_net_transport_t *t, const char *what,
                             int ret)
{
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF ||
        ret == MBEDTLS_ERR_NET_CONN_RESET) {
        return NN_ERR(CONNECTION_CLOSED);
    }
    log_mbedtls(t, what, ret);
    if (ret == MBEDTLS_ERR_NET_SEND_FAILED || ret == MBEDTLS_ERR_NET_RECV_FAILED) {
        return NN_ERR(TRANSPORT_FAILED);
    }
    return NN_ERR(TLS_FAILED);
}

/* ------------------------------------------------------------ set-up */

/* Parses one certificate (chain) from a file or from PEM text into crt.
 * Returns the mbedTLS result (> 0: that many certificates skipped). */
static int parse_crt(mbedtls_x509_crt *crt, const char *file, const char *pem)
{
    if (pem != NULL) {
        /* PEM input must include the terminating NUL in its length. */
        return mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1u);
    }
#if defined(MBEDTLS_FS_IO)
    return mbedtls_x509_crt_parse_file(crt, file);
#else
    (void)file;
    return MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
#endif
}

/* Parses the private key from a file or from PEM text. */
static int parse_key(nimbus_net_transport_t *t)
{
    if (t->cfg.key_pem != NULL) {
        const unsigned char *pem = (const unsigned char *)t->cfg.key_pem;
        size_t len = strlen(t->cfg.key_pem) + 1u;
#if MBEDTLS_VERSION_MAJOR >= 3
        /* 3.x takes an RNG for blinding while checking the key. */
        return mbedtls_pk_parse_key(&t->key, pem, len, NULL, 0, mbedtls_ctr_drbg_random,
                                    &t->drbg);
#else
        return mbedtls_pk_parse_key(&t->key, pem, len, NULL, 0);
#endif
    }
#if defined(MBEDTLS_FS_IO)
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_parse_keyfile(&t->key, t->cfg.key_file, NULL, mbedtls_ctr_drbg_random,
                                    &t->drbg);
#else
    return mbedtls_pk_parse_keyfile(&t->key, t->cfg.key_file, NULL);
#endif
#else
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
#endif
}

/* Loads the CA, client certificate and key. 0 or -2 (logged). */
static int32_t load_credentials(nimbus_net_transport_t *t)
{
    const char *ca_name = t->cfg.ca_pem != NULL ? "CA (PEM)" : t->cfg.ca_file;
    int ret = parse_crt(&t->ca, t->cfg.ca_file, t->cfg.ca_pem);
    if (ret < 0) {
        log_mbedtls(t, ca_name, ret);
        return NN_ERR(INVALID_ARGUMENT);
    }
    if (ret > 0) {
        nimbus_net_log(t, "%s: %d certificate(s) skipped as invalid", ca_name, ret);
    }
    if (t->cfg.cert_file == NULL && t->cfg.cert_pem == NULL) {
        return 0;
    }
    const char *cert_name = t->cfg.cert_pem != NULL ? "client certificate (PEM)"
                                                    : t->cfg.cert_file;
    ret = parse_crt(&t->cert, t->cfg.cert_file, t->cfg.cert_pem);
    if (ret != 0) {
        log_mbedtls(t, cert_name, ret < 0 ? ret : MBEDTLS_ERR_X509_INVALID_FORMAT);
        return NN_ERR(INVALID_ARGUMENT);
    }
    ret = parse_key(t);
    if (ret != 0) {
        /* The text names the file and the parse error, never the key. */
        log_mbedtls(t, t->cfg.key_pem != NULL ? "client key (PEM)" : t->cfg.key_file, ret);
        return NN_ERR(INVALID_ARGUMENT);
    }
    return 0;
}

/* Applies the transport's settings to t->conf. 0, -2 or -31 (logged). */
static int32_t configure(nimbus_net_transport_t *t)
{
    int ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        log_mbedtls(t, "ssl_config_defaults", ret);
        return NN_ERR(TLS_FAILED);
    }
#if MBEDTLS_VERSION_MAJOR < 3
    /* 2.x may still offer TLS 1.0/1.1; neither cloud accepts them. 3.x
     * supports nothing older than 1.2. */
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    if (t->cfg.cert_file != NULL || t->cfg.cert_pem != NULL) {
        ret = mbedtls_ssl_conf_own_cert(&t->conf, &t->cert, &t->key);
        if (ret != 0) {
            log_mbedtls(t, "client certificate and key", ret);
            return NN_ERR(INVALID_ARGUMENT);
        }
    }
    if (t->cfg.alpn != NULL) {
#if defined(MBEDTLS_SSL_ALPN)
        ret = mbedtls_ssl_conf_alpn_protocols(&t->conf, t->cfg.alpn);
        if (ret != 0) {
            log_mbedtls(t, "ALPN list", ret);
            return NN_ERR(INVALID_ARGUMENT);
        }
#else
        nimbus_net_log(t, "ALPN requested but mbedTLS lacks MBEDTLS_SSL_ALPN");
        return NN_ERR(INVALID_ARGUMENT);
#endif
    }
    ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (ret != 0) {
        log_mbedtls(t, "ssl_setup", ret);
        return NN_ERR(TLS_FAILED);
    }
    return 0;
}

int32_t nimbus_net_tls_init(nimbus_net_transport_t *t)
{
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_x509_crt_init(&t->cert);
    mbedtls_pk_init(&t->key);
    mbedtls_ctr_drbg_init(&t->drbg);

    int32_t r = 0;
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
    /* Idempotent; needed before any TLS 1.3 or PSA-backed operation. */
    psa_status_t status = psa_crypto_init();
    if (status != PSA_SUCCESS) {
        nimbus_net_log(t, "psa_crypto_init: %d", (int)status);
        r = NN_ERR(TLS_FAILED);
    }
#endif
    if (r == 0) {
        int ret = mbedtls_ctr_drbg_seed(&t->drbg, os_entropy, NULL, drbg_personal,
                                        sizeof drbg_personal - 1u);
        if (ret != 0) {
            log_mbedtls(t, "ctr_drbg_seed", ret);
            r = NN_ERR(TLS_FAILED);
        }
    }
    if (r == 0) {
        r = load_credentials(t);
    }
    if (r == 0) {
        r = configure(t);
    }
    if (r != 0) {
        nimbus_net_tls_free(t);
    }
    return r;
}

void nimbus_net_tls_free(nimbus_net_transport_t *t)
{
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_x509_crt_free(&t->cert);
    mbedtls_pk_free(&t->key);
    mbedtls_ctr_drbg_free(&t->drbg);
}

/* ------------------------------------------------------------ session */

int32_t nimbus_net_tls_start(nimbus_net_transport_t *t)
{
    int ret = mbedtls_ssl_session_reset(&t->ssl);
    if (ret == 0) {
        /* Sets SNI and the name the server certificate must carry. */
        ret = mbedtls_ssl_set_hostname(&t->ssl, t->cfg.host);
    }
    if (ret != 0) {
        log_mbedtls(t, "TLS session set-up", ret);
        return NN_ERR(TLS_FAILED);
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->want_write = false;
    t->pending_write = 0;
    return 0;
}

int32_t nimbus_net_tls_handshake(nimbus_net_transport_t *t)
{
    int ret = mbedtls_ssl_handshake(&t->ssl);
    if (ret == 0) {
        t->want_write = false;
        return 1;
    }
    if (is_retry(ret)) {
        t->want_write = ret == MBEDTLS_ERR_SSL_WANT_WRITE;
        return 0;
    }
    char what[96];
    (void)snprintf(what, sizeof what, "TLS handshake with %s port %u",
                   t->cfg.host, (unsigned)t->cfg.port);
    log_mbedtls(t, what, ret);
    log_verify_result(t);
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || ret == MBEDTLS_ERR_NET_CONN_RESET ||
        ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        nimbus_net_log(t, "the server ended the handshake: it may have refused "
                            "the client certificate, or it does not speak TLS here");
    }
    return NN_ERR(TLS_FAILED);
}

int32_t nimbus_net_tls_send(nimbus_net_transport_t *t, const uint8_t *buf,
                              size_t len)
{
    /* mbedTLS must be called again with the same data after WANT_WRITE:
     * retry exactly the length it was given then. */
    if (t->pending_write > 0) {
        if (len < t->pending_write) {
            nimbus_net_log(t, "send retried with %zu bytes, %zu are queued",
                             len, t->pending_write);
            return NN_ERR(INVALID_ARGUMENT);
        }
        len = t->pending_write;
    }
    int ret = mbedtls_ssl_write(&t->ssl, buf, len);
    if (ret >= 0) {
        t->pending_write = 0;
        t->want_write = false;
        return (int32_t)ret;
    }
    if (is_retry(ret)) {
        t->pending_write = len;
        t->want_write = ret == MBEDTLS_ERR_SSL_WANT_WRITE;
        return 0;
    }
    int32_t err = session_error(t, "TLS send", ret);
    t->state = NIMBUS_NET_BROKEN;
    t->broken_error = err;
    return err;
}

int32_t nimbus_net_tls_recv(nimbus_net_transport_t *t, uint8_t *buf, size_t len)
{
    /* A TLS 1.3 server may send session tickets at any time; mbedTLS 3.x
     * can report each one; they carry no data, so read on (bounded). */
    for (int attempt = 0; attempt < 4; attempt++) {
        int ret = mbedtls_ssl_read(&t->ssl, buf, len);
        if (ret > 0) {
            return (int32_t)ret;
        }
        if (ret == 0) {
            return NN_ERR(CONNECTION_CLOSED); /* EOF without close-notify */
        }
        if (is_retry(ret)) {
            t->want_write = ret == MBEDTLS_ERR_SSL_WANT_WRITE;
            return 0;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            continue;
        }
#endif
        int32_t err = session_error(t, "TLS recv", ret);
        if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
            /* TLS 1.3 servers check the client after our handshake ends. */
            nimbus_net_log(t, "the server sent a fatal TLS alert: it may "
                                "have refused the client certificate");
        }
        return err;
    }
    return 0;
}

void nimbus_net_tls_close(nimbus_net_transport_t *t)
{
    if (t->state == NIMBUS_NET_READY && t->fd >= 0) {
        /* One attempt; if the socket is full the peer sees a plain close. */
        (void)mbedtls_ssl_close_notify(&t->ssl);
    }
    (void)mbedtls_ssl_session_reset(&t->ssl);
    t->pending_write = 0;
}

bool nimbus_net_tls_has_pending(const nimbus_net_transport_t *t)
{
    return mbedtls_ssl_get_bytes_avail(&t->ssl) > 0;
}
