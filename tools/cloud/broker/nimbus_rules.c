/*
 * The local cloud's rules, enforced inside mosquitto (plugin API 5).
 *
 * One mosquitto serves the devices of both clouds; the device registry (a
 * SQLite file the local cloud writes, see tools/cloud/registry.py) says
 * which cloud a client id belongs to, how it authenticates and with which
 * keys. For each connection the plugin then plays what that cloud
 * documents (ARCHITECTURE.md sections 3 and 4):
 *
 *   AWS IoT Core   X.509 only, certificate CN = client id = thing name;
 *                  at most 1 CONNECT per second per client id (THROTTLED);
 *                  reserved `$` topics only as documented, for its own
 *                  thing; topics and filters <= 256 bytes and <= 7 slashes
 *                  outside `$aws`; payload <= 128 KB; QoS 2 gets no
 *                  acknowledgement.
 *   Azure IoT Hub  client id = device id (`dev/module` for a module),
 *                  user name `<hub>/<client id>/?api-version=...`; SAS
 *                  tokens checked against the device's keys (HMAC-SHA256
 *                  over `sr` and `se`, `sr` naming this hub and device) and
 *                  the connection closed when the token expires; X.509 by
 *                  CA with CN = device id; publish and subscribe only on
 *                  the documented topics of its own identity; D2C <= 256 KB,
 *                  method responses <= 128 KB; QoS 2 publish closes the
 *                  connection (and the Azure listeners set `max_qos 1`, so a
 *                  QoS 2 subscription is granted QoS 1, as the hub does).
 *
 * Both clouds keep one connection per identity; mosquitto's own session
 * takeover does that. A client that breaks a rule is disconnected without
 * an answer (the PUBACK or SUBACK mosquitto would send is written to a
 * closed socket), as the clouds do, and the violation is appended as one
 * JSON line to the `violations` file, with the cloud's own error code.
 *
 * The cloud's services (tools/cloud/services.py) log in as the service user
 * and are not restricted. Two things a hub does per connection, the plugin
 * does for them:
 *
 *   routing   `$iothub/...` topics name no device: the hub knows the sender
 *             by its connection. A device's `$iothub/...` publish reaches the
 *             services as `$nimbus/from/<client id>/$iothub/...`, and a
 *             service publish on `$nimbus/to/<client id>/<topic>` reaches
 *             that one connection as `<topic>` (client ids percent-encoded).
 *   presence  `$nimbus/presence/<client id>`: "1" when the device has
 *             connected, "0" when it is gone (direct methods answer 404
 *             for a device that is not connected), and
 *             `$nimbus/c2d-ready/<client id>` when it subscribes to its
 *             C2D topic (the hub's C2D queue delivers from then on). Not
 *             retained: the services hold a persistent session and forget
 *             every device when the broker goes away.
 *
 * Options (plugin_opt_<name> in mosquitto.conf; global settings, because
 * mosquitto 2.0 sends its periodic tick only to global plugins):
 *   registry          path of the SQLite registry (required)
 *   violations        path of the JSON-lines violation log (required)
 *   hub               the Azure hub's host name (required for Azure devices)
 *   service_user      user name of the cloud side
 *   service_password  its password
 *   connect_interval_ms  AWS's CONNECT throttle per client id (1000)
 *
 * This is a test tool for the host; it is not part of the device library.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#define ID_MAX 128              /* AWS: client id <= 128 bytes; Azure device id <= 128 */
#define AWS_TOPIC_MAX 256
#define AWS_SLASHES_MAX 7
#define AWS_PAYLOAD_MAX (128 * 1024)
#define AZURE_D2C_MAX (256 * 1024)
#define AZURE_METHOD_MAX (128 * 1024)
#define KEY_MAX 128

enum cloud { CLOUD_AWS, CLOUD_AZURE, CLOUD_SERVICE };

static const char *cloud_name(enum cloud c)
{
    return c == CLOUD_AWS ? "aws" : c == CLOUD_AZURE ? "azure" : "service";
}

/* A connected client the plugin accepted. */
struct conn {
    const struct mosquitto *client;
    char id[ID_MAX + 1];
    enum cloud cloud;
    time_t expires; /* SAS `se`; 0: does not expire */
    struct conn *next;
};

