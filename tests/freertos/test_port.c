/*
 * test_port.c - cmocka tests of the FreeRTOS port (ports/freertos) on the
 * stand-in kernel, with a scripted core (fake_core.c): the clock, the
 * hooks, the Nimbus task's waking rules, the lock and the thread-safe
 * calls, start/stop. The tests themselves run in a FreeRTOS task.
 * tests/freertos/run.sh builds and runs them (it also makes the test PKI
 * for the TLS set-up test).
 */
#define _GNU_SOURCE

#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_core.h"
#include "nimbus_freertos.h"
#include "standin.h"

#define DEADLINE_MS 3000u /* no single wait in a test may take longer */

static nimbus_freertos_t nf;
static uint8_t core_buffer[1024];

/* ------------------------------------------------------------ hooks */

static char log_text[4096];
static size_t log_len;
static int entropy_calls;

static void capture_log(void *user, nimbus_freertos_log_level_t level, const char *line)
{
    (void)user;
    fprintf(stderr, "    [port %d] %s\n", (int)level, line);
    int n = snprintf(log_text + log_len, sizeof log_text - log_len, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof log_text - log_len) {
        log_len += (size_t)n;
    }
}

static int fixed_entropy(void *user, uint8_t *out, size_t len)
{
    (void)user;
    entropy_calls++;
    memset(out, 0xa5, len);
    return 0;
}

static int urandom_entropy(void *user, uint8_t *out, size_t len)
{
    (void)user;
    entropy_calls++;
    return getentropy(out, len);
}

static void set_hooks(int (*entropy)(void *, uint8_t *, size_t))
{
    nimbus_freertos_hooks_t h = {.entropy = entropy, .log = capture_log};
    nimbus_freertos_set_hooks(&h);
    log_len = 0;
    log_text[0] = '\0';
    entropy_calls = 0;
}

/* ---------------------------------------------------------- helpers */

static nimbus_config_t core_config(void)
{
    nimbus_config_t c;
    memset(&c, 0, sizeof c);
    c.cloud = NIMBUS_CLOUD_AWS;
    c.device_id = "dev";
    c.keepalive_s = 60;
    c.memory.buffer = core_buffer;
    c.memory.len = sizeof core_buffer;
    return c;
}

/* A plain-TCP listener on 127.0.0.1 at an ephemeral port. */
static int listen_loopback(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static nimbus_net_config_t plain_net(uint16_t port)
{
    nimbus_net_config_t n;
    memset(&n, 0, sizeof n);
    n.host = "127.0.0.1";
    n.port = port;
    n.plain_tcp = true;
    n.connect_timeout_ms = DEADLINE_MS;
    return n;
}

/* Reads an int field of the fake core under the port's lock. */
static int fake_read(const int *field)
{
    assert_non_null(nimbus_freertos_lock(&nf, DEADLINE_MS));
    int v = *field;
    nimbus_freertos_unlock(&nf);
    return v;
}

/* Waits (bounded) until *field >= want, checking every 2 ms. */
static bool wait_field(const int *field, int want)
{
    uint64_t until = nimbus_freertos_now_ms() + DEADLINE_MS;
    while (fake_read(field) < want) {
        if (nimbus_freertos_now_ms() >= until) {
            return false;
        }
        vTaskDelay(pdMS_TO_TICKS(2));
    }
    return true;
}

/* Accepts the port's connection within the deadline; -1 if none came. */
static int accept_within(int lfd)
{
    uint64_t until = nimbus_freertos_now_ms() + DEADLINE_MS;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd >= 0 || nimbus_freertos_now_ms() >= until) {
            return fd;
        }
        vTaskDelay(pdMS_TO_TICKS(2));
    }
}

/* Starts the port with the fake core against a fresh listener. */
static void start_connected(int *lfd, int *peer)
{
    uint16_t port;
    nimbus_config_t cfg = core_config();
    nimbus_net_config_t net;

    set_hooks(urandom_entropy);
    fake_reset();
    *lfd = listen_loopback(&port);
    net = plain_net(port);
    assert_int_equal(nimbus_freertos_init(&nf, &cfg, &net), 0);
    assert_int_equal(nimbus_freertos_start(&nf, tskIDLE_PRIORITY + 2, 4096), 0);
    *peer = accept_within(*lfd);
    assert_true(*peer >= 0);
    assert_true(wait_field(&fake.connects, 1));
    /* The open completes on the core's next step: the socket became
     * writable, which wakes the task well before the 60 s wake-up. */
    uint64_t until = nimbus_freertos_now_ms() + DEADLINE_MS;
    for (;;) {
        assert_non_null(nimbus_freertos_lock(&nf, DEADLINE_MS));
        bool open = fake.open;
        nimbus_freertos_unlock(&nf);
        if (open) {
            break;
        }
        assert_true(nimbus_freertos_now_ms() < until);
        vTaskDelay(pdMS_TO_TICKS(2));
    }
}

