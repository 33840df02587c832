/*
 * platform.c - clock, random numbers, wall time, HMAC-SHA256 and TLS
 * credentials for the Nimbus core on Zephyr.
 */
#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/tls_credentials.h>
#include <zephyr/random/random.h>

#include "nimbus_zephyr.h"

#if defined(CONFIG_NIMBUS_HMAC_MBEDTLS)
#include <mbedtls/md.h>
#elif defined(CONFIG_NIMBUS_HMAC_PSA)
#include <psa/crypto.h>
#endif

LOG_MODULE_REGISTER(nimbus, CONFIG_NIMBUS_LOG_LEVEL);

#define NZ_ERR(name) ((int32_t)NIMBUS_ERR_##name)

uint64_t nimbus_zephyr_now_ms(void)
{
    int64_t ms = k_uptime_get();
    return ms > 0 ? (uint64_t)ms : 0u;
}

void nimbus_zephyr_log(void *ctx, uint8_t level, const char *text, size_t len)
{
    (void)ctx;
    int n = len > 200u ? 200 : (int)len;
    if (level <= 1) {
        LOG_ERR("%.*s", n, text);
    } else if (level == 2) {
        LOG_WRN("%.*s", n, text);
    } else {
        LOG_INF("%.*s", n, text);
    }
}

uint32_t nimbus_zephyr_random_u32(void *ctx)
{
    uint32_t value = 0;

    (void)ctx;
    sys_rand_get(&value, sizeof value);
    return value;
}

/* Unix time at uptime 0, in ms; 0 until the application sets the clock. */
static uint64_t boot_unix_ms;

void nimbus_zephyr_set_unix_time(uint64_t unix_s)
{
    uint64_t now = nimbus_zephyr_now_ms();
    uint64_t unix_ms = unix_s * 1000u;

    boot_unix_ms = unix_ms > now ? unix_ms - now : 0u;
}

int64_t nimbus_zephyr_unix_time_s(void *ctx)
{
    (void)ctx;
    if (boot_unix_ms == 0) {
        return -1;
    }
    return (int64_t)((boot_unix_ms + nimbus_zephyr_now_ms()) / 1000u);
}

int32_t nimbus_zephyr_hmac_sha256(void *ctx, const uint8_t *key, size_t key_len,
                                  const uint8_t *msg, size_t msg_len,
                                  uint8_t out[NIMBUS_ZEPHYR_HMAC_SHA256_LEN])
{
    static const uint8_t empty[1] = {0};

    (void)ctx;
    if (out == NULL || (key == NULL && key_len > 0) || (msg == NULL && msg_len > 0)) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    /* Both libraries want valid pointers even for empty inputs. */
    key = key != NULL ? key : empty;
    msg = msg != NULL ? msg : empty;
#if defined(CONFIG_NIMBUS_HMAC_MBEDTLS)
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL) {
        LOG_ERR("mbedTLS is built without SHA-256 (CONFIG_MBEDTLS_SHA256)");
        return NZ_ERR(INVALID_ARGUMENT);
    }
    int ret = mbedtls_md_hmac(md, key, key_len, msg, msg_len, out);
    if (ret != 0) {
        LOG_ERR("mbedtls_md_hmac: -0x%04x", (unsigned)-ret);
        return NZ_ERR(INVALID_ARGUMENT);
    }
    return 0;
#elif defined(CONFIG_NIMBUS_HMAC_PSA)
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    size_t out_len = 0;
    psa_status_t st = psa_crypto_init();

    if (st == PSA_SUCCESS) {
        psa_set_key_type(&attr, PSA_KEY_TYPE_HMAC);
        psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
        psa_set_key_algorithm(&attr, PSA_ALG_HMAC(PSA_ALG_SHA_256));
        st = psa_import_key(&attr, key, key_len, &id);
    }
    if (st == PSA_SUCCESS) {
        st = psa_mac_compute(id, PSA_ALG_HMAC(PSA_ALG_SHA_256), msg, msg_len, out,
                             NIMBUS_ZEPHYR_HMAC_SHA256_LEN, &out_len);
        (void)psa_destroy_key(id);
    }
    if (st != PSA_SUCCESS || out_len != NIMBUS_ZEPHYR_HMAC_SHA256_LEN) {
        LOG_ERR("PSA HMAC-SHA256: status %d", (int)st);
        return NZ_ERR(INVALID_ARGUMENT);
    }
    return 0;
#else
    /* CONFIG_NIMBUS_HMAC_RUSTCRYPTO: the core computes it. */
    (void)key_len;
    (void)msg_len;
    LOG_ERR("HMAC is done by the core (CONFIG_NIMBUS_HMAC_RUSTCRYPTO)");
    return NZ_ERR(INVALID_ARGUMENT);
#endif
}

/* Stores one credential, replacing an older one of the same type. */
static int32_t add_one(sec_tag_t tag, enum tls_credential_type type, const void *cred,
                       size_t len, const char *what)
{
    if (len == 0) {
        LOG_ERR("credential %s of tag %d is empty", what, (int)tag);
        return NZ_ERR(INVALID_ARGUMENT);
    }
    int ret = tls_credential_add(tag, type, cred, len);
    if (ret == -EEXIST) {
        (void)tls_credential_delete(tag, type);
        ret = tls_credential_add(tag, type, cred, len);
    }
    if (ret != 0) {
        LOG_ERR("tls_credential_add(%d, %s): %d", (int)tag, what, ret);
        return NZ_ERR(TLS_FAILED);
    }
    return 0;
}

int32_t nimbus_zephyr_credentials_add(sec_tag_t sec_tag, const void *ca, size_t ca_len,
                                      const void *cert, size_t cert_len,
                                      const void *key, size_t key_len)
{
    if (ca == NULL) {
        return NZ_ERR(NULL_ARGUMENT);
    }
    if ((cert == NULL) != (key == NULL)) {
        LOG_ERR("credentials: client certificate and key go together");
        return NZ_ERR(INVALID_ARGUMENT);
    }
    int32_t r = add_one(sec_tag, TLS_CREDENTIAL_CA_CERTIFICATE, ca, ca_len, "CA");
    if (r == 0 && cert != NULL) {
        r = add_one(sec_tag, TLS_CREDENTIAL_SERVER_CERTIFICATE, cert, cert_len,
                    "certificate");
    }
    if (r == 0 && key != NULL) {
        r = add_one(sec_tag, TLS_CREDENTIAL_PRIVATE_KEY, key, key_len, "key");
    }
    return r;
}