/* The last CONNECT of a client id (AWS throttle). */
struct attempt {
    char id[ID_MAX + 1];
    struct timespec at;
    struct attempt *next;
};

/* A registry row. */
struct device {
    enum cloud cloud;
    bool x509;
    bool enabled;
    char key1[KEY_MAX + 1];
    char key2[KEY_MAX + 1];
};

static mosquitto_plugin_id_t *plugin_id;
static char *opt_registry, *opt_violations, *opt_hub, *opt_service_user, *opt_service_password;
static long opt_connect_interval_ms = 1000;
static struct conn *conns;
static struct attempt *attempts;

/* ------------------------------------------------------------ the log */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

/* Appends one violation: {"time", "cloud", "client", "code", "message",
 * "topic"}. `topic` may be NULL. Never logs a password or a key. */
static void violation(enum cloud cloud, const char *client, const char *code, const char *topic,
                      const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "nimbus-rules: %s %s %s: %s", cloud_name(cloud),
                         client ? client : "?", code, message);
    FILE *f = fopen(opt_violations, "a");
    if (!f) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "nimbus-rules: cannot append to %s: %s", opt_violations,
                             strerror(errno));
        return;
    }
    fprintf(f, "{\"time\":%lld,\"cloud\":", (long long)time(NULL));
    json_string(f, cloud_name(cloud));
    fputs(",\"client\":", f);
    json_string(f, client);
    fputs(",\"code\":", f);
    json_string(f, code);
    fputs(",\"message\":", f);
    json_string(f, message);
    if (topic) {
        fputs(",\"topic\":", f);
        json_string(f, topic);
    }
    fputs("}\n", f);
    fclose(f);
}

/* ------------------------------------------------------- connections */

static struct conn *conn_of(const struct mosquitto *client)
{
    for (struct conn *c = conns; c; c = c->next) {
        if (c->client == client) {
            return c;
        }
    }
    return NULL;
}

static void conn_drop(const struct mosquitto *client)
{
    for (struct conn **p = &conns; *p; p = &(*p)->next) {
        if ((*p)->client == client) {
            struct conn *gone = *p;
            *p = gone->next;
            free(gone);
            return;
        }
    }
}

static int conn_add(const struct mosquitto *client, const char *id, enum cloud cloud, time_t expires)
{
    conn_drop(client);
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        return MOSQ_ERR_NOMEM;
    }
    c->client = client;
    snprintf(c->id, sizeof c->id, "%s", id);
    c->cloud = cloud;
    c->expires = expires;
    c->next = conns;
    conns = c;
    return MOSQ_ERR_SUCCESS;
}

/* Disconnects `c` without an answer, after logging why; the caller's
 * packet is refused too. */
static int kick(const struct conn *c, const char *code, const char *topic, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char id[ID_MAX + 1];
    snprintf(id, sizeof id, "%s", c->id); /* the kick frees c (on_disconnect) */
    violation(c->cloud, id, code, topic, "%s", message);
    mosquitto_kick_client_by_clientid(id, true);
    return MOSQ_ERR_ACL_DENIED;
}

/* ---------------------------------------------------------- registry */

