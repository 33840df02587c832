/*
 * mqtt_trace.c - see mqtt_trace.h.
 */
#include "mqtt_trace.h"

#include <string.h>

enum { WANT_HEADER = 0, WANT_LENGTH, WANT_BODY };

void mqtt_trace_init(mqtt_trace_t *t, mqtt_trace_fn emit, void *user)
{
    memset(t, 0, sizeof *t);
    t->emit = emit;
    t->user = user;
}

void mqtt_trace_reset(mqtt_trace_t *t)
{
    t->state = WANT_HEADER;
    t->len_bytes = 0;
    t->remaining = 0;
    t->left = 0;
    t->kept = 0;
    t->garbled = false;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)(p[0] << 8) | p[1]);
}

/* Decodes the PUBLISH fields that fit in the kept head. */
static void decode_publish(mqtt_trace_packet_t *p)
{
    p->qos = (uint8_t)((p->flags >> 1) & 3u);
    p->dup = (p->flags & 8u) != 0;
    if (p->body_len < 2) {
        return;
    }
    size_t topic_len = be16(p->body);
    size_t at = 2;
    if (topic_len > p->body_len - at) {
        topic_len = p->body_len - at; /* only its head was kept */
        p->topic = (const char *)p->body + at;
        p->topic_len = topic_len;
        return;
    }
    p->topic = (const char *)p->body + at;
    p->topic_len = topic_len;
    at += topic_len;
    size_t header_len = at + (p->qos > 0 ? 2u : 0u);
    if (p->qos > 0 && p->body_len >= at + 2) {
        p->packet_id = be16(p->body + at);
    }
    if (p->remaining_len >= header_len) {
        p->payload_total = p->remaining_len - header_len;
    }
    if (p->body_len > header_len) {
        p->payload = p->body + header_len;
        p->payload_len = p->body_len - header_len;
    }
}

static void finish(mqtt_trace_t *t)
{
    mqtt_trace_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = (uint8_t)(t->first >> 4);
    p.flags = (uint8_t)(t->first & 0x0fu);
    p.remaining_len = t->remaining;
    p.body = t->head;
    p.body_len = t->kept;
    if (p.type == MQTT_PUBLISH) {
        decode_publish(&p);
    }
    t->state = WANT_HEADER;
    if (t->emit != NULL) {
        t->emit(t->user, &p);
    }
}

void mqtt_trace_feed(mqtt_trace_t *t, const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len && !t->garbled) {
        switch (t->state) {
        case WANT_HEADER:
            t->first = buf[i++];
            t->remaining = 0;
            t->len_bytes = 0;
            t->kept = 0;
            t->state = WANT_LENGTH;
            break;
        case WANT_LENGTH: {
            uint8_t b = buf[i++];
            t->remaining |= (size_t)(b & 0x7fu) << (7u * t->len_bytes);
            t->len_bytes++;
            if ((b & 0x80u) == 0) {
                t->left = t->remaining;
                t->state = WANT_BODY;
                if (t->left == 0) {
                    finish(t);
                }
            } else if (t->len_bytes == 4) {
                t->garbled = true; /* not MQTT: stop following */
            }
            break;
        }
        case WANT_BODY: {
            size_t n = len - i < t->left ? len - i : t->left;
            size_t room = MQTT_TRACE_HEAD_LEN - t->kept;
            size_t keep = n < room ? n : room;
            memcpy(t->head + t->kept, buf + i, keep);
            t->kept += keep;
            t->left -= n;
            i += n;
            if (t->left == 0) {
                finish(t);
            }
            break;
        }
        default:
            t->garbled = true;
            break;
        }
    }
}

const char *mqtt_trace_type_name(uint8_t type)
{
    static const char *const names[16] = {
        "RESERVED",  "CONNECT",  "CONNACK",     "PUBLISH",
        "PUBACK",    "PUBREC",   "PUBREL",      "PUBCOMP",
        "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
        "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH",
    };
    return names[type & 0x0fu];
}
