/*
 * fakes.h - scripted behaviour behind the Zephyr stand-ins (stubs/).
 * Each test resets the fakes with fake_reset(), scripts the results it
 * wants, runs port code, and inspects what the port asked for.
 */
#ifndef NIMBUS_ZEPHYR_FAKES_H
#define NIMBUS_ZEPHYR_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/net/dns_resolve.h>
#include <zephyr/net/net_if.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>

#define FAKE_MAX 16

/* One scripted result of send/recv/connect: ret >= 0 is a byte count (send
 * takes min(ret, len)), or ret = -1 with err set into errno. */
struct fake_io {
    int ret;
    int err;
    const char *data; /* recv: bytes to deliver (ret of them) */
};

struct fake_sockopt {
    int fd;
    int level;
    int optname;
    uint8_t value[64];
    size_t len;
};

struct fake_cred {
    sec_tag_t tag;
    enum tls_credential_type type;
    size_t len;
};

struct fake_state {
    /* name resolution */
    int gai_ret;          /* non-zero: zsock_getaddrinfo fails */
    int gai_count;        /* addresses returned (IPv4 127.0.0.x) */
    int gai_calls;
    int freeaddrinfo_calls;
    char gai_host[64];
    char gai_service[8];
    /* sockets */
    int next_fd;
    int socket_err;       /* non-zero: zsock_socket fails with it */
    int socket_family[FAKE_MAX];
    int socket_proto[FAKE_MAX];
    int sockets;
    int closed[FAKE_MAX];
    int closes;
    struct fake_sockopt opts[FAKE_MAX];
    int nopts;
    int sockopt_fail;     /* optname whose setsockopt fails (0: none) */
    struct fake_io connect_script[FAKE_MAX];
    int nconnect, connect_calls;
    int fcntl_flags;      /* flags of the socket (one at a time) */
    int fcntl_fail;       /* non-zero: F_SETFL fails */
    struct fake_io send_script[FAKE_MAX];
    int nsend, send_calls;
    uint8_t sent[4096];
    size_t sent_len;
    struct fake_io recv_script[FAKE_MAX];
    int nrecv, recv_calls;
    /* poll */
    int poll_ret;
    int poll_err;
    short poll_revents;
    short poll_events;
    int poll_timeout;
    int poll_calls;
    /* time, random, sleep */
    int64_t uptime_ms;
    int32_t slept_ms;
    uint8_t rand_byte;
    /* credentials */
    struct fake_cred creds[FAKE_MAX];
    int ncreds;
    int cred_add_ret[FAKE_MAX]; /* per call; 0 if not scripted */
    int cred_add_calls;
    int cred_deletes;
    /* sensors */
    bool device_ready;
    int fetch_ret;
    int get_ret;
    struct sensor_value value;
    enum sensor_channel asked_chan;
    int fetches;
    /* network */
    bool have_iface;
    struct in_addr v4, mask, gw;
    bool have_v4, have_v6;
    struct in6_addr v6;
    uint8_t mac[6];
    uint8_t mac_len;
    struct dns_resolve_context dns;
    bool have_dns;
    /* flash and NVS: an in-memory entry per id */
    size_t page_size;     /* 0: flash_get_page_info_by_offs fails */
    off_t page_offset;    /* the offset asked for */
    int nvs_mount_ret;
    int nvs_mounts;
    int nvs_io_err;       /* non-zero: reads/writes/deletes fail with -it */
    bool nvs_have[FAKE_MAX];
    uint8_t nvs_data[FAKE_MAX][128];
    size_t nvs_len[FAKE_MAX];
    int nvs_writes;
    /* log */
    char log[8192];
    size_t log_len;
};

extern struct fake_state fake;

void fake_reset(void);
/* True if a logged line contains text. */
bool fake_logged(const char *text);
/* The recorded option (level, optname) on fd, or NULL. */
const struct fake_sockopt *fake_sockopt(int fd, int level, int optname);

extern const struct device fake_sensor_dev;
extern const struct device fake_flash_dev;

#endif