/* Reads `id` from the registry; false when it is not registered. */
static bool registry_lookup(const char *id, struct device *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool found = false;
    memset(out, 0, sizeof *out);
    if (sqlite3_open_v2(opt_registry, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "nimbus-rules: registry %s: %s", opt_registry,
                             db ? sqlite3_errmsg(db) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(db, 2000);
    if (sqlite3_prepare_v2(db,
                           "SELECT cloud, auth, enabled, coalesce(primary_key, ''), "
                           "coalesce(secondary_key, '') FROM devices WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "nimbus-rules: registry %s: %s", opt_registry, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *cloud = (const char *)sqlite3_column_text(st, 0);
        const char *auth = (const char *)sqlite3_column_text(st, 1);
        out->cloud = cloud && !strcmp(cloud, "azure") ? CLOUD_AZURE : CLOUD_AWS;
        out->x509 = auth && !strcmp(auth, "x509");
        out->enabled = sqlite3_column_int(st, 2) != 0;
        snprintf(out->key1, sizeof out->key1, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(out->key2, sizeof out->key2, "%s", (const char *)sqlite3_column_text(st, 4));
        found = true;
    }
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

/* ----------------------------------------------------------- helpers */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* `s` after `prefix`, or NULL. */
static const char *after(const char *s, const char *prefix)
{
    return starts_with(s, prefix) ? s + strlen(prefix) : NULL;
}

static int slashes(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '/';
    }
    return n;
}

static bool equal_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* Percent-decodes `in` (len bytes) into `out` (NUL-terminated); false when
 * it does not fit or is malformed. */
static bool url_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 1 >= cap) {
            return false;
        }
        if (in[i] == '%') {
            if (i + 2 >= len || !isxdigit((unsigned char)in[i + 1]) || !isxdigit((unsigned char)in[i + 2])) {
                return false;
            }
            char hex[3] = {in[i + 1], in[i + 2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
    return true;
}

/* The Common Name of the client's certificate into `cn`; false without a
 * certificate. */
static bool certificate_cn(const struct mosquitto *client, char *cn, size_t cap)
{
    X509 *cert = mosquitto_client_certificate(client);
    if (!cert) {
        return false;
    }
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, (int)cap);
    X509_free(cert);
    return n > 0;
}

/* ------------------------------------------------------ Azure SAS */

/* A field `name=` of a SAS token (the part after "SharedAccessSignature "),
 * as pointer and length; false when absent. */
static bool sas_field(const char *token, const char *name, const char **value, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = token;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t fl = end ? (size_t)(end - p) : strlen(p);
        if (fl > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            *value = p + nl + 1;
            *len = fl - nl - 1;
            return true;
        }
        if (!end) {
            break;
        }
        p = end + 1;
    }
    return false;
}

/* Checks an Azure SAS token for `device` against its keys; on success
 * stores its expiry. On failure `why` says what was wrong (no secret in it). */
static bool sas_valid(const char *password, const char *device, const struct device *reg, time_t *expires,
                      const char **why)
{
    const char *token = after(password ? password : "", "SharedAccessSignature ");
    const char *sr, *sig, *se;
    size_t sr_len, sig_len, se_len;
    if (!token || !sas_field(token, "sr", &sr, &sr_len) || !sas_field(token, "sig", &sig, &sig_len) ||
        !sas_field(token, "se", &se, &se_len)) {
        *why = "the password is not a SharedAccessSignature with sr, sig and se";
        return false;
    }
    char resource[512], want[512];
    if (!url_decode(sr, sr_len, resource, sizeof resource)) {
        *why = "sr is not URL-encoded";
        return false;
    }
    snprintf(want, sizeof want, "%s/devices/%s", opt_hub ? opt_hub : "", device);
    /* A module's identity is devices/<dev>/modules/<module>. */
    const char *slash = strchr(device, '/');
    if (slash) {
        snprintf(want, sizeof want, "%s/devices/%.*s/modules/%s", opt_hub ? opt_hub : "",
                 (int)(slash - device), device, slash + 1);
    }
    if (strcasecmp(resource, want) != 0) {
        *why = "sr does not name this hub and device";
        return false;
    }
    char digits[24];
    if (se_len == 0 || se_len >= sizeof digits) {
        *why = "se is not a time";
        return false;
    }
    memcpy(digits, se, se_len);
    digits[se_len] = 0;
    char *end;
    long long expiry = strtoll(digits, &end, 10);
    if (*end || expiry <= 0) {
        *why = "se is not a time";
        return false;
    }
    if (expiry <= (long long)time(NULL)) {
        *why = "the token has expired";
        return false;
    }
    char sig_b64[128];
    unsigned char given[64];
    if (!url_decode(sig, sig_len, sig_b64, sizeof sig_b64)) {
        *why = "sig is not URL-encoded";
        return false;
    }
    size_t b64_len = strlen(sig_b64);
    if (b64_len != 44) { /* base64 of 32 bytes */
        *why = "sig is not a base64 HMAC-SHA256";
        return false;
    }
    if (EVP_DecodeBlock(given, (const unsigned char *)sig_b64, (int)b64_len) != 33) {
        *why = "sig is not a base64 HMAC-SHA256";
        return false;
    }
    /* String to sign: the resource as sent, a newline, the expiry. */
    char to_sign[600];
    int n = snprintf(to_sign, sizeof to_sign, "%.*s\n%s", (int)sr_len, sr, digits);
    if (n <= 0 || (size_t)n >= sizeof to_sign) {
        *why = "sr is too long";
        return false;
    }
    const char *keys[2] = {reg->key1, reg->key2};
    for (int k = 0; k < 2; k++) {
        unsigned char key[96];
        size_t kl = strlen(keys[k]);
        if (kl == 0 || kl % 4 != 0 || kl / 4 * 3 > sizeof key) {
            continue;
        }
        int decoded = EVP_DecodeBlock(key, (const unsigned char *)keys[k], (int)kl);
        if (decoded <= 0) {
            continue;
        }
        decoded -= (keys[k][kl - 1] == '=') + (keys[k][kl - 2] == '=');
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        if (HMAC(EVP_sha256(), key, decoded, (const unsigned char *)to_sign, (size_t)n, mac, &mac_len) &&
            mac_len == 32 && CRYPTO_memcmp(mac, given, 32) == 0) {
            *expires = (time_t)expiry;
            return true;
        }
    }
    *why = "the signature does not match the device's keys";
    return false;
}

/* --------------------------------------------------------- CONNECT */

static void presence(const char *id, bool up);

static int device_up(const struct mosquitto *client, const char *id, enum cloud cloud, time_t expires)
{
    int rc = conn_add(client, id, cloud, expires);
    if (rc == MOSQ_ERR_SUCCESS) {
        presence(id, true);
    }
    return rc;
}

/* AWS: 1 CONNECT per second per client id; every attempt counts. */
static bool aws_throttled(const char *id)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct attempt *a;
    for (a = attempts; a; a = a->next) {
        if (!strcmp(a->id, id)) {
            break;
        }
    }
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a) {
            return false;
        }
        snprintf(a->id, sizeof a->id, "%s", id);
        a->next = attempts;
        attempts = a;
        a->at = now;
        return false;
    }
    long long ms = (long long)(now.tv_sec - a->at.tv_sec) * 1000 + (now.tv_nsec - a->at.tv_nsec) / 1000000;
    a->at = now;
    return ms < opt_connect_interval_ms;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)userdata;
    struct mosquitto_evt_basic_auth *ev = event_data;
    const char *id = mosquitto_client_id(ev->client);
    if (!id || !*id) {
        return MOSQ_ERR_AUTH;
    }
    if (opt_service_user && ev->username && !strcmp(ev->username, opt_service_user)) {
        if (ev->password && opt_service_password && equal_secret(ev->password, opt_service_password)) {
            return conn_add(ev->client, id, CLOUD_SERVICE, 0);
        }
        violation(CLOUD_SERVICE, id, "AUTH", NULL, "wrong password for the service user");
        return MOSQ_ERR_AUTH;
    }
    struct device reg;
    if (strlen(id) > ID_MAX || !registry_lookup(id, &reg)) {
        /* Neither cloud knows it: AWS has no thing or policy for it, the
         * hub no device. */
        violation(CLOUD_AWS, id, "AUTH_ERROR", NULL,
                  "client id is not a registered thing or device (Azure: 404001 DeviceNotFound)");
        return MOSQ_ERR_AUTH;
    }
    char cn[ID_MAX + 1];
    bool has_cert = certificate_cn(ev->client, cn, sizeof cn);
    if (reg.cloud == CLOUD_AWS) {
        if (aws_throttled(id)) {
            violation(CLOUD_AWS, id, "THROTTLED", NULL, "more than 1 CONNECT per second for this client id");
            return MOSQ_ERR_AUTH;
        }
        if (!reg.enabled) {
            violation(CLOUD_AWS, id, "AUTH_ERROR", NULL, "the thing's certificate is not ACTIVE");
            return MOSQ_ERR_AUTH;
        }
        if (!has_cert) {
            violation(CLOUD_AWS, id, "AUTH_ERROR", NULL, "AWS IoT Core needs an X.509 client certificate");
            return MOSQ_ERR_AUTH;
        }
        if (strcmp(cn, id) != 0) {
            violation(CLOUD_AWS, id, "AUTH_ERROR", NULL,
                      "the policy allows iot:Connect only as the certificate's thing (CN %s)", cn);
            return MOSQ_ERR_AUTH;
        }
        if (!ev->username) {
            /* AWS ignores the user name. Give the session one: mosquitto
             * 2.0.11 writes a stale user name length into its persistence
             * file for a session without one that follows a session with
             * one (fixed upstream in 2.0.16). ev->username is not used
             * after this. */
            mosquitto_set_username(ev->client, id);
        }
        return device_up(ev->client, id, CLOUD_AWS, 0);
    }
    /* Azure */
    char want[600];
    snprintf(want, sizeof want, "%s/%s/?", opt_hub ? opt_hub : "", id);
    const char *query = ev->username ? after(ev->username, want) : NULL;
    if (!query && ev->username && strlen(ev->username) >= strlen(want) &&
        !strncasecmp(ev->username, want, strlen(want))) {
        query = ev->username + strlen(want); /* host names compare without case */
    }
    if (!query || !(starts_with(query, "api-version=") || strstr(query, "&api-version="))) {
        violation(CLOUD_AZURE, id, "401003 IoTHubUnauthorized", NULL,
                  "user name must be <hub>/<device id>/?api-version=<version>");
        return MOSQ_ERR_AUTH;
    }
    if (!reg.enabled) {
        violation(CLOUD_AZURE, id, "401003 IoTHubUnauthorized", NULL, "the device is disabled");
        return MOSQ_ERR_AUTH;
    }
    if (reg.x509) {
        char device[ID_MAX + 1];
        snprintf(device, sizeof device, "%.*s", (int)strcspn(id, "/"), id);
        if (!has_cert || strcmp(cn, device) != 0) {
            violation(CLOUD_AZURE, id, "401003 IoTHubUnauthorized", NULL,
                      has_cert ? "the certificate's CN is not the device id"
                               : "the device authenticates by X.509 CA and sent no certificate");
            return MOSQ_ERR_AUTH;
        }
        return device_up(ev->client, id, CLOUD_AZURE, 0);
    }
    time_t expires = 0;
    const char *why = "";
    if (!sas_valid(ev->password, id, &reg, &expires, &why)) {
        violation(CLOUD_AZURE, id, "401003 IoTHubUnauthorized", NULL, "SAS token refused: %s", why);
        return MOSQ_ERR_AUTH;
    }
    return device_up(ev->client, id, CLOUD_AZURE, expires);
}

