/*
 * nimbus_zephyr.h - the Nimbus port for Zephyr.
 *
 * - a transport over Zephyr sockets (zsock_*), TLS through Zephyr's TLS
 *   sockets (TLS_SEC_TAG_LIST, TLS_HOSTNAME for SNI, TLS_ALPN_LIST) with
 *   credentials stored by tls_credential_add();
 * - platform services: k_uptime_get() clock, sys_rand_get() random
 *   numbers, HMAC-SHA256 for Azure SAS tokens (mbedTLS or PSA);
 * - network facts for the "general_information" answer (net_if, DNS);
 * - sensors bound from devicetree, read with sensor_sample_fetch() and
 *   sensor_channel_get();
 * - with CONFIG_NIMBUS_STORE_NVS or _ZMS, the store of persistent records
 *   (boot counter, queue of readings) in NVS or ZMS;
 * - with CONFIG_NIMBUS_THREAD, a thread that drives nimbus_poll().
 *
 * The transport functions follow the core's transport contract exactly
 * (nimbus_transport_t in nimbus.h): ctx points to an initialised
 * nimbus_zephyr_transport_t; results are >= 0 on success and a
 * NIMBUS_ERR_* value (negative) on failure. The port never allocates memory.
 */
#ifndef NIMBUS_ZEPHYR_H
#define NIMBUS_ZEPHYR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/drivers/sensor.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>

#include <nimbus.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Errors are the core's nimbus_err_t values (negative), from nimbus.h. */

/** How many resolved addresses of the server are tried, in order. */
#define NIMBUS_ZEPHYR_MAX_ADDRS 2

/** Most security tags one transport presents (CA + client identity are
 *  usually one tag). */
#define NIMBUS_ZEPHYR_MAX_SEC_TAGS 4

/** Length of an HMAC-SHA256 result in bytes. */
#define NIMBUS_ZEPHYR_HMAC_SHA256_LEN 32

/**
 * Transport configuration; copied by nimbus_zephyr_transport_init(). The
 * strings and the ALPN array it points to must outlive the transport.
 */
typedef struct nimbus_zephyr_config {
    /** Server name (required): SNI (TLS_HOSTNAME), the name the server
     *  certificate must carry, and resolved unless connect_address is set. */
    const char *host;
    /** Optional address or name to connect to instead of host (e.g.
     *  "127.0.0.1"); SNI and verification still use host. */
    const char *connect_address;
    /** TCP port (1-65535), e.g. 8883, or 443 with ALPN. */
    uint16_t port;
    /** Plain TCP without TLS (tests, local brokers). */
    bool plain_tcp;
    /** Security tags of the credentials (CA, client certificate and key)
     *  stored with tls_credential_add(); at least one for TLS. */
    sec_tag_t sec_tags[NIMBUS_ZEPHYR_MAX_SEC_TAGS];
    /** How many of sec_tags are used. */
    uint8_t sec_tag_count;
    /** Skip server certificate verification (TLS_PEER_VERIFY_NONE).
     *  Only for a local test broker; verification is required otherwise. */
    bool insecure_skip_verify;
    /** Optional NULL-terminated ALPN list, e.g. {"x-amzn-mqtt-ca", NULL}. */
    const char *const *alpn;
} nimbus_zephyr_config_t;

/** Where the transport is in its life; internal, exposed for sizing. */
enum nimbus_zephyr_state {
    NIMBUS_ZEPHYR_IDLE = 0, /**< no socket; open connects */
    NIMBUS_ZEPHYR_READY,    /**< send/recv may be used */
    NIMBUS_ZEPHYR_BROKEN,   /**< a send/recv failed; close, then open */
};

/** One connection to one server; fields are private. */
typedef struct nimbus_zephyr_transport {
    nimbus_zephyr_config_t cfg; /**< copy of the configuration */
    bool initialised;           /**< init succeeded */
    bool want_write;            /**< a send would block: wait for POLLOUT */
    uint8_t state;              /**< enum nimbus_zephyr_state */
    int fd;                     /**< socket, -1 if none */
    int32_t broken_error;       /**< error repeated once BROKEN */
} nimbus_zephyr_transport_t;

/**
 * Validates cfg and copies it into t. Does not connect. Returns 0, -1 (t,
 * cfg or host NULL) or -2 (empty host, port 0, TLS without a security
 * tag, more than NIMBUS_ZEPHYR_MAX_SEC_TAGS tags). On failure t is left
 * so that open refuses it.
 */
int32_t nimbus_zephyr_transport_init(nimbus_zephyr_transport_t *t,
                                     const nimbus_zephyr_config_t *cfg);

