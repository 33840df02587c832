/*
 * nimbus-demo - a simulated device on the POSIX port of Nimbus.
 *
 * It connects to AWS IoT Core or Azure IoT Hub (or a local broker playing
 * either), reports its general information to the shadow/twin, answers
 * general_information, sensor/list and sensor/<n>/get for N simulated
 * sensors, publishes their readings every period, applies a desired
 * telemetry_period_ms and reports it back. Every MQTT packet that carries
 * something is logged as one line:
 *
 *   12:00:01.234 → devices/d/messages/events/subtopic=response.sensor.0.reading {"id":0,...}
 *
 * (→ sent, ← received, -- what the client reported, !! errors). The SAS
 * key and token are never logged (only a token's expiry).
 *
 * Exit codes: 0 after --run-for-s (or SIGINT/SIGTERM), 1 bad arguments,
 * 2 cannot connect (the reason is printed), 3 the client cannot be set up.
 * See samples/host/README.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mqtt_trace.h"
#include "nimbus.h"
#include "nimbus_posix.h"

/** Sensors the demo can simulate (the core's default bound). */
#define DEMO_MAX_SENSORS 8u
/** Bytes of the client's buffer (nimbus_buffer_len says what is used). */
#define DEMO_BUFFER_LEN (24u * 1024u)
/** QoS 1 packet ids the demo follows until acknowledged. */
#define DEMO_MAX_INFLIGHT 64u
/** Longest payload excerpt in a log line. */
#define DEMO_EXCERPT_LEN 160u
/** How long the demo waits for unacknowledged readings before it exits. */
#define DEMO_DRAIN_MS 5000u

typedef struct {
    const char *cloud_name;
    uint32_t cloud;
    const char *host;
    const char *connect_address;
    uint16_t port;
    const char *device;
    const char *hub;
    const char *ca;
    const char *cert;
    const char *key;
    const char *sas_key;
    uint32_t sas_lifetime_s;
    bool has_fake_time;
    int64_t fake_unix_time;
    bool plain_tcp;
    unsigned sensors;
    uint32_t telemetry_period_ms;
    uint8_t qos;
    uint32_t run_for_s;
    uint32_t connect_attempts;
    uint32_t backoff_max_ms;
    const char *store;
    uint16_t queue_len;
    bool drop_oldest;
    bool verbose;
    const char *record_file;
    bool port_given;
    nimbus_record_t record; /* from --record: its strings point into record_bytes */
} demo_options_t;

/* A provisioning record as a device keeps it in flash (--record). */
static uint8_t record_bytes[64 * 1024];

typedef struct {
    demo_options_t opt;
    nimbus_posix_transport_t tr;
    mqtt_trace_t tx;
    mqtt_trace_t rx;
    uint64_t started_ms;
    bool ever_up;
    unsigned failed_attempts;
    int32_t fatal;            /* why the demo gives up connecting, or 0 */
    char port_said[256];      /* the port's last log line */
    uint16_t inflight[DEMO_MAX_INFLIGHT];
    size_t inflight_len;
    uint64_t readings;
    uint64_t first_seq;
    uint64_t last_seq;
    unsigned connections;
    uint32_t sensor_reads[DEMO_MAX_SENSORS];
    nimbus_posix_store_t store; /* with --store */
    uint64_t boot;              /* the readings' boot number, 0 if none */
} demo_t;

static nimbus_client_t client;
static uint8_t client_memory[DEMO_BUFFER_LEN];
static demo_t demo;
static volatile sig_atomic_t stop_requested;

/* ---------------------------------------------------------------- log */

static void stamp(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    snprintf(out, 32, "%02d:%02d:%02d.%03u", tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
             (unsigned)(ts.tv_nsec / 1000000L) % 1000u);
}