/* ----------------------------------------------------------- topics */

static void announce(const char *prefix, const char *id, char value);
#define C2D_READY_PREFIX "$nimbus/c2d-ready/"

static bool aws_shadow_op(const char *s)
{
    return !strcmp(s, "get") || !strcmp(s, "update") || !strcmp(s, "delete");
}

static bool aws_shadow_name(const char *s, size_t len)
{
    if (len == 0 || len > 64) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr(":_-", s[i])) {
            return false;
        }
    }
    return true;
}

/* The reserved topics an AWS thing may publish to. */
static bool aws_reserved_publish(const char *thing, const char *topic)
{
    char prefix[ID_MAX + 32];
    snprintf(prefix, sizeof prefix, "$aws/things/%s/", thing);
    const char *rest = after(topic, prefix);
    if (rest) {
        const char *op = after(rest, "shadow/");
        if (op) {
            const char *named = after(op, "name/");
            if (named) {
                const char *slash = strchr(named, '/');
                return slash && aws_shadow_name(named, (size_t)(slash - named)) && aws_shadow_op(slash + 1);
            }
            return aws_shadow_op(op);
        }
        return starts_with(rest, "jobs/");
    }
    return starts_with(topic, "$aws/rules/");
}

/* The reserved topic filters an AWS thing may subscribe to. */
static bool aws_reserved_subscribe(const char *thing, const char *filter)
{
    char prefix[ID_MAX + 32];
    snprintf(prefix, sizeof prefix, "$aws/things/%s/", thing);
    const char *rest = after(filter, prefix);
    if (rest) {
        return starts_with(rest, "shadow/") || starts_with(rest, "jobs/");
    }
    return starts_with(filter, "$aws/events/");
}