static void stop_and_free(int lfd, int peer)
{
    assert_int_equal(nimbus_freertos_stop(&nf, DEADLINE_MS), 0);
    nimbus_freertos_deinit(&nf);
    if (peer >= 0) {
        close(peer);
    }
    close(lfd);
}

/* ------------------------------------------------------------ clock */

static void clock_counts_ms_across_the_tick_wrap(void **state)
{
    (void)state;
    uint64_t a = nimbus_freertos_now_ms();
    vTaskDelay(pdMS_TO_TICKS(20));
    uint64_t b = nimbus_freertos_now_ms();
    assert_true(b >= a + 20u && b < a + DEADLINE_MS);

    if (sizeof(TickType_t) >= 8) {
        /* 64-bit ticks (the kernel's POSIX simulator on a 64-bit host)
         * cannot wrap: the clock is the tick count in ms. */
        uint64_t ms = (uint64_t)xTaskGetTickCount() * 1000u / configTICK_RATE_HZ;
        uint64_t now = nimbus_freertos_now_ms();
        assert_true(now >= ms && now <= ms + 50u);
        return;
    }
    /* Jump to 10 ms before the 32-bit tick counter wraps, then past it. */
    uint64_t ticks = xTaskGetTickCount();
    vStandinAddTicks(((uint64_t)1 << 32) - ticks - 10u);
    uint64_t c = nimbus_freertos_now_ms();
    assert_true(c > b);
    vTaskDelay(pdMS_TO_TICKS(30));
    uint64_t d = nimbus_freertos_now_ms();
    assert_true(xTaskGetTickCount() < 10000u); /* the counter wrapped... */
    assert_true(d >= c + 30u);                 /* ...the clock did not */
    assert_true(d > ((uint64_t)1 << 32));
}

/* ------------------------------------------------------------ hooks */

static void random_and_hmac_go_through_hooks_and_mbedtls(void **state)
{
    (void)state;
    uint8_t mac[32];
    /* RFC 4231 test case 2. */
    static const uint8_t expect[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};

    set_hooks(fixed_entropy);
    assert_int_equal(nimbus_freertos_random_u32(NULL), 0xa5a5a5a5u);
    assert_int_equal(entropy_calls, 1);
    assert_int_equal(nimbus_freertos_hmac_sha256(NULL, (const uint8_t *)"Jefe", 4,
                                                 (const uint8_t *)"what do ya want for nothing?",
                                                 28, mac),
                     0);
    assert_memory_equal(mac, expect, sizeof expect);
    assert_int_equal(nimbus_freertos_hmac_sha256(NULL, NULL, 1, mac, 1, mac), -1);
    /* No wall clock hook: negative ("not known"). */
    assert_true(nimbus_freertos_unix_time_s(NULL) < 0);

    /* Without an entropy hook random numbers still vary (clock mixing)... */
    set_hooks(NULL);
    uint32_t r1 = nimbus_freertos_random_u32(NULL);
    vTaskDelay(pdMS_TO_TICKS(2));
    assert_int_not_equal(r1, nimbus_freertos_random_u32(NULL));
    /* ...and the log says why TLS cannot be set up. */
    assert_non_null(strstr(log_text, "no entropy hook"));
}