/**
 * Connects: resolves the server (zsock_getaddrinfo), then for each
 * address creates a socket (IPPROTO_TLS_1_2 unless plain_tcp), applies
 * the TLS options and connects. Zephyr's TLS sockets run the handshake
 * inside connect and block for it, bounded by
 * CONFIG_NET_SOCKETS_CONNECT_TIMEOUT, so this returns 1 (ready) or an
 * error, never 0: -1, -2 (not initialised), -20 (resolution failed,
 * refused, unreachable, timed out) or -31 (handshake or verification
 * failed). The socket is non-blocking afterwards.
 */
int32_t nimbus_zephyr_transport_open(void *ctx);

/**
 * Sends up to len bytes. Returns the number taken, 0 if the socket would
 * block (nothing was taken: call again with the same leading bytes), -1,
 * -20, -21 (peer closed), -24 (not open) or -31.
 */
int32_t nimbus_zephyr_transport_send(void *ctx, const uint8_t *buf, size_t len);

/**
 * Receives up to len bytes. Returns the number received, 0 if nothing is
 * available now, -21 when the peer has closed, -1, -20, -24 or -31.
 */
int32_t nimbus_zephyr_transport_recv(void *ctx, uint8_t *buf, size_t len);

/** Closes the socket; open may be called again. NULL is ignored. */
void nimbus_zephyr_transport_close(void *ctx);

/**
 * Sleeps in zsock_poll() until the socket is readable (or writable while a
 * send waits for room) or timeout_ms passes. Without a socket it sleeps.
 * Returns 1 (event), 0 (time passed), -1 or -20 (poll failed).
 */
int32_t nimbus_zephyr_wait(nimbus_zephyr_transport_t *t, uint32_t timeout_ms);

/**
 * Stores PEM or DER credentials under sec_tag with tls_credential_add().
 * ca is required; cert and key go together (both NULL for server-only
 * authentication). PEM text must include its terminating NUL in the
 * length, as Zephyr's mbedTLS expects. A tag that already holds a
 * credential of the same type is replaced. Returns 0, -1, -2 (cert
 * without key, empty credential) or -31 (the store refused it: full,
 * see CONFIG_TLS_MAX_CREDENTIALS_NUMBER).
 */
int32_t nimbus_zephyr_credentials_add(sec_tag_t sec_tag, const void *ca, size_t ca_len,
                                      const void *cert, size_t cert_len,
                                      const void *key, size_t key_len);

/* ------------------------------------------------------------ platform */

/** Milliseconds since boot (k_uptime_get()); never goes back. */
uint64_t nimbus_zephyr_now_ms(void);

/** A random 32-bit value from sys_rand_get(); ctx is unused (it has the
 *  shape of nimbus_platform_t.random_u32). */
uint32_t nimbus_zephyr_random_u32(void *ctx);

/**
 * HMAC-SHA256 of msg under key into out, through Zephyr's mbedTLS
 * (CONFIG_NIMBUS_HMAC_MBEDTLS) or PSA (CONFIG_NIMBUS_HMAC_PSA); ctx is
 * unused (shape of nimbus_platform_t.hmac_sha256). key or msg may be NULL
 * only when their length is 0. Returns 0, -1 or -2 (crypto refused, or
 * the port is built with CONFIG_NIMBUS_HMAC_RUSTCRYPTO).
 */
int32_t nimbus_zephyr_hmac_sha256(void *ctx, const uint8_t *key, size_t key_len,
                                  const uint8_t *msg, size_t msg_len,
                                  uint8_t out[NIMBUS_ZEPHYR_HMAC_SHA256_LEN]);

/** Sets the wall clock: unix_s is the current time in seconds since 1970
 *  (from SNTP, a modem or an RTC). Azure SAS tokens need it. */
void nimbus_zephyr_set_unix_time(uint64_t unix_s);

/** nimbus_platform_t.log: the client's trace lines into Zephyr's log
 *  (module `nimbus`, CONFIG_NIMBUS_LOG_LEVEL): level 1 LOG_ERR, 2
 *  LOG_WRN, 3 LOG_INF. ctx is unused. */
void nimbus_zephyr_log(void *ctx, uint8_t level, const char *text, size_t len);

/** Seconds since 1970: the time given to nimbus_zephyr_set_unix_time()
 *  plus the uptime since, or -1 while it was never set; ctx is unused
 *  (shape of nimbus_platform_t.unix_time_s). */
int64_t nimbus_zephyr_unix_time_s(void *ctx);

/* ------------------------------------------------------------ network */

/** Network facts of the device, in binary as nimbus_device_info_t takes
 *  them; version 0 where unknown. */