static int aws_check(const struct conn *c, const struct mosquitto_evt_acl_check *ev)
{
    bool sub = ev->access == MOSQ_ACL_SUBSCRIBE;
    const char *t = ev->topic;
    if (ev->qos > 1) {
        return kick(c, "CLIENT_ERROR", t, "QoS 2 is not supported (no %s is sent)", sub ? "SUBACK" : "PUBACK");
    }
    if (strlen(t) > AWS_TOPIC_MAX) {
        return kick(c, "CLIENT_ERROR", t, "topic longer than 256 bytes");
    }
    if (t[0] == '$') {
        bool ok = sub ? aws_reserved_subscribe(c->id, t) : aws_reserved_publish(c->id, t);
        if (!ok) {
            return kick(c, starts_with(t, "$aws/things/") ? "AUTH_ERROR" : "CLIENT_ERROR", t,
                        "%s on a reserved topic that is not documented for this thing",
                        sub ? "SUBSCRIBE" : "PUBLISH");
        }
    } else if (slashes(t) > AWS_SLASHES_MAX) {
        return kick(c, "CLIENT_ERROR", t, "topic with more than 7 forward slashes");
    }
    if (!sub && ev->payloadlen > AWS_PAYLOAD_MAX) {
        return kick(c, "CLIENT_ERROR", t, "payload of %u bytes exceeds the 128 KB limit", ev->payloadlen);
    }
    return MOSQ_ERR_SUCCESS;
}