static void tls_setup_needs_entropy_and_reads_pem(void **state)
{
    (void)state;
    const char *certs = getenv("NIMBUS_TEST_CERTS");
    char path[512];
    static char ca[8192];
    nimbus_config_t cfg = core_config();
    nimbus_net_config_t net = plain_net(8883);

    assert_non_null(certs);
    snprintf(path, sizeof path, "%s/ca.crt", certs);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(ca, 1, sizeof ca - 1u, f);
    fclose(f);
    ca[n] = '\0';
    net.plain_tcp = false;
    net.host = "localhost";
    net.ca_pem = ca;

    set_hooks(NULL); /* no entropy: the DRBG cannot be seeded */
    fake_reset();
    assert_int_equal(nimbus_freertos_init(&nf, &cfg, &net), -31);
    assert_non_null(strstr(log_text, "ctr_drbg_seed"));
    assert_int_equal(fake.inits, 0);
    assert_null(nimbus_freertos_client(&nf));

    set_hooks(urandom_entropy);
    assert_int_equal(nimbus_freertos_init(&nf, &cfg, &net), 0);
    assert_true(entropy_calls > 0);
    assert_int_equal(fake.inits, 1);
    /* The port filled the platform functions the config left empty. */
    assert_ptr_equal(fake.platform.random_u32, nimbus_freertos_random_u32);
    assert_ptr_equal(fake.platform.hmac_sha256, nimbus_freertos_hmac_sha256);
    assert_ptr_equal(fake.platform.unix_time_s, nimbus_freertos_unix_time_s);
    nimbus_freertos_deinit(&nf);
}

/* ------------------------------------------------------------- init */

static void bad_arguments_and_states_are_refused(void **state)
{
    (void)state;
    nimbus_config_t cfg = core_config();
    nimbus_net_config_t net = plain_net(1);
    static nimbus_freertos_t idle;
    StackType_t stack[16];
    StaticTask_t tcb;

    set_hooks(urandom_entropy);
    fake_reset();
    assert_int_equal(nimbus_freertos_init(NULL, &cfg, &net), -1);
    assert_int_equal(nimbus_freertos_init(&idle, NULL, &net), -1);
    assert_int_equal(nimbus_freertos_init(&idle, &cfg, NULL), -1);
    net.host = NULL;
    assert_int_equal(nimbus_freertos_init(&idle, &cfg, &net), -1);
    net.host = "127.0.0.1";
    net.port = 0;
    assert_int_equal(nimbus_freertos_init(&idle, &cfg, &net), -2);
    assert_int_equal(fake.inits, 0);

    /* Nothing works on a client that was never set up. */
    assert_null(nimbus_freertos_lock(&idle, 10));
    assert_int_equal(nimbus_freertos_publish_event(&idle, (const uint8_t *)"x", 1, 0, NULL), -6);
    assert_int_equal(nimbus_freertos_publish_event(NULL, (const uint8_t *)"x", 1, 0, NULL), -1);
    assert_int_equal(nimbus_freertos_start(&idle, 1, 4096), -6);
    assert_int_equal(nimbus_freertos_start(NULL, 1, 4096), -1);
    assert_int_equal(nimbus_freertos_start_static(&idle, 1, 16, NULL, &tcb), -1);
    assert_int_equal(nimbus_freertos_start_static(&idle, 1, 16, stack, &tcb), -6);
    assert_int_equal(nimbus_freertos_stop(&idle, 10), 0); /* not running: fine */
    assert_int_equal(nimbus_freertos_stop(NULL, 10), -1);
    nimbus_freertos_deinit(&idle); /* harmless */
    nimbus_freertos_deinit(NULL);
}

/* ------------------------------------------------------------- task */

static void task_connects_and_stop_disconnects(void **state)
{
    (void)state;
    int lfd;
    int peer;
    uint8_t byte;

    unsigned tasks = uxStandinLiveTasks();
    start_connected(&lfd, &peer);
    assert_int_equal(uxStandinLiveTasks(), tasks + 1u);
    assert_int_equal(fake_read(&fake.connects), 1);
    /* A second start while running is refused. */
    assert_int_equal(nimbus_freertos_start(&nf, 2, 4096), -6);
    /* deinit while running is ignored: the client still works. */
    nimbus_freertos_deinit(&nf);
    assert_non_null(nimbus_freertos_lock(&nf, 10));
    nimbus_freertos_unlock(&nf);

    assert_int_equal(nimbus_freertos_stop(&nf, DEADLINE_MS), 0);
    assert_int_equal(fake.disconnects, 1);
    assert_int_equal(uxStandinLiveTasks(), tasks);
    /* The peer sees the connection closed. */
    uint64_t until = nimbus_freertos_now_ms() + DEADLINE_MS;
    ssize_t n;
    while ((n = recv(peer, &byte, 1, 0)) < 0 && errno == EAGAIN) {
        assert_true(nimbus_freertos_now_ms() < until);
        vTaskDelay(pdMS_TO_TICKS(2));
    }
    assert_int_equal(n, 0);
    assert_int_equal(nimbus_freertos_stop(&nf, DEADLINE_MS), 0); /* again: no-op */
    nimbus_freertos_deinit(&nf);
    assert_int_equal(fake.deinits, 1); /* the client was released too */
    close(peer);
    close(lfd);
}