/** One log line: time, mark (→ ← -- !!), text. */
__attribute__((format(printf, 2, 3))) static void say(const char *mark, const char *fmt, ...)
{
    char when[32];
    stamp(when);
    printf("%s %s ", when, mark);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/** Writes at most `max` bytes of `p` readably into out (NUL-terminated). */
static void excerpt(char *out, size_t cap, const uint8_t *p, size_t len, size_t total, size_t max)
{
    size_t o = 0;
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
    if (total > n && o + 24 < cap) {
        snprintf(out + o, cap - o, "... (%zu bytes)", total);
    }
}

/* --------------------------------------------------- in-flight QoS 1 */

static bool inflight_has(const demo_t *d, uint16_t id)
{
    for (size_t i = 0; i < d->inflight_len; i++) {
        if (d->inflight[i] == id) {
            return true;
        }
    }
    return false;
}

static void inflight_add(demo_t *d, uint16_t id)
{
    for (size_t i = 0; i < d->inflight_len; i++) {
        if (d->inflight[i] == id) {
            return;
        }
    }
    if (d->inflight_len < DEMO_MAX_INFLIGHT) {
        d->inflight[d->inflight_len++] = id;
    }
}

static void inflight_remove(demo_t *d, uint16_t id)
{
    for (size_t i = 0; i < d->inflight_len; i++) {
        if (d->inflight[i] == id) {
            d->inflight[i] = d->inflight[--d->inflight_len];
            return;
        }
    }
}

/* ----------------------------------------------------- packet tracing */

/** A length-prefixed MQTT string at *at in body, or false. */
static bool mqtt_string(const uint8_t *body, size_t len, size_t *at, const char **s, size_t *n)
{
    if (*at + 2 > len) {
        return false;
    }
    size_t l = (size_t)((body[*at] << 8) | body[*at + 1]);
    if (*at + 2 + l > len) {
        return false;
    }
    *s = (const char *)body + *at + 2;
    *n = l;
    *at += 2 + l;
    return true;
}

static void trace_connect(const mqtt_trace_packet_t *p)
{
    /* "MQTT" (2 + 4 bytes), level, flags, keepalive, then the client id. */
    if (p->body_len < 10) {
        say("→", "CONNECT");
        return;
    }
    uint8_t flags = p->body[7];
    size_t at = 10;
    const char *id = "", *user = "", *pass = "", *s;
    size_t id_len = 0, user_len = 0, pass_len = 0, n;
    bool ok = mqtt_string(p->body, p->body_len, &at, &id, &id_len);
    if (ok && (flags & 0x04u)) { /* will topic and message */
        ok = mqtt_string(p->body, p->body_len, &at, &s, &n) &&
             mqtt_string(p->body, p->body_len, &at, &s, &n);
    }
    if (ok && (flags & 0x80u)) {
        ok = mqtt_string(p->body, p->body_len, &at, &user, &user_len);
    }
    if (ok && (flags & 0x40u)) {
        ok = mqtt_string(p->body, p->body_len, &at, &pass, &pass_len);
    }
    char password[64] = "none";
    if (pass_len > 0) {
        /* Only the expiry of a SAS token is shown, never the signature. */
        const char *se = NULL;
        for (size_t i = 0; i + 3 < pass_len; i++) {
            if ((i == 0 || pass[i - 1] == '&' || pass[i - 1] == ' ') && memcmp(pass + i, "se=", 3) == 0) {
                se = pass + i + 3;
            }
        }
        if (se != NULL) {
            size_t k = 0;
            while (se + k < pass + pass_len && isdigit((unsigned char)se[k]) && k < 20) {
                k++;
            }
            snprintf(password, sizeof password, "SAS token, se=%.*s", (int)k, se);
        } else {
            snprintf(password, sizeof password, "%zu bytes", pass_len);
        }
    }
    say("→", "CONNECT client_id=%.*s%s%.*s password=(%s) keepalive=%us", (int)id_len, id,
        user_len ? " user=" : "", (int)user_len, user, password,
        (unsigned)((p->body[8] << 8) | p->body[9]));
}

static const char *connack_text(uint8_t code)
{
    switch (code) {
    case 0: return "accepted";
    case 1: return "refused: protocol version";
    case 2: return "refused: client identifier";
    case 3: return "refused: server unavailable";
    case 4: return "refused: bad user name or password";
    case 5: return "refused: not authorised";
    default: return "refused";
    }
}

static void trace_subscribe(const mqtt_trace_packet_t *p)
{
    char line[768];
    size_t o = 0;
    size_t at = 2; /* packet id */
    const char *f;
    size_t n;
    line[0] = '\0';
    while (o + 8 < sizeof line && mqtt_string(p->body, p->body_len, &at, &f, &n)) {
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%.*s", o ? ", " : "", (int)n, f);
        at++; /* requested QoS */
        if (o >= sizeof line) {
            o = sizeof line - 1;
        }
    }
    say("→", "SUBSCRIBE %s", line);
}

static void trace(demo_t *d, bool out, const mqtt_trace_packet_t *p)
{
    const char *arrow = out ? "→" : "←";
    switch (p->type) {
    case MQTT_PUBLISH: {
        /* A QoS 1 publish whose packet id is still unacknowledged is sent
         * again (after a reconnect), whatever its DUP flag says. */
        bool again = p->dup;
        if (out && p->qos > 0) {
            again = again || inflight_has(d, p->packet_id);
            inflight_add(d, p->packet_id);
        }
        char text[DEMO_EXCERPT_LEN * 4 + 32];
        excerpt(text, sizeof text, p->payload, p->payload_len, p->payload_total, DEMO_EXCERPT_LEN);
        if (d->opt.verbose) {
            say(arrow, "%.*s %s  (q%u id %u%s%s)", (int)p->topic_len, p->topic, text, p->qos,
                p->packet_id, p->dup ? " dup" : "", again ? " retransmitted" : "");
        } else {
            say(arrow, "%.*s %s%s", (int)p->topic_len, p->topic, text,
                again ? "  (retransmitted)" : "");
        }
        /* Readings: count them and follow their sequence numbers. */
        bool reading = p->topic_len > 7 &&
                       memcmp(p->topic + p->topic_len - 7, "reading", 7) == 0;
        if (out && reading && !again) {
            static const char key[] = "\"seq\":";
            for (size_t i = 0; i + sizeof key - 1 < p->payload_len; i++) {
                if (memcmp(p->payload + i, key, sizeof key - 1) == 0) {
                    uint64_t seq = strtoull((const char *)p->payload + i + sizeof key - 1, NULL, 10);
                    if (d->readings == 0) {
                        d->first_seq = seq;
                    }
                    d->last_seq = seq;
                    d->readings++;
                    static const char boot_key[] = "\"boot\":";
                    for (size_t j = i; j + sizeof boot_key - 1 < p->payload_len; j++) {
                        if (memcmp(p->payload + j, boot_key, sizeof boot_key - 1) == 0) {
                            d->boot = strtoull((const char *)p->payload + j + sizeof boot_key - 1,
                                               NULL, 10);
                            break;
                        }
                    }
                    break;
                }
            }
        }
        break;
    }
    case MQTT_PUBACK:
        if (!out && p->body_len >= 2) {
            inflight_remove(d, (uint16_t)((p->body[0] << 8) | p->body[1]));
        }
        if (d->opt.verbose && p->body_len >= 2) {
            say(arrow, "PUBACK id %u", (unsigned)((p->body[0] << 8) | p->body[1]));
        }
        break;
    case MQTT_CONNECT:
        trace_connect(p);
        break;
    case MQTT_CONNACK:
        say(arrow, "CONNACK %s", p->body_len >= 2 ? connack_text(p->body[1]) : "(short)");
        break;
    case MQTT_SUBSCRIBE:
        trace_subscribe(p);
        break;
    case MQTT_SUBACK: {
        /* Only worth a line when refused (or asked for). */
        bool refused = false;
        for (size_t i = 2; i < p->body_len; i++) {
            refused = refused || p->body[i] == 0x80;
        }
        if (!refused && !d->opt.verbose) {
            break;
        }
        char granted[64] = "";
        size_t o = 0;
        for (size_t i = 2; i < p->body_len && o + 6 < sizeof granted; i++) {
            o += (size_t)snprintf(granted + o, sizeof granted - o, "%s%s", o ? " " : "",
                                  p->body[i] == 0x80 ? "refused" : p->body[i] ? "1" : "0");
        }
        say(arrow, "SUBACK granted QoS %s", granted);
        break;
    }
    case MQTT_DISCONNECT:
        say(arrow, "DISCONNECT");
        break;
    default:
        if (d->opt.verbose) {
            say(arrow, "%s", mqtt_trace_type_name(p->type));
        }
        break;
    }
}

static void trace_out(void *user, const mqtt_trace_packet_t *p) { trace(user, true, p); }
static void trace_in(void *user, const mqtt_trace_packet_t *p) { trace(user, false, p); }

/* ------------------------------------- the transport, traced and logged */

static void port_log(void *user, const char *line)
{
    demo_t *d = user;
    snprintf(d->port_said, sizeof d->port_said, "%s", line);
    say("!!", "port: %s", line);
}

static int32_t demo_open(void *ctx)
{
    demo_t *d = ctx;
    int32_t r = nimbus_posix_transport_open(&d->tr);
    if (r == 1) {
        mqtt_trace_reset(&d->tx);
        mqtt_trace_reset(&d->rx);
        say("--", "link up: %s %s:%u", d->opt.plain_tcp ? "TCP" : "TLS", d->opt.host, d->opt.port);
    }
    return r;
}

static int32_t demo_send(void *ctx, const uint8_t *buf, size_t len)
{
    demo_t *d = ctx;
    int32_t r = nimbus_posix_transport_send(&d->tr, buf, len);
    if (r > 0) {
        mqtt_trace_feed(&d->tx, buf, (size_t)r);
    }
    return r;
}

static int32_t demo_recv(void *ctx, uint8_t *buf, size_t len)
{
    demo_t *d = ctx;
    int32_t r = nimbus_posix_transport_recv(&d->tr, buf, len);
    if (r > 0) {
        mqtt_trace_feed(&d->rx, buf, (size_t)r);
    }
    return r;
}

static void demo_close(void *ctx)
{
    demo_t *d = ctx;
    nimbus_posix_transport_close(&d->tr);
    mqtt_trace_reset(&d->tx);
    mqtt_trace_reset(&d->rx);
}

/* ---------------------------------------------------- platform services */

static uint32_t demo_random(void *ctx)
{
    (void)ctx;
    return nimbus_posix_random_u32();
}

static int32_t demo_hmac(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg,
                         size_t msg_len, uint8_t *out)
{
    (void)ctx;
    return nimbus_posix_hmac_sha256(key, key_len, msg, msg_len, out) == 0
               ? 0
               : NIMBUS_ERR_INVALID_CREDENTIALS;
}

/** The client's trace lines (with --verbose). */
static void demo_trace(void *ctx, uint8_t level, const char *text, size_t len)
{
    (void)ctx;
    (void)level;
    say("..", "nimbus: %.*s", (int)len, text);
}

/** The store's functions get the demo as their context. */
static int32_t demo_store_read(void *ctx, uint16_t id, uint8_t *buf, size_t cap)
{
    demo_t *d = ctx;
    return nimbus_posix_store_read(&d->store, id, buf, cap);
}

static int32_t demo_store_write(void *ctx, uint16_t id, const uint8_t *data, size_t len)
{
    demo_t *d = ctx;
    return nimbus_posix_store_write(&d->store, id, data, len);
}

/** The wall clock, or with --fake-unix-time a clock that starts there. */
static int64_t demo_unix_time(void *ctx)
{
    demo_t *d = ctx;
    if (d->opt.has_fake_time) {
        return d->opt.fake_unix_time + (int64_t)((nimbus_posix_now_ms() - d->started_ms) / 1000u);
    }
    return (int64_t)time(NULL);
}

/* ------------------------------------------------------------- sensors */

typedef struct {
    const char *kind;
    const char *unit;
    int64_t base;      /* mantissa */
    int64_t step;      /* per reading, up and down */
    uint8_t decimals;
} demo_sensor_t;

static const demo_sensor_t SENSORS[DEMO_MAX_SENSORS] = {
    {"temperature", "Cel", 2150, 15, 2},  {"humidity", "%RH", 455, 5, 1},
    {"pressure", "hPa", 101325, 7, 2},    {"illuminance", "lx", 320, 11, 0},
    {"co2", "ppm", 415, 3, 0},            {"voltage", "V", 3300, 4, 3},
    {"current", "A", 125, 2, 3},          {"battery", "%", 980, -1, 1},
};

/** A reading that rises and falls around the sensor's base value. */
static int32_t read_sensor(void *user, uint16_t id, int64_t *mantissa, uint8_t *decimals)
{
    demo_t *d = user;
    if (id >= d->opt.sensors) {
        return NIMBUS_ERR_NOT_FOUND;
    }
    const demo_sensor_t *s = &SENSORS[id];
    uint32_t k = d->sensor_reads[id]++ % 20u;
    int64_t wave = k < 10u ? (int64_t)k : (int64_t)(20u - k);
    *mantissa = s->base + wave * s->step;
    *decimals = s->decimals;
    return 0;
}

/* ----------------------------------------------------------- callbacks */

static void on_connection(void *user, nimbus_client_t *c, bool up, int32_t reason)
{
    demo_t *d = user;
    (void)c;
    if (up) {
        d->connections++;
        d->ever_up = true;
        d->failed_attempts = 0;
        say("--", "connected as %s (%s), connection %u", d->opt.device, d->opt.cloud_name,
             d->connections);
        return;
    }
    if (reason == 0) {
        say("--", "disconnected");
        return;
    }
    say("!!", "link down: %s (%" PRId32 ")%s", nimbus_strerror(reason), reason,
         d->ever_up || d->fatal ? "; reconnecting with backoff" : "");
    if (!d->ever_up) {
        d->failed_attempts++;
        if (d->opt.connect_attempts != 0 && d->failed_attempts >= d->opt.connect_attempts) {
            d->fatal = reason;
        }
    }
}

static void on_desired(void *user, nimbus_client_t *c, const char *json, size_t len,
                       uint64_t version)
{
    (void)user;
    (void)c;
    char text[DEMO_EXCERPT_LEN * 4 + 32];
    excerpt(text, sizeof text, (const uint8_t *)json, len, len, DEMO_EXCERPT_LEN);
    say("--", "desired properties v%" PRIu64 ": %s", version, text);
}

static void on_twin(void *user, nimbus_client_t *c, const nimbus_twin_result_t *r)
{
    (void)user;
    (void)c;
    char a[DEMO_EXCERPT_LEN * 4 + 32], b[DEMO_EXCERPT_LEN * 4 + 32];
    switch (r->kind) {
    case NIMBUS_TWIN_ACCEPTED:
        if (r->has_version) {
            say("--", "report %" PRIu32 " accepted, version %" PRIu64, r->request_id, r->version);
        } else {
            say("--", "report %" PRIu32 " accepted", r->request_id);
        }
        break;
    case NIMBUS_TWIN_DOCUMENT:
        excerpt(a, sizeof a, (const uint8_t *)r->desired, r->desired_len, r->desired_len,
                DEMO_EXCERPT_LEN);
        excerpt(b, sizeof b, (const uint8_t *)r->reported, r->reported_len,
                r->reported_len, DEMO_EXCERPT_LEN);
        say("--", "twin document version %" PRIu64 ": desired %s reported %s", r->version, a, b);
        break;
    case NIMBUS_TWIN_REJECTED:
        excerpt(a, sizeof a, (const uint8_t *)r->message, r->message_len, r->message_len,
                DEMO_EXCERPT_LEN);
        say("!!", "twin request %" PRIu32 " rejected: %" PRId32 " %s", r->request_id, r->status,
             a);
        break;
    case NIMBUS_TWIN_FAILED:
    default:
        say("!!", "twin request %" PRIu32 " failed: %s", r->request_id,
             nimbus_strerror(r->status));
        break;
    }
}

static void on_published(void *user, nimbus_client_t *c, uint16_t packet_id)
{
    (void)c;
    demo_t *d = user;
    inflight_remove(d, packet_id);
}

static void on_request_expired(void *user, nimbus_client_t *c, uint32_t handle, const char *path,
                               size_t len)
{
    (void)user;
    (void)c;
    say("!!", "request %" PRIu32 " (%.*s) expired unanswered", handle, (int)len, path);
}

static void on_error(void *user, nimbus_client_t *c, int32_t error, const char *what, size_t len)
{
    (void)user;
    (void)c;
    say("!!", "%.*s: %s (%" PRId32 ")", (int)len, what, nimbus_strerror(error), error);
}

/** Requests the built-in model does not know: logged, answered 404. */
static int32_t on_other_request(void *user, nimbus_client_t *c, const nimbus_request_t *req,
                                uint8_t *reply, size_t cap, size_t *len)
{
    (void)c;
    (void)user;
    say("--", "request %.*s: unknown to this device, answering 404", (int)req->path_len,
         req->path);
    int n = snprintf((char *)reply, cap, "{\"status\":404,\"error\":\"unknown request\"}");
    *len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    return 404;
}

/* ------------------------------------------------------------- options */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: nimbus-demo --cloud aws|azure --host HOST --port PORT --device ID\n"
        "                   [--hub HOSTNAME] --ca FILE --cert FILE --key FILE\n"
        "                   [--sas-key BASE64] [--plain-tcp] [--sensors N]\n"
        "                   [--telemetry-period-ms N] [--qos 0|1] [--run-for-s N]\n"
        "       nimbus-demo --record FILE [--connect-address ADDR] [--sensors N] ...\n"
        "\n"
        "  --record FILE             a provisioning record (nimbus provision write, the\n"
        "                            provisioning service): cloud, host, port, device,\n"
        "                            shadow or module, credentials; instead of those options\n"
        "  --cloud aws|azure         the cloud's dialect\n"
        "  --host HOST               broker name: TLS server name and address\n"
        "  --port PORT               broker port (default 8883)\n"
        "  --connect-address ADDR    connect here instead of HOST (TLS still checks HOST)\n"
        "  --device ID               AWS thing name / Azure device id\n"
        "  --hub HOSTNAME            Azure IoT Hub host name (default: HOST)\n"
        "  --ca FILE                 trusted CA certificate(s), PEM\n"
        "  --cert FILE --key FILE    the device's certificate and key, PEM\n"
        "  --sas-key BASE64          Azure: authenticate with a SAS token from this key\n"
        "  --sas-lifetime-s N        lifetime of each SAS token, >= 10 (default 3600)\n"
        "  --fake-unix-time UNIX_S   tests: the clock of SAS tokens starts at UNIX_S\n"
        "  --plain-tcp               no TLS (local brokers only)\n"
        "  --sensors N               simulated sensors, 0..%u (default 2)\n"
        "  --telemetry-period-ms N   readings of every sensor every N ms (default 5000, 0 off)\n"
        "  --qos 0|1                 QoS of the readings (default 1)\n"
        "  --run-for-s N             exit 0 after N seconds (default 0: until Ctrl-C)\n"
        "  --connect-attempts N      failed attempts before giving up while never\n"
        "                            connected (default 1; 0: never give up). Once\n"
        "                            connected, the device reconnects with backoff.\n"
        "  --backoff-max-ms N        longest delay between reconnect attempts\n"
        "                            (default 30000; delays start at 1 s and double)\n"
        "  --store DIR               keep the boot counter, the readings' seq and the\n"
        "                            queue of unacknowledged readings in DIR across\n"
        "                            runs (readings then carry \"boot\")\n"
        "  --queue-len N             readings the store's queue holds (default 64)\n"
        "  --drop-oldest             a full queue drops its oldest reading (default:\n"
        "                            the new one is refused)\n"
        "  -v, --verbose             also log acknowledgements and packet ids\n",
        DEMO_MAX_SENSORS);
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int bad(const char *what, const char *value)
{
    fprintf(stderr, "nimbus-demo: invalid %s: '%s'\n", what, value);
    return -1;
}