/* `rest` is `?$rid=<something>[&...]`. */
static bool azure_rid_query(const char *rest)
{
    const char *rid = after(rest, "?$rid=");
    return rid && *rid && *rid != '&';
}

static int azure_check(const struct conn *c, const struct mosquitto_evt_acl_check *ev)
{
    const char *t = ev->topic;
    char dev[ID_MAX + 1], module[ID_MAX + 1] = "";
    const char *slash = strchr(c->id, '/');
    snprintf(dev, sizeof dev, "%.*s", (int)(slash ? (size_t)(slash - c->id) : strlen(c->id)), c->id);
    if (slash) {
        snprintf(module, sizeof module, "%s", slash + 1);
    }
    char identity[2 * ID_MAX + 32];
    if (*module) {
        snprintf(identity, sizeof identity, "devices/%s/modules/%s/", dev, module);
    } else {
        snprintf(identity, sizeof identity, "devices/%s/", dev);
    }
    if (ev->access == MOSQ_ACL_SUBSCRIBE) {
        const char *rest = after(t, identity);
        bool c2d = rest && !*module && !strcmp(rest, "messages/devicebound/#");
        bool ok = c2d || !strcmp(t, "$iothub/twin/res/#") ||
                  !strcmp(t, "$iothub/twin/PATCH/properties/desired/#") || !strcmp(t, "$iothub/methods/POST/#");
        if (c2d) {
            announce(C2D_READY_PREFIX, c->id, '1'); /* the hub's C2D queue may deliver now */
        }
        return ok ? MOSQ_ERR_SUCCESS : kick(c, "SUBSCRIBE refused", t, "topic filter is not one IoT Hub offers");
    }
    /* publish */
    if (ev->qos > 1) {
        return kick(c, "PUBLISH refused", t, "QoS 2 is not supported");
    }
    const char *rest = after(t, identity);
    if (rest && starts_with(rest, "messages/events/")) {
        if (ev->payloadlen > AZURE_D2C_MAX) {
            return kick(c, "413001 RequestEntityTooLarge", t,
                        "device-to-cloud message of %u bytes exceeds 256 KB", ev->payloadlen);
        }
        return MOSQ_ERR_SUCCESS;
    }
    const char *q;
    if ((q = after(t, "$iothub/twin/GET/")) || (q = after(t, "$iothub/twin/PATCH/properties/reported/"))) {
        if (azure_rid_query(q)) {
            return MOSQ_ERR_SUCCESS; /* the twin service answers size and depth limits itself */
        }
    } else if ((q = after(t, "$iothub/methods/res/"))) {
        size_t digits = strspn(q, "0123456789");
        if (digits > 0 && q[digits] == '/' && azure_rid_query(q + digits + 1)) {
            if (ev->payloadlen > AZURE_METHOD_MAX) {
                return kick(c, "413001 RequestEntityTooLarge", t,
                            "direct method response of %u bytes exceeds 128 KB", ev->payloadlen);
            }
            return MOSQ_ERR_SUCCESS;
        }
    }
    return kick(c, "PUBLISH refused", t, "topic is not one IoT Hub accepts from this identity");
}