static void socket_data_wakes_the_task(void **state)
{
    (void)state;
    int lfd;
    int peer;
    static const uint8_t hello[] = "hello from the broker";

    start_connected(&lfd, &peer);
    /* The core asked to sleep for 60 s: only the socket can wake it. */
    assert_int_equal(send(peer, hello, sizeof hello, 0), (ssize_t)sizeof hello);
    uint64_t until = nimbus_freertos_now_ms() + DEADLINE_MS;
    for (;;) {
        assert_non_null(nimbus_freertos_lock(&nf, DEADLINE_MS));
        size_t got = fake.rx_len;
        nimbus_freertos_unlock(&nf);
        if (got >= sizeof hello) {
            break;
        }
        assert_true(nimbus_freertos_now_ms() < until);
        vTaskDelay(pdMS_TO_TICKS(2));
    }
    assert_memory_equal(fake.rx, hello, sizeof hello);
    stop_and_free(lfd, peer);
}

static void calls_from_other_tasks_wake_the_task(void **state)
{
    (void)state;
    int lfd;
    int peer;
    uint32_t id = 0;

    start_connected(&lfd, &peer);
    int polls = fake_read(&fake.polls);
    uint16_t packet_id = 0;
    assert_int_equal(nimbus_freertos_publish_event(&nf, (const uint8_t *)"{}", 2, 1, &packet_id),
                     0);
    assert_int_equal(fake_read(&fake.events), 1);
    assert_int_equal(packet_id, 1); /* the core's result reaches the caller */
    /* The 60 s sleep is cut short so the event goes out now. */
    assert_true(wait_field(&fake.polls, polls + 1));

    polls = fake_read(&fake.polls);
    assert_int_equal(nimbus_freertos_report(&nf, "{\"a\":1}", 7, &id), 0);
    assert_int_equal(id, 1);
    assert_true(wait_field(&fake.polls, polls + 1));
    assert_int_equal(nimbus_freertos_get_twin(&nf, &id), 0);
    assert_int_equal(id, 99);
    assert_int_equal(nimbus_freertos_respond(&nf, 7, 200, NULL, 0), 0);
    assert_int_equal(nimbus_freertos_respond(&nf, 0, 200, NULL, 0), -2); /* core's answer */
    assert_int_equal(nimbus_freertos_publish_sensor(&nf, 0, 0, NULL), 0);
    assert_int_equal(nimbus_freertos_publish_sensor(&nf, 3, 0, NULL), -100);
    assert_int_equal(nimbus_freertos_publish_reading(&nf, 0, 2150, 2, 0, NULL), 0);
    assert_int_equal(nimbus_freertos_publish_reading(&nf, 0, 2150, 19, 0, NULL), -100);
    assert_int_equal(nimbus_freertos_set_telemetry_period(&nf, 1000), 0);
    int ups = fake.network_ups;
    assert_int_equal(nimbus_freertos_network_up(&nf), 0);
    assert_int_equal(fake.network_ups, ups + 1);
    stop_and_free(lfd, peer);
}

/* A task that holds the client lock until told to let go. */
static atomic_bool holder_has_lock;
static TaskHandle_t holder_waiter;

static void holder_task(void *arg)
{
    (void)arg;
    assert_non_null(nimbus_freertos_lock(&nf, DEADLINE_MS));
    holder_has_lock = true;
    (void)ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(DEADLINE_MS));
    holder_has_lock = false;
    nimbus_freertos_unlock(&nf);
    (void)xTaskNotifyGive(holder_waiter);
    vTaskDelete(NULL);
}

