/*
 * client.c - the client set up from Kconfig and the thread that drives
 * nimbus_poll().
 */
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include "nimbus_zephyr_client.h"

LOG_MODULE_DECLARE(nimbus, CONFIG_NIMBUS_LOG_LEVEL);

/* The buffer split that the Kconfig lengths describe, as the core sizes it. */
#define NZ_BUFFER_LEN                                                                       \
    NIMBUS_BUFFER_LEN(CONFIG_NIMBUS_RX_LEN, CONFIG_NIMBUS_TX_LEN, CONFIG_NIMBUS_INFLIGHT_LEN, \
                      CONFIG_NIMBUS_WORK_LEN, CONFIG_NIMBUS_REPLY_LEN,                        \
                      IS_ENABLED(CONFIG_NIMBUS_CLOUD_AZURE))

static nimbus_client_t client_storage;
static uint8_t client_buffer[NZ_BUFFER_LEN] __aligned(8);

static nimbus_zephyr_transport_t transport;
static nimbus_client_t *client;
static K_MUTEX_DEFINE(client_lock);

/* general_information: identity from Kconfig, network refreshed at each
 * connection (the core keeps pointers to these strings). */
static nimbus_zephyr_net_info_t net_info;
static nimbus_device_info_t device_info;

#if defined(CONFIG_NIMBUS_STORE_NVS) || defined(CONFIG_NIMBUS_STORE_ZMS)
#include <zephyr/storage/flash_map.h>
#define NZ_STORE 1
/* The store's partition: the `nimbus,store` chosen node, or the usual
 * `storage_partition`. */
#if DT_HAS_CHOSEN(nimbus_store)
#define NZ_STORE_NODE DT_CHOSEN(nimbus_store)
#else
#define NZ_STORE_NODE DT_NODELABEL(storage_partition)
#endif
static nimbus_zephyr_store_t store;
#endif

#if defined(CONFIG_NIMBUS_TLS)
static const char *const alpn_list[] = {CONFIG_NIMBUS_TLS_ALPN, NULL};
#endif

/* NULL for an empty string. */
static const char *opt(const char *s)
{
    return s[0] != '\0' ? s : NULL;
}

void nimbus_zephyr_default_config(nimbus_config_t *cfg, nimbus_zephyr_config_t *net)
{
    memset(cfg, 0, sizeof *cfg);
    memset(net, 0, sizeof *net);

    cfg->cloud = IS_ENABLED(CONFIG_NIMBUS_CLOUD_AZURE) ? NIMBUS_CLOUD_AZURE : NIMBUS_CLOUD_AWS;
    cfg->device_id = CONFIG_NIMBUS_DEVICE_ID;
#if defined(CONFIG_NIMBUS_CLOUD_AZURE)
    cfg->hub_host = CONFIG_NIMBUS_AZURE_HUB_HOST[0] != '\0' ? CONFIG_NIMBUS_AZURE_HUB_HOST
                                                            : CONFIG_NIMBUS_BROKER_HOST;
    cfg->module_id = opt(CONFIG_NIMBUS_AZURE_MODULE_ID);
#if defined(CONFIG_NIMBUS_SAS)
    cfg->sas_key = opt(CONFIG_NIMBUS_AZURE_SAS_KEY);
    cfg->sas_lifetime_s = CONFIG_NIMBUS_SAS_LIFETIME_S;
#endif
#else
    cfg->shadow_name = opt(CONFIG_NIMBUS_AWS_SHADOW_NAME);
#endif
    cfg->keepalive_s = CONFIG_NIMBUS_KEEPALIVE_S;
    cfg->backoff_min_ms = CONFIG_NIMBUS_BACKOFF_MIN_MS;
    cfg->backoff_max_ms = CONFIG_NIMBUS_BACKOFF_MAX_MS;
    cfg->backoff_stable_ms = CONFIG_NIMBUS_BACKOFF_STABLE_MS;
    cfg->connect_interval_ms = CONFIG_NIMBUS_CONNECT_INTERVAL_MS;
    cfg->request_timeout_ms = CONFIG_NIMBUS_REQUEST_TIMEOUT_MS;
    cfg->twin_timeout_ms = CONFIG_NIMBUS_TWIN_TIMEOUT_MS;
    cfg->telemetry_period_ms = CONFIG_NIMBUS_TELEMETRY_PERIOD_MS;
    cfg->telemetry_qos = CONFIG_NIMBUS_TELEMETRY_QOS;
    cfg->encoding = IS_ENABLED(CONFIG_NIMBUS_TELEMETRY_CBOR) ? NIMBUS_ENCODING_CBOR
                                                             : NIMBUS_ENCODING_JSON;
    cfg->memory.buffer = client_buffer;
    cfg->memory.len = sizeof client_buffer;
    cfg->memory.rx_len = CONFIG_NIMBUS_RX_LEN;
    cfg->memory.tx_len = CONFIG_NIMBUS_TX_LEN;
    cfg->memory.inflight_len = CONFIG_NIMBUS_INFLIGHT_LEN;
    cfg->memory.work_len = CONFIG_NIMBUS_WORK_LEN;
    cfg->memory.reply_len = CONFIG_NIMBUS_REPLY_LEN;
    cfg->platform.random_u32 = nimbus_zephyr_random_u32;
#if !defined(CONFIG_NIMBUS_HMAC_RUSTCRYPTO)
    cfg->platform.hmac_sha256 = nimbus_zephyr_hmac_sha256;
#endif
    cfg->platform.unix_time_s = nimbus_zephyr_unix_time_s;
    cfg->platform.log = nimbus_zephyr_log;
#if defined(NZ_STORE)
    /* The other platform functions ignore ctx. */
    cfg->platform.ctx = &store;
    cfg->platform.store_read = nimbus_zephyr_store_read;
    cfg->platform.store_write = nimbus_zephyr_store_write;
    cfg->queue_len = CONFIG_NIMBUS_QUEUE_LEN;
    cfg->queue_policy = IS_ENABLED(CONFIG_NIMBUS_QUEUE_DROP_OLDEST) ? NIMBUS_QUEUE_DROP_OLDEST
                                                                    : NIMBUS_QUEUE_REFUSE_NEW;
    cfg->queue_backlog_only = IS_ENABLED(CONFIG_NIMBUS_QUEUE_BACKLOG_ONLY);
#endif

    net->host = CONFIG_NIMBUS_BROKER_HOST;
    net->connect_address = opt(CONFIG_NIMBUS_BROKER_ADDRESS);
    net->port = CONFIG_NIMBUS_BROKER_PORT;
#if defined(CONFIG_NIMBUS_TLS)
    net->sec_tags[0] = CONFIG_NIMBUS_TLS_SEC_TAG;
    net->sec_tag_count = 1;
    if (CONFIG_NIMBUS_TLS_EXTRA_SEC_TAG >= 0) {
        net->sec_tags[1] = CONFIG_NIMBUS_TLS_EXTRA_SEC_TAG;
        net->sec_tag_count = 2;
    }
    net->insecure_skip_verify = IS_ENABLED(CONFIG_NIMBUS_TLS_SKIP_VERIFY);
    if (sizeof(CONFIG_NIMBUS_TLS_ALPN) > 1) {
        net->alpn = alpn_list;
    }
#else
    net->plain_tcp = true;
#endif
}