/* What a client may receive: on Azure, messages addressed to another
 * identity never reach it. */
static bool azure_may_receive(const char *id, const char *topic)
{
    const char *rest = after(topic, "devices/");
    if (!rest) {
        return true;
    }
    size_t dev_len = strcspn(id, "/");
    return !strncmp(rest, id, dev_len) && rest[dev_len] == '/';
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)userdata;
    struct mosquitto_evt_acl_check *ev = event_data;
    const char *username = mosquitto_client_username(ev->client);
    if (opt_service_user && username && !strcmp(username, opt_service_user)) {
        return MOSQ_ERR_SUCCESS;
    }
    const struct conn *c = conn_of(ev->client);
    if (ev->access == MOSQ_ACL_READ) {
        /* Also asked for offline sessions, which have no connection here. */
        const char *id = mosquitto_client_id(ev->client);
        if (c) {
            return c->cloud != CLOUD_AZURE || azure_may_receive(c->id, ev->topic) ? MOSQ_ERR_SUCCESS
                                                                                  : MOSQ_ERR_ACL_DENIED;
        }
        struct device reg;
        if (!id || !registry_lookup(id, &reg)) {
            return MOSQ_ERR_ACL_DENIED;
        }
        return reg.cloud != CLOUD_AZURE || azure_may_receive(id, ev->topic) ? MOSQ_ERR_SUCCESS
                                                                            : MOSQ_ERR_ACL_DENIED;
    }
    if (!c) {
        return MOSQ_ERR_ACL_DENIED;
    }
    return c->cloud == CLOUD_AWS ? aws_check(c, ev) : c->cloud == CLOUD_AZURE ? azure_check(c, ev) : MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------- routing and presence */

#define FROM_PREFIX "$nimbus/from/"
#define TO_PREFIX "$nimbus/to/"
#define PRESENCE_PREFIX "$nimbus/presence/"

