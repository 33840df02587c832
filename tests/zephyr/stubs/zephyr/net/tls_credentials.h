/* Stand-in for <zephyr/net/tls_credentials.h> (v4.1). */
#ifndef STANDIN_ZEPHYR_NET_TLS_CREDENTIALS_H
#define STANDIN_ZEPHYR_NET_TLS_CREDENTIALS_H
#include <stddef.h>

enum tls_credential_type {
    TLS_CREDENTIAL_NONE,
    TLS_CREDENTIAL_CA_CERTIFICATE,
    TLS_CREDENTIAL_SERVER_CERTIFICATE,
    TLS_CREDENTIAL_PRIVATE_KEY,
    TLS_CREDENTIAL_PSK,
    TLS_CREDENTIAL_PSK_ID
};

typedef int sec_tag_t;

int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
                       size_t credlen);
int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type);
#endif