static void a_held_lock_makes_calls_busy(void **state)
{
    (void)state;
    int lfd;
    int peer;
    TaskHandle_t holder = NULL;

    start_connected(&lfd, &peer);
    holder_waiter = xTaskGetCurrentTaskHandle();
    holder_has_lock = false;
    assert_int_equal(xTaskCreate(holder_task, "holder", 4096, NULL, 2, &holder), pdPASS);
    uint64_t until = nimbus_freertos_now_ms() + DEADLINE_MS;
    while (!holder_has_lock) {
        assert_true(nimbus_freertos_now_ms() < until);
        vTaskDelay(pdMS_TO_TICKS(1));
    }
    /* NIMBUS_FREERTOS_LOCK_TIMEOUT_MS is 100 in this build. */
    uint64_t before = nimbus_freertos_now_ms();
    assert_int_equal(nimbus_freertos_publish_event(&nf, (const uint8_t *)"x", 1, 0, NULL), -5);
    assert_true(nimbus_freertos_now_ms() - before >= 100u);
    assert_null(nimbus_freertos_lock(&nf, 20));
    /* Once the holder lets go, calls go through again. */
    (void)xTaskNotifyGive(holder);
    assert_true(ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(DEADLINE_MS)) > 0);
    assert_int_equal(nimbus_freertos_publish_event(&nf, (const uint8_t *)"x", 1, 0, NULL), 0);
    stop_and_free(lfd, peer);
}

/* A callback (running in the Nimbus task with the lock held) that uses
 * the thread-safe calls: the recursive lock must let it through. */
static void publish_from_callback(nimbus_client_t *c)
{
    (void)c;
    if (fake.events == 0) {
        assert_int_equal(
            nimbus_freertos_publish_event(&nf, (const uint8_t *)"cb", 2, 0, NULL), 0);
    }
}

static void callbacks_may_use_the_thread_safe_calls(void **state)
{
    (void)state;
    int lfd;
    int peer;

    start_connected(&lfd, &peer);
    assert_non_null(nimbus_freertos_lock(&nf, DEADLINE_MS));
    fake.on_poll = publish_from_callback;
    nimbus_freertos_unlock(&nf); /* wakes the task: it polls */
    assert_true(wait_field(&fake.events, 1));
    stop_and_free(lfd, peer);
}

static void static_start_and_restart(void **state)
{
    (void)state;
    static StackType_t stack[4096];
    static StaticTask_t tcb;
    uint16_t port;
    nimbus_config_t cfg = core_config();

    set_hooks(urandom_entropy);
    fake_reset();
    int lfd = listen_loopback(&port);
    nimbus_net_config_t net = plain_net(port);
    assert_int_equal(nimbus_freertos_init(&nf, &cfg, &net), 0);
    for (int round = 1; round <= 2; round++) {
        assert_int_equal(nimbus_freertos_start_static(&nf, 2, 4096, stack, &tcb), 0);
        int peer = accept_within(lfd);
        assert_true(peer >= 0);
        assert_true(wait_field(&fake.connects, round));
        assert_int_equal(nimbus_freertos_stop(&nf, DEADLINE_MS), 0);
        assert_int_equal(fake.disconnects, round);
        fake.open = false; /* the next start opens afresh */
        close(peer);
    }
    nimbus_freertos_deinit(&nf);
    close(lfd);
}

/* ------------------------------------------------------------- main */

static int result = 1;

static void test_task(void *arg)
{
    (void)arg;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clock_counts_ms_across_the_tick_wrap),
        cmocka_unit_test(random_and_hmac_go_through_hooks_and_mbedtls),
        cmocka_unit_test(tls_setup_needs_entropy_and_reads_pem),
        cmocka_unit_test(bad_arguments_and_states_are_refused),
        cmocka_unit_test(task_connects_and_stop_disconnects),
        cmocka_unit_test(socket_data_wakes_the_task),
        cmocka_unit_test(calls_from_other_tasks_wake_the_task),
        cmocka_unit_test(a_held_lock_makes_calls_busy),
        cmocka_unit_test(callbacks_may_use_the_thread_safe_calls),
        cmocka_unit_test(static_start_and_restart),
    };
    result = cmocka_run_group_tests_name("freertos port", tests, NULL, NULL);
    vTaskEndScheduler();
    vTaskDelete(NULL);
}

void vAssertCalled(const char *file, unsigned long line)
{
    fprintf(stderr, "configASSERT failed at %s:%lu\n", file, line);
    abort();
}

int main(void)
{
    if (xTaskCreate(test_task, "tests", 16384, NULL, 1, NULL) != pdPASS) {
        return 1;
    }
    vTaskStartScheduler();
    return result;
}