/* nimbus_sensor_read_fn over a table entry. */
static int32_t read_sensor(void *user, uint16_t id, int64_t *mantissa, uint8_t *decimals)
{
    (void)id;
    return nimbus_zephyr_sensor_read(user, mantissa, decimals);
}

int32_t nimbus_zephyr_register_sensors(nimbus_client_t *c, const nimbus_zephyr_sensor_t *table,
                                       size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const nimbus_zephyr_sensor_t *s = &table[i];
        nimbus_err_t r = nimbus_register_sensor(c, s->id, s->type, s->unit, read_sensor,
                                                (void *)s);
        if (r != NIMBUS_OK) {
            LOG_ERR("sensor %u (%s): %s", (unsigned)s->id, s->type, nimbus_strerror(r));
            return r;
        }
    }
    return NIMBUS_OK;
}

/* Reads the network facts into the strings device_info points to. */
static void refresh_net_info(void)
{
    (void)nimbus_zephyr_net_info(&net_info);
    device_info.ipv4 = net_info.ipv4;
    device_info.ipv6 = net_info.ipv6;
    device_info.netmask = net_info.netmask;
    device_info.gateway = net_info.gateway;
    device_info.dns_primary = net_info.dns_primary;
    device_info.dns_secondary = net_info.dns_secondary;
    device_info.mac = net_info.has_mac ? net_info.mac : NULL;
}