/* --record: the identity, server and credentials from a provisioning
 * record, read as the firmware reads it (nimbus_record_parse). */
static int load_record(demo_options_t *o)
{
    if (o->cloud_name != NULL || o->host != NULL || o->port_given || o->device != NULL || o->hub != NULL ||
        o->ca != NULL || o->cert != NULL || o->key != NULL || o->sas_key != NULL) {
        fprintf(stderr, "nimbus-demo: --record replaces --cloud, --host, --port, --device, --hub, "
                        "--ca, --cert, --key and --sas-key\n");
        return -1;
    }
    FILE *f = fopen(o->record_file, "rb");
    if (f == NULL) {
        fprintf(stderr, "nimbus-demo: cannot read %s: %s\n", o->record_file, strerror(errno));
        return -1;
    }
    size_t len = fread(record_bytes, 1, sizeof record_bytes, f);
    fclose(f);
    nimbus_err_t err = nimbus_record_parse(record_bytes, len, &o->record);
    if (err != NIMBUS_OK) {
        fprintf(stderr, "nimbus-demo: %s: %s\n", o->record_file, nimbus_strerror(err));
        return -1;
    }
    const nimbus_record_t *r = &o->record;
    o->cloud = r->cloud;
    o->cloud_name = r->cloud == NIMBUS_CLOUD_AZURE ? "azure" : "aws";
    o->host = r->host;
    o->port = r->port;
    o->device = r->device_id;
    o->sas_key = r->sas_key;
    o->hub = r->cloud == NIMBUS_CLOUD_AZURE ? r->host : NULL;
    o->ca = r->ca_pem != NULL ? "(record)" : NULL; /* the PEM itself goes to the transport */
    return 0;
}

