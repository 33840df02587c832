/* ESP-IDF keeps the kernel headers under freertos/: stand-in redirect. */
#include "../../../include/semphr.h"
