/*
 * A firmware that takes its identity and connection settings from the
 * provisioning record flashed at the factory (`nimbus provision write`),
 * read in place from memory-mapped flash: no copy, no heap. The README
 * shows this code; the test suite compiles it (tests/c/run.sh).
 */
#include <stdint.h>

#include "nimbus.h"
#include "nimbus_net.h"

void log_error(const char *format, ...);
int app_configure(nimbus_config_t *config, nimbus_net_config_t *net);

#define RECORD_ADDR 0x000FC000u      /* the record's flash partition */
#define RECORD_SIZE 4096u

int app_configure(nimbus_config_t *config, nimbus_net_config_t *net) {
    static nimbus_record_t rec;      /* its strings point into flash */
    nimbus_err_t err = nimbus_record_parse((const uint8_t *)RECORD_ADDR, RECORD_SIZE, &rec);
    if (err != NIMBUS_OK) {
        log_error("provisioning record: %s", nimbus_strerror(err));
        return -1;
    }
    config->cloud = rec.cloud;
    config->device_id = rec.device_id;
    config->module_id = rec.module_id;       /* NULL when absent, as the config wants */
    config->shadow_name = rec.shadow_name;
    config->sas_key = rec.sas_key;
    if (rec.cloud == NIMBUS_CLOUD_AZURE)
        config->hub_host = rec.host;         /* on Azure the server is the hub */
    net->host = rec.host;
    net->port = rec.port;
    net->ca_pem = rec.ca_pem;
    net->cert_pem = rec.cert_pem;
    net->key_pem = rec.key_pem;
    return 0;
}
