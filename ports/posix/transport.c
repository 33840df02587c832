/*
 * transport.c - the POSIX port's transport: the shared socket + TLS
 * transport of ports/common under the port's names, with poll() waits.
 */
#include "nimbus_posix.h"

int32_t nimbus_posix_transport_init(nimbus_posix_transport_t *t,
                                    const nimbus_posix_config_t *cfg)
{
    return nimbus_net_init(t, cfg);
}

void nimbus_posix_transport_deinit(nimbus_posix_transport_t *t)
{
    nimbus_net_deinit(t);
}

int32_t nimbus_posix_transport_open(void *ctx)
{
    return nimbus_net_open(ctx);
}

int32_t nimbus_posix_transport_send(void *ctx, const uint8_t *buf, size_t len)
{
    return nimbus_net_send(ctx, buf, len);
}

int32_t nimbus_posix_transport_recv(void *ctx, uint8_t *buf, size_t len)
{
    return nimbus_net_recv(ctx, buf, len);
}

void nimbus_posix_transport_close(void *ctx)
{
    nimbus_net_close(ctx);
}

int32_t nimbus_posix_wait(nimbus_posix_transport_t *t, uint32_t timeout_ms)
{
    return nimbus_net_wait(t, timeout_ms);
}

int32_t nimbus_posix_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
                                 size_t msg_len, uint8_t out[NIMBUS_POSIX_HMAC_SHA256_LEN])
{
    return nimbus_net_hmac_sha256(key, key_len, msg, msg_len, out);
}