static int parse_options(int argc, char **argv, demo_options_t *o)
{
    enum {
        O_CLOUD = 256, O_HOST, O_PORT, O_ADDR, O_DEVICE, O_HUB, O_CA, O_CERT, O_KEY, O_SAS,
        O_SAS_LIFE, O_FAKE_TIME, O_PLAIN, O_SENSORS, O_PERIOD, O_QOS, O_RUN_FOR, O_ATTEMPTS,
        O_BACKOFF, O_STORE, O_QUEUE_LEN, O_DROP_OLDEST, O_RECORD, O_HELP
    };
    static const struct option longs[] = {
        {"cloud", required_argument, NULL, O_CLOUD},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"connect-address", required_argument, NULL, O_ADDR},
        {"device", required_argument, NULL, O_DEVICE},
        {"hub", required_argument, NULL, O_HUB},
        {"ca", required_argument, NULL, O_CA},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"sas-key", required_argument, NULL, O_SAS},
        {"sas-lifetime-s", required_argument, NULL, O_SAS_LIFE},
        {"fake-unix-time", required_argument, NULL, O_FAKE_TIME},
        {"plain-tcp", no_argument, NULL, O_PLAIN},
        {"sensors", required_argument, NULL, O_SENSORS},
        {"telemetry-period-ms", required_argument, NULL, O_PERIOD},
        {"qos", required_argument, NULL, O_QOS},
        {"run-for-s", required_argument, NULL, O_RUN_FOR},
        {"connect-attempts", required_argument, NULL, O_ATTEMPTS},
        {"backoff-max-ms", required_argument, NULL, O_BACKOFF},
        {"store", required_argument, NULL, O_STORE},
        {"queue-len", required_argument, NULL, O_QUEUE_LEN},
        {"drop-oldest", no_argument, NULL, O_DROP_OLDEST},
        {"record", required_argument, NULL, O_RECORD},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->port = 8883;
    o->sensors = 2;
    o->telemetry_period_ms = 5000;
    o->qos = 1;
    o->connect_attempts = 1;
    o->sas_lifetime_s = 3600;
    uint32_t v;
    int c;
    while ((c = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
        switch (c) {
        case O_CLOUD:
            if (strcmp(optarg, "aws") == 0) {
                o->cloud = NIMBUS_CLOUD_AWS;
            } else if (strcmp(optarg, "azure") == 0) {
                o->cloud = NIMBUS_CLOUD_AZURE;
            } else {
                return bad("--cloud (aws or azure)", optarg);
            }
            o->cloud_name = optarg;
            break;
        case O_HOST: o->host = optarg; break;
        case O_PORT:
            if (!parse_u32(optarg, 65535, &v) || v == 0) {
                return bad("--port", optarg);
            }
            o->port = (uint16_t)v;
            o->port_given = true;
            break;
        case O_ADDR: o->connect_address = optarg; break;
        case O_DEVICE: o->device = optarg; break;
        case O_HUB: o->hub = optarg; break;
        case O_CA: o->ca = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_SAS: o->sas_key = optarg; break;
        case O_SAS_LIFE:
            /* The client refuses tokens that live under 10 s. */
            if (!parse_u32(optarg, UINT32_MAX, &v) || v < 10) {
                return bad("--sas-lifetime-s (at least 10)", optarg);
            }
            o->sas_lifetime_s = v;
            break;
        case O_FAKE_TIME: {
            char *end;
            errno = 0;
            long long t = strtoll(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || t < 0) {
                return bad("--fake-unix-time", optarg);
            }
            o->has_fake_time = true;
            o->fake_unix_time = t;
            break;
        }
        case O_PLAIN: o->plain_tcp = true; break;
        case O_SENSORS:
            if (!parse_u32(optarg, DEMO_MAX_SENSORS, &v)) {
                return bad("--sensors", optarg);
            }
            o->sensors = v;
            break;
        case O_PERIOD:
            if (!parse_u32(optarg, UINT32_MAX, &v)) {
                return bad("--telemetry-period-ms", optarg);
            }
            o->telemetry_period_ms = v;
            break;
        case O_QOS:
            if (!parse_u32(optarg, 1, &v)) {
                return bad("--qos (0 or 1)", optarg);
            }
            o->qos = (uint8_t)v;
            break;
        case O_RUN_FOR:
            if (!parse_u32(optarg, UINT32_MAX / 1000u, &v)) {
                return bad("--run-for-s", optarg);
            }
            o->run_for_s = v;
            break;
        case O_ATTEMPTS:
            if (!parse_u32(optarg, UINT32_MAX, &v)) {
                return bad("--connect-attempts", optarg);
            }
            o->connect_attempts = v;
            break;
        case O_BACKOFF:
            if (!parse_u32(optarg, UINT32_MAX, &v) || v < 1000u) {
                return bad("--backoff-max-ms (at least 1000)", optarg);
            }
            o->backoff_max_ms = v;
            break;
        case O_STORE: o->store = optarg; break;
        case O_QUEUE_LEN:
            if (!parse_u32(optarg, 4096u, &v) || v == 0) {
                return bad("--queue-len (1..4096)", optarg);
            }
            o->queue_len = (uint16_t)v;
            break;
        case O_DROP_OLDEST: o->drop_oldest = true; break;
        case O_RECORD: o->record_file = optarg; break;
        case 'v': o->verbose = true; break;
        case 'h':
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        return bad("argument", argv[optind]);
    }
    if (o->record_file != NULL && load_record(o) != 0) {
        return -1;
    }
    const char *missing = o->cloud_name == NULL ? "--cloud"
                          : o->host == NULL     ? "--host"
                          : o->device == NULL   ? "--device"
                          : (o->ca == NULL && !o->plain_tcp) ? "--ca"
                                                             : NULL;
    if (missing != NULL) {
        fprintf(stderr, "nimbus-demo: %s is required (--help for usage)\n", missing);
        return -1;
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        fprintf(stderr, "nimbus-demo: --cert and --key go together\n");
        return -1;
    }
    if (o->cloud == NIMBUS_CLOUD_AWS && (o->sas_key != NULL || o->hub != NULL)) {
        fprintf(stderr, "nimbus-demo: --sas-key and --hub are for --cloud azure\n");
        return -1;
    }
    if (o->cloud == NIMBUS_CLOUD_AZURE && o->hub == NULL) {
        o->hub = o->host;
    }
    return 0;
}

/* ---------------------------------------------------------------- main */

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/** What to tell the user when the device cannot connect. */
static const char *hint(int32_t reason)
{
    switch (reason) {
    case NIMBUS_ERR_TLS_FAILED:
        return "check --ca (it must have signed the broker's certificate), --host (the name in "
               "it) and --cert/--key (the broker must trust them and they must be valid now)";
    case NIMBUS_ERR_TRANSPORT_FAILED:
        return "is the broker running and reachable at this address and port?";
    case NIMBUS_ERR_CONNECTION_CLOSED:
        return "the broker closed the connection (a TLS broker reached without TLS, or a "
               "refused client certificate)";
    case NIMBUS_ERR_REFUSED_BAD_CREDENTIALS:
    case NIMBUS_ERR_REFUSED_NOT_AUTHORIZED:
        return "the broker refused the credentials (certificate identity, SAS key or clock)";
    default:
        return "see the lines above";
    }
}

static void poll_once(uint64_t *next_wake)
{
    uint64_t now = nimbus_posix_now_ms();
    int32_t rc = nimbus_poll(&client, now, next_wake);
    if (rc != NIMBUS_OK) {
        say("!!", "poll: %s", nimbus_strerror(rc));
    }
}

/** Sleeps until the socket needs attention, the core's next wake or `until`. */
static void wait_until(uint64_t next_wake, uint64_t until)
{
    uint64_t now = nimbus_posix_now_ms();
    uint64_t at = next_wake < until ? next_wake : until;
    uint64_t ms = at > now ? at - now : 0;
    if (ms > 1000) {
        ms = 1000; /* stay responsive to signals */
    }
    (void)nimbus_posix_wait(&demo.tr, (uint32_t)ms);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    demo_t *d = &demo;
    if (parse_options(argc, argv, &d->opt) != 0) {
        return 1;
    }
    const demo_options_t *o = &d->opt;

    bool from_record = o->record_file != NULL;
    nimbus_posix_config_t tcfg = {
        .host = o->host,
        .connect_address = o->connect_address,
        .port = o->port,
        .ca_file = from_record ? NULL : o->ca,
        .cert_file = from_record ? NULL : o->cert,
        .key_file = from_record ? NULL : o->key,
        .ca_pem = from_record ? o->record.ca_pem : NULL,
        .cert_pem = from_record ? o->record.cert_pem : NULL,
        .key_pem = from_record ? o->record.key_pem : NULL,
        .plain_tcp = o->plain_tcp,
        .log = port_log,
        .log_user = d,
    };
    int32_t rc = nimbus_posix_transport_init(&d->tr, &tcfg);
    if (rc != 0) {
        fprintf(stderr, "nimbus-demo: cannot set up TLS (%s): %s\n", nimbus_strerror(rc),
                d->port_said[0] ? d->port_said : "check the --ca, --cert and --key files");
        return 3;
    }
    mqtt_trace_init(&d->tx, trace_out, d);
    mqtt_trace_init(&d->rx, trace_in, d);

    static const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
    static const nimbus_device_info_t info = {
        .name = "nimbus-demo",
        .device_type = "simulated sensor node",
        .model = "host-demo",
        .manufacturer = "Nimbus",
        .manufacturing_date = "2024-05-01",
        .hardware_version = "1.0",
        .serial_number = "DEMO-0001",
        .ipv4 = {4, {192, 0, 2, 10}},
        .netmask = {4, {255, 255, 255, 0}},
        .gateway = {4, {192, 0, 2, 1}},
        .dns_primary = {4, {192, 0, 2, 53}},
        .mac = mac,
        .location = "lab bench",
    };
    nimbus_device_info_t dev_info = info;
    dev_info.firmware_version = nimbus_version();

    nimbus_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cloud = o->cloud;
    cfg.device_id = o->device;
    cfg.module_id = from_record ? o->record.module_id : NULL;
    cfg.shadow_name = from_record ? o->record.shadow_name : NULL;
    cfg.hub_host = o->cloud == NIMBUS_CLOUD_AZURE ? o->hub : NULL;
    cfg.sas_key = o->sas_key;
    cfg.sas_lifetime_s = o->sas_lifetime_s;
    cfg.backoff_max_ms = o->backoff_max_ms;
    cfg.telemetry_period_ms = o->telemetry_period_ms;
    cfg.telemetry_qos = o->qos;
    cfg.encoding = NIMBUS_ENCODING_JSON;
    cfg.queue_len = o->queue_len;
    cfg.queue_policy = o->drop_oldest ? NIMBUS_QUEUE_DROP_OLDEST : NIMBUS_QUEUE_REFUSE_NEW;
    cfg.memory.buffer = client_memory;
    cfg.memory.len = sizeof client_memory;
    cfg.callbacks = (nimbus_callbacks_t){
        .user = d,
        .on_connection = on_connection,
        .on_desired = on_desired,
        .on_twin = on_twin,
        .on_published = on_published,
        .on_request_expired = on_request_expired,
        .on_error = on_error,
    };
    cfg.platform = (nimbus_platform_t){
        .ctx = d,
        .random_u32 = demo_random,
        .hmac_sha256 = demo_hmac,
        .unix_time_s = demo_unix_time,
        .log = o->verbose ? demo_trace : NULL,
    };
    if (o->store != NULL) {
        rc = nimbus_posix_store_init(&d->store, o->store);
        if (rc != 0) {
            fprintf(stderr, "nimbus-demo: cannot use the store %s (%d)\n", o->store, (int)rc);
            return 1;
        }
        cfg.platform.store_read = demo_store_read;
        cfg.platform.store_write = demo_store_write;
    }
    size_t need = nimbus_buffer_len(&cfg);
    if (need == 0 || need > sizeof client_memory) {
        fprintf(stderr, "nimbus-demo: the client needs %zu bytes of buffer, the demo has %zu\n",
                need, sizeof client_memory);
        return 3;
    }
    nimbus_transport_t transport = {
        .ctx = d, .open = demo_open, .send = demo_send, .recv = demo_recv, .close = demo_close,
    };
    rc = nimbus_init(&client, &cfg, &transport);
    if (rc != NIMBUS_OK) {
        fprintf(stderr, "nimbus-demo: cannot set up the client: %s\n", nimbus_strerror(rc));
        return 3;
    }
    for (unsigned i = 0; i < o->sensors; i++) {
        rc = nimbus_register_sensor(&client, (uint16_t)i, SENSORS[i].kind, SENSORS[i].unit,
                                    read_sensor, d);
        if (rc != NIMBUS_OK) {
            fprintf(stderr, "nimbus-demo: cannot register sensor %u: %s\n", i,
                    nimbus_strerror(rc));
            return 3;
        }
    }
    rc = nimbus_register_handler(&client, "#", on_other_request, d);
    if (rc == NIMBUS_OK) {
        rc = nimbus_set_device_info(&client, &dev_info);
    }
    if (rc != NIMBUS_OK) {
        fprintf(stderr, "nimbus-demo: cannot set up the device model: %s\n", nimbus_strerror(rc));
        return 3;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    say("--", "nimbus %s, %s device %s, %u sensor(s), readings every %" PRIu32
               " ms at QoS %u, broker %s:%u%s",
         nimbus_version(), o->cloud_name, o->device, o->sensors, o->telemetry_period_ms, o->qos,
         o->host, o->port, o->sas_key ? ", SAS authentication" : "");

    d->started_ms = nimbus_posix_now_ms();
    uint64_t end = o->run_for_s ? d->started_ms + (uint64_t)o->run_for_s * 1000u : UINT64_MAX;
    rc = nimbus_connect(&client, d->started_ms);
    if (rc != NIMBUS_OK) {
        fprintf(stderr, "nimbus-demo: cannot start connecting: %s\n", nimbus_strerror(rc));
        return 3;
    }

    uint64_t next = 0;
    while (!stop_requested && nimbus_posix_now_ms() < end) {
        poll_once(&next);
        if (d->fatal != 0) {
            fprintf(stderr, "nimbus-demo: cannot connect to %s:%u: %s (%" PRId32 ")%s%s\n  %s\n",
                    o->connect_address ? o->connect_address : o->host, o->port,
                    nimbus_strerror(d->fatal), d->fatal, d->port_said[0] ? "; " : "",
                    d->port_said, hint(d->fatal));
            (void)nimbus_deinit(&client); /* exiting: nothing to do about a failure */
            nimbus_posix_transport_deinit(&d->tr);
            return 2;
        }
        wait_until(next, end);
    }

    /* Stop the readings, give the broker time to acknowledge those in
     * flight and the queue time to drain, then disconnect cleanly. All
     * bounded. */
    (void)nimbus_set_telemetry_period(&client, 0);
    nimbus_state_t state = NIMBUS_STATE_STOPPED;
    uint64_t drain_end = nimbus_posix_now_ms() + DEMO_DRAIN_MS;
    nimbus_stats_t backlog = {0};
    while ((d->inflight_len > 0 || (nimbus_stats(&client, &backlog) == NIMBUS_OK && backlog.queued > 0)) &&
           nimbus_posix_now_ms() < drain_end) {
        if (nimbus_state(&client, &state) != NIMBUS_OK || state != NIMBUS_STATE_CONNECTED) {
            break;
        }
        poll_once(&next);
        wait_until(next, drain_end);
    }
    size_t unacked = d->inflight_len;
    (void)nimbus_disconnect(&client, nimbus_posix_now_ms());
    uint64_t close_end = nimbus_posix_now_ms() + 2000u;
    while (nimbus_posix_now_ms() < close_end) {
        poll_once(&next);
        if (nimbus_state(&client, &state) != NIMBUS_OK || state == NIMBUS_STATE_STOPPED) {
            break;
        }
        wait_until(next, close_end);
    }
    uint64_t ran_ms = nimbus_posix_now_ms() - d->started_ms;
    nimbus_stats_t stats = {0};
    (void)nimbus_stats(&client, &stats);
    if (d->readings > 0) {
        char boot[32] = "";
        if (d->boot != 0) {
            snprintf(boot, sizeof boot, ", boot %" PRIu64, d->boot);
        }
        say("--", "done after %" PRIu64 ".%01" PRIu64 " s: %u connection(s), %" PRIu64
                   " readings published (seq %" PRIu64 "..%" PRIu64 "), %zu unacknowledged, %" PRIu32
                   " queued, %" PRIu32 " dropped, %" PRIu32 " refused%s",
             ran_ms / 1000u, ran_ms % 1000u / 100u, d->connections, d->readings, d->first_seq,
             d->last_seq, unacked, stats.queued, stats.dropped, stats.refused, boot);
    } else {
        say("--", "done after %" PRIu64 ".%01" PRIu64 " s: %u connection(s), no readings, %" PRIu32
                   " queued, %" PRIu32 " dropped, %" PRIu32 " refused",
             ran_ms / 1000u, ran_ms % 1000u / 100u, d->connections, stats.queued, stats.dropped,
             stats.refused);
    }
    (void)nimbus_deinit(&client); /* exiting: nothing to do about a failure */
    nimbus_posix_transport_deinit(&d->tr);
    if (!d->ever_up) {
        fprintf(stderr, "nimbus-demo: never connected to %s:%u%s%s\n", o->host, o->port,
                d->port_said[0] ? ": " : "", d->port_said);
        return 2;
    }
    return 0;
}