typedef struct nimbus_zephyr_net_info {
    nimbus_ip_t ipv4;          /**< preferred global IPv4 */
    nimbus_ip_t netmask;       /**< its netmask */
    nimbus_ip_t gateway;       /**< IPv4 default gateway */
    nimbus_ip_t ipv6;          /**< preferred global IPv6 */
    nimbus_ip_t dns_primary;   /**< first DNS server */
    nimbus_ip_t dns_secondary; /**< second DNS server */
    uint8_t mac[6];            /**< link address */
    bool has_mac;              /**< mac is known (6 bytes) */
} nimbus_zephyr_net_info_t;

/**
 * Collects the default interface's addresses (net_if), netmask, gateway
 * and link address, and the first two DNS servers of the default
 * resolver, for general_information. What is unknown stays version 0 (with
 * offloaded sockets there is no interface at all). Returns 0 or
 * NIMBUS_ERR_NULL_ARGUMENT.
 */
int32_t nimbus_zephyr_net_info(nimbus_zephyr_net_info_t *info);

/* ------------------------------------------------------------ sensors */

/** One sensor channel published as one Nimbus sensor. */
typedef struct nimbus_zephyr_sensor {
    const struct device *dev;  /**< the Zephyr sensor device */
    enum sensor_channel chan;  /**< the channel read */
    uint16_t id;               /**< Nimbus sensor id */
    uint8_t decimals;          /**< decimals kept, 0-6 */
    const char *type;          /**< e.g. "temperature" */
    const char *unit;          /**< e.g. "C" */
} nimbus_zephyr_sensor_t;

/** The sensors listed in devicetree (compatible "nimbus,sensors"). */
extern const nimbus_zephyr_sensor_t nimbus_zephyr_dt_sensors[];
/** How many entries nimbus_zephyr_dt_sensors has. */
extern const size_t nimbus_zephyr_dt_sensor_count;

/**
 * Reads one sensor: sensor_sample_fetch() then sensor_channel_get(),
 * and converts the value to mantissa * 10^-decimals (rounding toward
 * zero). Returns 0, -1, -2 (device not ready, decimals > 6) or -20 (the
 * driver failed; logged).
 */
int32_t nimbus_zephyr_sensor_read(const nimbus_zephyr_sensor_t *s, int64_t *mantissa,
                                  uint8_t *decimals);

/** Converts a sensor_value to mantissa * 10^-decimals (decimals 0-6,
 *  rounding toward zero). Returns 0, -1 or -2. */
int32_t nimbus_zephyr_sensor_value_to_fixed(const struct sensor_value *v, uint8_t decimals,
                                            int64_t *mantissa);

/* ------------------------------------------------------------ store */

#if defined(CONFIG_NIMBUS_STORE_NVS)
#include <zephyr/fs/nvs.h>
/** The store: an NVS file system over a flash area. */
typedef struct {
    struct nvs_fs fs;
} nimbus_zephyr_store_t;
#elif defined(CONFIG_NIMBUS_STORE_ZMS)
#include <zephyr/fs/zms.h>
/** The store: a ZMS file system over a flash area. */
typedef struct {
    struct zms_fs fs;
} nimbus_zephyr_store_t;
#endif

#if defined(CONFIG_NIMBUS_STORE_NVS) || defined(CONFIG_NIMBUS_STORE_ZMS)
/**
 * Mounts the store on `size` bytes of `flash` at `offset` (whole flash
 * pages, at least two: one is kept free for garbage collection), e.g.
 * FIXED_PARTITION_DEVICE/OFFSET/SIZE(storage_partition).
 * Returns 0, NIMBUS_ERR_NULL_ARGUMENT, NIMBUS_ERR_INVALID_ARGUMENT
 * (not two pages), NIMBUS_ERR_TRANSPORT_FAILED (device not ready,
 * mount failed).
 */
int32_t nimbus_zephyr_store_init(nimbus_zephyr_store_t *s, const struct device *flash,
                                 off_t offset, size_t size);

/** nimbus_platform_t.store_read, `ctx` the store: the record's length, 0
 *  when there is none, NIMBUS_ERR_BUFFER_TOO_SMALL (longer than
 *  `cap`), NIMBUS_ERR_TRANSPORT_FAILED (flash error). */
int32_t nimbus_zephyr_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap);

/** nimbus_platform_t.store_write, `ctx` the store: writes the record
 *  atomically (`len` 0 deletes it). 0, NIMBUS_ERR_STORAGE_TOO_SMALL
 *  (full), NIMBUS_ERR_TRANSPORT_FAILED. */
int32_t nimbus_zephyr_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len);
#endif

#ifdef __cplusplus
}
#endif

#endif /* NIMBUS_ZEPHYR_H */