/* `id` percent-encoded into `out` (`/`, `%`, `+`, `#` and controls). */
static void id_encode(const char *id, char *out, size_t cap)
{
    size_t o = 0;
    for (; *id && o + 4 < cap; id++) {
        unsigned char c = (unsigned char)*id;
        if (c <= 0x20 || c == '/' || c == '%' || c == '+' || c == '#' || c >= 0x7F) {
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

/* Tells the services `<prefix><id>` = `value` (one character). */
static void announce(const char *prefix, const char *id, char value)
{
    char enc[3 * ID_MAX + 1], topic[sizeof enc + 32];
    id_encode(id, enc, sizeof enc);
    snprintf(topic, sizeof topic, "%s%s", prefix, enc);
    char *payload = mosquitto_malloc(1);
    if (!payload) {
        return;
    }
    payload[0] = value;
    mosquitto_broker_publish(NULL, topic, 1, payload, 1, false, NULL);
}

static void presence(const char *id, bool up)
{
    announce(PRESENCE_PREFIX, id, up ? '1' : '0');
}

static bool connected_elsewhere(const struct mosquitto *client, const char *id)
{
    for (struct conn *c = conns; c; c = c->next) {
        if (c->client != client && c->cloud != CLOUD_SERVICE && !strcmp(c->id, id)) {
            return true;
        }
    }
    return false;
}

/* A device's `$iothub/...` publish goes on as `$nimbus/from/<id>/...`; a
 * service's `$nimbus/to/<id>/<topic>` goes to that connection only. */
static int on_message(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)userdata;
    struct mosquitto_evt_message *ev = event_data;
    const struct conn *c = conn_of(ev->client);
    if (!c) {
        return MOSQ_ERR_SUCCESS;
    }
    if (c->cloud == CLOUD_AZURE && starts_with(ev->topic, "$iothub/")) {
        char enc[3 * ID_MAX + 1];
        id_encode(c->id, enc, sizeof enc);
        size_t len = strlen(FROM_PREFIX) + strlen(enc) + 1 + strlen(ev->topic) + 1;
        char *topic = mosquitto_malloc(len);
        if (!topic) {
            return MOSQ_ERR_NOMEM;
        }
        snprintf(topic, len, FROM_PREFIX "%s/%s", enc, ev->topic);
        mosquitto_free(ev->topic);
        ev->topic = topic;
        return MOSQ_ERR_SUCCESS;
    }
    const char *rest;
    if (c->cloud == CLOUD_SERVICE && (rest = after(ev->topic, TO_PREFIX))) {
        const char *slash = strchr(rest, '/');
        char id[ID_MAX + 1];
        if (!slash || !url_decode(rest, (size_t)(slash - rest), id, sizeof id) || !slash[1]) {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "nimbus-rules: bad service topic %s", ev->topic);
            return MOSQ_ERR_SUCCESS;
        }
        void *payload = NULL;
        if (ev->payloadlen) {
            payload = mosquitto_malloc(ev->payloadlen);
            if (!payload) {
                return MOSQ_ERR_NOMEM;
            }
            memcpy(payload, ev->payload, ev->payloadlen);
        }
        mosquitto_broker_publish(id, slash + 1, (int)ev->payloadlen, payload, ev->qos, false, NULL);
    }
    return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------ lifecycle */

static int on_tick(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)event_data;
    (void)userdata;
    time_t now = time(NULL);
    bool again = true;
    while (again) { /* a kick frees its entry (on_disconnect): start over after each */
        again = false;
        for (struct conn *c = conns; c; c = c->next) {
            if (c->expires && c->expires <= now) {
                char id[ID_MAX + 1];
                snprintf(id, sizeof id, "%s", c->id);
                c->expires = 0;
                violation(c->cloud, id, "401003 IoTHubUnauthorized", NULL,
                          "SAS token expired; the hub closes the connection");
                mosquitto_kick_client_by_clientid(id, true);
                again = true;
                break;
            }
        }
    }
    return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)userdata;
    struct mosquitto_evt_disconnect *ev = event_data;
    const struct conn *c = conn_of(ev->client);
    if (c && c->cloud != CLOUD_SERVICE && !connected_elsewhere(ev->client, c->id)) {
        presence(c->id, false); /* not when a new connection took the identity over */
    }
    conn_drop(ev->client);
    return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------- plugin API */

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts,
                          int opt_count)
{
    (void)userdata;
    plugin_id = identifier;
    for (int i = 0; i < opt_count; i++) {
        const char *k = opts[i].key, *v = opts[i].value;
        if (!strcmp(k, "registry")) {
            opt_registry = strdup(v);
        } else if (!strcmp(k, "violations")) {
            opt_violations = strdup(v);
        } else if (!strcmp(k, "hub")) {
            opt_hub = strdup(v);
        } else if (!strcmp(k, "service_user")) {
            opt_service_user = strdup(v);
        } else if (!strcmp(k, "service_password")) {
            opt_service_password = strdup(v);
        } else if (!strcmp(k, "connect_interval_ms")) {
            opt_connect_interval_ms = strtol(v, NULL, 10);
        } else {
            mosquitto_log_printf(MOSQ_LOG_ERR, "nimbus-rules: unknown option %s", k);
            return MOSQ_ERR_INVAL;
        }
    }
    if (!opt_registry || !opt_violations) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "nimbus-rules: plugin_opt_registry and plugin_opt_violations are required");
        return MOSQ_ERR_INVAL;
    }
    int rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
    rc = rc ? rc : mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL);
    rc = rc ? rc : mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
    rc = rc ? rc : mosquitto_callback_register(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL);
    rc = rc ? rc : mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
    if (!rc) {
        mosquitto_log_printf(MOSQ_LOG_INFO, "nimbus-rules: registry %s, hub %s", opt_registry,
                             opt_hub ? opt_hub : "(none)");
    }
    return rc;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
    (void)userdata;
    (void)opts;
    (void)opt_count;
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
    while (conns) {
        conn_drop(conns->client);
    }
    while (attempts) {
        struct attempt *a = attempts;
        attempts = a->next;
        free(a);
    }
    free(opt_registry);
    free(opt_violations);
    free(opt_hub);
    free(opt_service_user);
    free(opt_service_password);
    opt_registry = opt_violations = opt_hub = opt_service_user = opt_service_password = NULL;
    return MOSQ_ERR_SUCCESS;
}
