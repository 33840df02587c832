/*
 * core_link.c - links the Rust core for rv32imc with every C API function
 * referenced, so `size` on the result shows the flash and RAM the core
 * adds to an ESP32-C3 image (the port's objects are sized apart). Never
 * run: start is only the linker's entry point, and every call gets NULL.
 */
#include <nimbus.h>

void start(void);
void start(void)
{
    nimbus_client_t *c = NULL;
    uint64_t wake = 0;

    (void)nimbus_init(c, NULL, NULL);
    (void)nimbus_buffer_len(NULL);
    (void)nimbus_register_handler(c, NULL, NULL, NULL);
    (void)nimbus_register_sensor(c, 0, NULL, NULL, NULL, NULL);
    (void)nimbus_set_device_info(c, NULL);
    (void)nimbus_connect(c, 0);
    (void)nimbus_poll(c, 0, &wake);
    (void)nimbus_state(c, NULL);
    (void)nimbus_respond(c, 0, 0, NULL, 0);
    (void)nimbus_report(c, NULL, 0, NULL);
    (void)nimbus_get_twin(c, NULL);
    (void)nimbus_publish_event(c, NULL, 0, 0, NULL);
    (void)nimbus_publish_reading(c, 0, 0, 0, 0, NULL);
    (void)nimbus_publish_sensor(c, 0, 0, NULL);
    (void)nimbus_set_telemetry_period(c, 0);
    (void)nimbus_network_up(c, 0);
    (void)nimbus_disconnect(c, 0);
    (void)nimbus_deinit(c);
    (void)nimbus_strerror(0);
    (void)nimbus_version();
    (void)nimbus_record_parse(NULL, 0, NULL);
    for (;;) {
    }
}
