/*
 * mqtt_trace.h - follows one direction of an MQTT 3.1.1 byte stream and
 * hands each complete packet to a callback, already decoded enough for a
 * one-line log: the packet type, and for a PUBLISH its topic, packet id
 * and the first bytes of its payload.
 *
 * The demo feeds it what the transport actually sent or received (after
 * TLS), so every line shows the cloud topic as it went over the wire.
 * Bytes arrive in any split; a packet's head (up to MQTT_TRACE_HEAD_LEN
 * bytes) is kept, the rest only counted. No allocation.
 */
#ifndef MQTT_TRACE_H
#define MQTT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes kept of each packet (fixed header excluded). */
#define MQTT_TRACE_HEAD_LEN 1024u

/** MQTT control packet types. */
enum mqtt_trace_type {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14,
};

/** One complete packet. Pointers are valid during the callback only. */
typedef struct {
    uint8_t type;          /**< enum mqtt_trace_type */
    uint8_t flags;         /**< low nibble of the first byte */
    size_t remaining_len;  /**< the packet's remaining length */
    const uint8_t *body;   /**< its first bytes after the fixed header */
    size_t body_len;       /**< how many of them (<= MQTT_TRACE_HEAD_LEN) */
    /* PUBLISH only: */
    const char *topic;     /**< the topic (not NUL-terminated) */
    size_t topic_len;      /**< its length */
    uint8_t qos;           /**< 0 or 1 */
    bool dup;              /**< a retransmission */
    uint16_t packet_id;    /**< 0 for QoS 0 */
    const uint8_t *payload; /**< the first bytes of the payload */
    size_t payload_len;     /**< how many of them */
    size_t payload_total;   /**< the payload's full length */
} mqtt_trace_packet_t;

/** Receives each complete packet. */
typedef void (*mqtt_trace_fn)(void *user, const mqtt_trace_packet_t *packet);

/** The state of one direction. */
typedef struct {
    mqtt_trace_fn emit;  /**< the callback */
    void *user;          /**< passed to emit */
    uint8_t first;       /**< first byte of the current packet */
    uint8_t len_bytes;   /**< remaining-length bytes read so far */
    uint8_t state;       /**< internal */
    size_t remaining;    /**< the remaining length being decoded or read */
    size_t left;         /**< body bytes still to come */
    size_t kept;         /**< body bytes kept in head */
    bool garbled;        /**< the stream cannot be followed until reset */
    uint8_t head[MQTT_TRACE_HEAD_LEN]; /**< the kept body bytes */
} mqtt_trace_t;

/** Starts following a new stream (a new connection). */
void mqtt_trace_init(mqtt_trace_t *t, mqtt_trace_fn emit, void *user);

/** Forgets any partial packet (the link was closed or reopened). */
void mqtt_trace_reset(mqtt_trace_t *t);

/** Follows len more bytes of the stream. */
void mqtt_trace_feed(mqtt_trace_t *t, const uint8_t *buf, size_t len);

/** A short name of a packet type, e.g. "PUBACK". */
const char *mqtt_trace_type_name(uint8_t type);

#endif /* MQTT_TRACE_H */
