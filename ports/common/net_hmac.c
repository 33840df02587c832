/*
 * net_hmac.c - HMAC-SHA256 through mbedTLS, for Azure SAS tokens.
 */
#include "net_internal.h"

#include "mbedtls/md.h"

int32_t nimbus_net_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
                               size_t msg_len, uint8_t out[NIMBUS_NET_HMAC_SHA256_LEN])
{
    static const uint8_t empty[1] = {0};

    if (out == NULL || (key == NULL && key_len > 0) || (msg == NULL && msg_len > 0)) {
        return NN_ERR(NULL_ARGUMENT);
    }
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL) {
        nimbus_net_log(NULL, "mbedTLS is built without SHA-256");
        return NN_ERR(INVALID_ARGUMENT);
    }
    /* mbedTLS wants valid pointers even for empty inputs. */
    int ret = mbedtls_md_hmac(md, key != NULL ? key : empty, key_len,
                              msg != NULL ? msg : empty, msg_len, out);
    return ret == 0 ? 0 : NN_ERR(INVALID_ARGUMENT);
}