int32_t nimbus_zephyr_init(const nimbus_config_t *cfg, const nimbus_zephyr_config_t *net)
{
    if (client != NULL) {
        return NIMBUS_ERR_INVALID_STATE;
    }
    int32_t r = nimbus_zephyr_transport_init(&transport, net);
    if (r != 0) {
        return r;
    }
    size_t need = nimbus_buffer_len(cfg);
    if (need == 0 || need > cfg->memory.len) {
        LOG_ERR("client buffer: %u bytes given, %u needed", (unsigned)cfg->memory.len,
                (unsigned)need);
        return NIMBUS_ERR_STORAGE_TOO_SMALL;
    }
    static const nimbus_transport_t link = {
        .ctx = &transport,
        .open = nimbus_zephyr_transport_open,
        .send = nimbus_zephyr_transport_send,
        .recv = nimbus_zephyr_transport_recv,
        .close = nimbus_zephyr_transport_close,
    };
#if defined(NZ_STORE)
    if (cfg->platform.store_read == nimbus_zephyr_store_read && cfg->platform.ctx == &store) {
        r = nimbus_zephyr_store_init(&store, FIXED_PARTITION_NODE_DEVICE(NZ_STORE_NODE),
                                     FIXED_PARTITION_NODE_OFFSET(NZ_STORE_NODE),
                                     FIXED_PARTITION_NODE_SIZE(NZ_STORE_NODE));
        if (r != 0) {
            LOG_ERR("store: cannot mount (%d)", (int)r);
            return r;
        }
    }
#endif
    nimbus_client_t *c = &client_storage;
    r = nimbus_init(c, cfg, &link);
    if (r != NIMBUS_OK) {
        LOG_ERR("nimbus_init: %s", nimbus_strerror(r));
        return r;
    }
    device_info.name = cfg->device_id;
    device_info.device_type = opt(CONFIG_NIMBUS_DEVICE_TYPE);
    device_info.model = opt(CONFIG_NIMBUS_DEVICE_MODEL);
    device_info.manufacturer = opt(CONFIG_NIMBUS_DEVICE_MANUFACTURER);
    device_info.hardware_version = CONFIG_BOARD;
    device_info.firmware_version = opt(CONFIG_NIMBUS_FIRMWARE_VERSION);
    refresh_net_info();
    r = nimbus_set_device_info(c, &device_info);
    if (r != NIMBUS_OK) {
        LOG_ERR("device information: %s", nimbus_strerror(r));
        return r;
    }
#if defined(CONFIG_NIMBUS_DT_SENSORS)
    r = nimbus_zephyr_register_sensors(c, nimbus_zephyr_dt_sensors,
                                       nimbus_zephyr_dt_sensor_count);
    if (r != NIMBUS_OK) {
        return r;
    }
#endif
    client = c;
    return NIMBUS_OK;
}

nimbus_client_t *nimbus_zephyr_client(void)
{
    return client;
}

void nimbus_zephyr_lock(void)
{
    (void)k_mutex_lock(&client_lock, K_FOREVER);
}

void nimbus_zephyr_unlock(void)
{
    (void)k_mutex_unlock(&client_lock);
}

int32_t nimbus_zephyr_network_up(void)
{
    if (client == NULL) {
        return NIMBUS_ERR_INVALID_STATE;
    }
    nimbus_zephyr_lock();
    int32_t r = nimbus_network_up(client, nimbus_zephyr_now_ms());
    nimbus_zephyr_unlock();
    return r;
}

int32_t nimbus_zephyr_run_once(uint32_t max_wait_ms)
{
    static nimbus_state_t last = NIMBUS_STATE_STOPPED;
    nimbus_state_t state = NIMBUS_STATE_STOPPED;
    uint64_t next = 0;

    if (client == NULL) {
        return NIMBUS_ERR_INVALID_STATE;
    }
    nimbus_zephyr_lock();
    /* Before the link comes up, bring the addresses up to date: DHCP
     * may have changed them since the last connection. */
    if (nimbus_state(client, &state) == NIMBUS_OK && state == NIMBUS_STATE_CONNECTING &&
        last != NIMBUS_STATE_CONNECTING) {
        refresh_net_info();
    }
    last = state;
    uint64_t now = nimbus_zephyr_now_ms();
    nimbus_err_t r = nimbus_poll(client, now, &next);
    nimbus_zephyr_unlock();
    if (r != NIMBUS_OK) {
        LOG_DBG("nimbus_poll: %s", nimbus_strerror(r));
    }
    now = nimbus_zephyr_now_ms();
    uint64_t wait = next > now ? next - now : 0;
    if (wait > max_wait_ms) {
        wait = max_wait_ms;
    }
    if (wait > 0) {
        int32_t w = nimbus_zephyr_wait(&transport, (uint32_t)wait);
        LOG_DBG("state %d, waited up to %u ms: %d", (int)state, (unsigned)wait, (int)w);
    }
    return r;
}

#if defined(CONFIG_NIMBUS_THREAD)
static K_THREAD_STACK_DEFINE(nimbus_stack, CONFIG_NIMBUS_THREAD_STACK_SIZE);
static struct k_thread nimbus_thread;
static bool started;

static void nimbus_thread_main(void *a, void *b, void *c)
{
    ARG_UNUSED(a);
    ARG_UNUSED(b);
    ARG_UNUSED(c);

    nimbus_zephyr_lock();
    nimbus_err_t r = nimbus_connect(client, nimbus_zephyr_now_ms());
    nimbus_zephyr_unlock();
    if (r != NIMBUS_OK) {
        LOG_ERR("nimbus_connect: %s", nimbus_strerror(r));
        return;
    }
    for (;;) {
        (void)nimbus_zephyr_run_once(CONFIG_NIMBUS_MAX_WAIT_MS);
    }
}

int32_t nimbus_zephyr_start(void)
{
    if (client == NULL || started) {
        return NIMBUS_ERR_INVALID_STATE;
    }
    started = true;
    k_tid_t tid = k_thread_create(&nimbus_thread, nimbus_stack,
                                  K_THREAD_STACK_SIZEOF(nimbus_stack), nimbus_thread_main,
                                  NULL, NULL, NULL, CONFIG_NIMBUS_THREAD_PRIORITY, 0, K_NO_WAIT);
    (void)k_thread_name_set(tid, "nimbus");
    return NIMBUS_OK;
}
#endif
